#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "portcullis.hpp"

using namespace std::chrono_literals;
using portcullis::Outcome;
using portcullis::Status;

static_assert(!std::is_copy_constructible_v<portcullis::CountWindow>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::CountWindow>, "moves never throw");
static_assert(!std::is_copy_constructible_v<portcullis::TimeWindow>, "handles are move-only");

TEST(CountWindow, CountsTheLastNOutcomes) {
    auto made = portcullis::CountWindow::create({3});
    ASSERT_TRUE(made.ok());
    portcullis::CountWindow w = std::move(made).value();
    EXPECT_EQ(w.record(Outcome::Failure), Status::Ok);
    EXPECT_EQ(w.record(Outcome::SlowSuccess), Status::Ok);
    EXPECT_EQ(w.record(Outcome::Success), Status::Ok);
    EXPECT_EQ(w.record(Outcome::Success), Status::Ok);  // evicts the failure
    auto c = w.counts();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.value().calls, 3u);
    EXPECT_EQ(c.value().failures, 0u);
    EXPECT_EQ(c.value().slow, 1u);
    EXPECT_EQ(w.record(static_cast<Outcome>(77)), Status::InvalidArgument);
    EXPECT_EQ(w.reset(), Status::Ok);
    EXPECT_EQ(w.counts().value().calls, 0u);
}

TEST(CountWindow, MoveTransfersOwnership) {
    auto made = portcullis::CountWindow::create();
    ASSERT_TRUE(made.ok());
    portcullis::CountWindow a = std::move(made).value();
    const pcl_count_window *raw = a.capi();
    portcullis::CountWindow b = std::move(a);
    EXPECT_EQ(b.capi(), raw);
    EXPECT_EQ(a.capi(), nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    // A moved-from handle answers NULL_ARGUMENT instead of crashing.
    EXPECT_EQ(a.record(Outcome::Success), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
}

TEST(CountWindow, InvalidConfigIsAStatus) {
    auto zero = portcullis::CountWindow::create({0});
    EXPECT_FALSE(zero.ok());
    EXPECT_EQ(zero.status(), Status::InvalidWindowSize);
    auto huge = portcullis::CountWindow::create({PCL_COUNT_WINDOW_MAX_SIZE + 1});
    EXPECT_EQ(huge.status(), Status::InvalidWindowSize);
}

TEST(CountWindow, ViewOverCallerMemory) {
    alignas(portcullis::CountWindowView::alignment) static unsigned char mem[portcullis::CountWindowView::size];
    auto small = portcullis::CountWindowView::init(mem, sizeof mem - 1);
    EXPECT_EQ(small.status(), Status::BufferTooSmall);
    auto view = portcullis::CountWindowView::init(mem, sizeof mem, {10});
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(view.value().record(Outcome::SlowFailure), Status::Ok);
    // A second view attached to the same memory sees the same window.
    auto other = portcullis::CountWindowView::attach(mem);
    EXPECT_EQ(other.counts().value().failures, 1u);
}

TEST(TimeWindow, ExplicitTimePointsAndExpiry) {
    auto made = portcullis::TimeWindow::create({400ns, 4});
    ASSERT_TRUE(made.ok());
    portcullis::TimeWindow w = std::move(made).value();
    const portcullis::TimePoint t0{};
    EXPECT_EQ(w.record(Outcome::Failure, t0 + 250ns), Status::Ok);
    EXPECT_EQ(w.counts(t0 + 599ns).value().failures, 1u);
    EXPECT_EQ(w.counts(t0 + 600ns).value().failures, 0u);
    EXPECT_EQ(w.record(Outcome::Failure, t0 + 1000ns), Status::Ok);
    EXPECT_EQ(w.record(Outcome::Failure, t0 + 100ns), Status::NotCounted);
    EXPECT_EQ(w.reset(), Status::Ok);
}

TEST(TimeWindow, NowOverloadsAndInvalidConfig) {
    auto made = portcullis::TimeWindow::create();
    ASSERT_TRUE(made.ok());
    EXPECT_EQ(made.value().record(Outcome::Success), Status::Ok);
    EXPECT_EQ(made.value().counts().value().calls, 1u);
    EXPECT_EQ(portcullis::TimeWindow::create({0ns, 10}).status(), Status::InvalidWindowDuration);
    EXPECT_EQ(portcullis::TimeWindow::create({1001ns, 10}).status(), Status::InvalidWindowDuration);
    EXPECT_EQ(portcullis::TimeWindow::create({10s, 0}).status(), Status::InvalidWindowBuckets);
}

TEST(TimeWindow, ViewOverCallerMemory) {
    constexpr std::size_t size = portcullis::TimeWindowView::size;
    alignas(portcullis::TimeWindowView::alignment) static unsigned char mem[size + 64];
    auto misaligned = portcullis::TimeWindowView::init(mem + 64, size);
    EXPECT_EQ(misaligned.status(), Status::Misaligned);
    auto view = portcullis::TimeWindowView::init(mem, size);
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(view.value().record(Outcome::Failure, portcullis::now()), Status::Ok);
    EXPECT_EQ(view.value().counts().value().failures, 1u);
}
