#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "portcullis.hpp"

namespace header_check {
bool versions_a();
bool versions_b();
}  // namespace header_check

using portcullis::Status;

TEST(Basics, HeaderIncludedFromTwoTranslationUnits) {
    EXPECT_TRUE(header_check::versions_a());
    EXPECT_TRUE(header_check::versions_b());
}

TEST(Basics, StatusStringsAndErrorClasses) {
    EXPECT_STREQ(portcullis::to_string(Status::Ok), "ok");
    EXPECT_FALSE(portcullis::is_error(Status::RateLimited));
    EXPECT_TRUE(portcullis::is_error(Status::NullArgument));
    EXPECT_TRUE(portcullis::is_error(Status::Panic));
    EXPECT_STRNE(portcullis::to_string(Status::RejectedOpen), portcullis::to_string(Status::NoPermits));
}

TEST(Basics, SteadyClockIsTheClockOfPclNowNs) {
    const uint64_t before = pcl_now_ns();
    const uint64_t mid = portcullis::to_ns(portcullis::Clock::now());
    const uint64_t after = pcl_now_ns();
    EXPECT_LE(before, mid);
    EXPECT_LE(mid, after);
    const uint64_t wrapped = portcullis::to_ns(portcullis::now());
    EXPECT_GE(wrapped, after);
    EXPECT_EQ(portcullis::to_ns(std::chrono::milliseconds(-5)), 0u);
    EXPECT_EQ(portcullis::to_ns(std::chrono::microseconds(7)), 7000u);
}

TEST(Basics, ResultHoldsAValueOrAStatus) {
    portcullis::Result<int> good(42);
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(good.value(), 42);
    EXPECT_EQ(good.status(), Status::Ok);
    portcullis::Result<int> bad(Status::InvalidWindowSize);
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.status(), Status::InvalidWindowSize);
    portcullis::Result<std::string> moved_from(std::string("payload"));
    portcullis::Result<std::string> moved(std::move(moved_from));
    ASSERT_TRUE(moved.ok());
    EXPECT_EQ(moved.value(), "payload");
}
