#include <gtest/gtest.h>

#include <utility>

#include "portcullis.hpp"

using namespace std::chrono_literals;
using portcullis::Status;

TEST(Bulkhead, PermitsAreGivenBackOnDestruction) {
    auto made = portcullis::Bulkhead::create({2});
    ASSERT_TRUE(made.ok());
    const portcullis::Bulkhead b = std::move(made).value();
    {
        auto p = b.try_acquire(2);
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(p.value().permits(), 2u);
        EXPECT_EQ(b.try_acquire(1).status(), Status::NoPermits);
        EXPECT_EQ(b.stats().value().in_flight, 2u);
    }
    EXPECT_EQ(b.stats().value().in_flight, 0u);
    EXPECT_EQ(b.try_acquire(3).status(), Status::ExceedsCapacity);
}

TEST(Bulkhead, UncountedRefusalsWriteNothing) {
    portcullis::BulkheadConfig config;
    config.limit = 1;
    config.count_refusals = false;
    auto made = portcullis::Bulkhead::create(config);
    ASSERT_TRUE(made.ok());
    const portcullis::Bulkhead b = std::move(made).value();
    auto held = b.try_acquire(1);
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(b.try_acquire(1).status(), Status::NoPermits);
    const auto s = b.stats().value();
    EXPECT_EQ(s.admitted, 1u);
    EXPECT_EQ(s.rejected, 0u);
}

TEST(Bulkhead, ExplicitReleaseMoveAndTimedAcquire) {
    auto made = portcullis::Bulkhead::create({1});
    ASSERT_TRUE(made.ok());
    const portcullis::Bulkhead b = std::move(made).value();
    auto first = b.try_acquire();
    ASSERT_TRUE(first.ok());
    portcullis::BulkheadPermit moved = std::move(first).value();
    EXPECT_EQ(b.acquire_for(1, 1ms).status(), Status::NoPermits);
    EXPECT_EQ(moved.release(), Status::Ok);
    EXPECT_EQ(moved.release(), Status::Ok);  // a second release does nothing
    EXPECT_EQ(moved.permits(), 0u);
    auto again = b.acquire_for(1, 1ms);
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(b.resize(PCL_BULKHEAD_MAX_LIMIT + 1), Status::InvalidBulkheadLimit);
    EXPECT_EQ(portcullis::Bulkhead::create({PCL_BULKHEAD_MAX_LIMIT + 1}).status(), Status::InvalidBulkheadLimit);
}

TEST(Bulkhead, ViewOverSharedMemory) {
    alignas(portcullis::BulkheadView::alignment) static unsigned char mem[portcullis::BulkheadView::size];
    auto v = portcullis::BulkheadView::init(mem, sizeof mem, {1});
    ASSERT_TRUE(v.ok());
    auto p = v.value().try_acquire();
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(portcullis::BulkheadView::attach(mem).try_acquire().status(), Status::NoPermits);
}

TEST(Health, HysteresisThroughTheWrapper) {
    auto made = portcullis::HealthMachine::create();
    ASSERT_TRUE(made.ok());
    const portcullis::HealthMachine h = std::move(made).value();
    const portcullis::TimePoint t0{};
    for (int i = 0; i < 2; i++) EXPECT_FALSE(h.record(false, t0).value().changed());
    auto tr = h.record(false, t0);
    ASSERT_TRUE(tr.ok());
    EXPECT_EQ(tr.value().to, portcullis::HealthState::Degraded);
    EXPECT_EQ(h.state().value(), portcullis::HealthState::Degraded);
    EXPECT_EQ(h.next_check(t0 + 1s).value(), 4s);
    pcl_health_config bad = pcl_health_config_default();
    bad.recover_after[0] = bad.degrade_after[0];
    EXPECT_EQ(portcullis::HealthMachine::create(bad).status(), Status::InvalidHealthRecoverAfter);
}

TEST(Health, ViewInCallerMemoryAndEveryInvalidConfig) {
    EXPECT_EQ(portcullis::HealthMachineView::size, pcl_health_size());
    EXPECT_EQ(portcullis::HealthMachineView::alignment, pcl_health_align());
    constexpr std::size_t size = portcullis::HealthMachineView::size;
    alignas(portcullis::HealthMachineView::alignment) static unsigned char mem[size + 8];
    EXPECT_EQ(portcullis::HealthMachineView::init(mem, size - 1).status(), Status::BufferTooSmall);
    EXPECT_EQ(portcullis::HealthMachineView::init(mem + 4, size).status(), Status::Misaligned);
    pcl_health_config c = pcl_health_config_default();
    c.initial_state = PCL_HEALTH_CRITICAL;
    auto v = portcullis::HealthMachineView::init(mem, size, c);
    ASSERT_TRUE(v.ok());
    const portcullis::TimePoint t0{};
    EXPECT_EQ(v.value().next_check(t0).value(), 0s);  // no result yet: due now
    EXPECT_TRUE(v.value().record(true, t0).ok());
    EXPECT_EQ(v.value().next_check(t0 + 400ms).value(), 600ms);  // Critical: every second
    const auto other = portcullis::HealthMachineView::attach(mem);
    EXPECT_EQ(other.state().value(), portcullis::HealthState::Critical);
    EXPECT_EQ(other.reset(), Status::Ok);

    auto with = [](auto change) {
        pcl_health_config h = pcl_health_config_default();
        change(h);
        return portcullis::HealthMachine::create(h).status();
    };
    EXPECT_EQ(with([](pcl_health_config &h) { h.degrade_after[1] = 0; }), Status::InvalidHealthDegradeAfter);
    EXPECT_EQ(with([](pcl_health_config &h) { h.recover_after[2] = 0; }), Status::InvalidHealthRecoverAfter);
    EXPECT_EQ(with([](pcl_health_config &h) { h.check_interval_ns[3] = 0; }), Status::InvalidHealthCheckInterval);
    EXPECT_EQ(with([](pcl_health_config &h) { h.initial_state = 4; }), Status::InvalidHealthInitialState);

    auto made = portcullis::HealthMachine::create();
    ASSERT_TRUE(made.ok());
    portcullis::HealthMachine a = std::move(made).value();
    portcullis::HealthMachine b = std::move(a);
    EXPECT_EQ(a.state().status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(b.state().value(), portcullis::HealthState::Healthy);
}

TEST(Deadline, RemainingChildAndRetry) {
    const portcullis::TimePoint t0{};
    const auto d = portcullis::Deadline::after(1s, t0);
    EXPECT_EQ(d.remaining(t0 + 400ms).value(), 600ms);
    EXPECT_EQ(d.remaining(t0 + 1s).status(), Status::Expired);
    EXPECT_EQ(d.child(100ms).remaining(t0).value(), 900ms);
    EXPECT_TRUE(d.retry_allowed(800ms, 100ms, t0 + 100ms));
    EXPECT_FALSE(d.retry_allowed(801ms, 100ms, t0 + 100ms));
    EXPECT_TRUE(portcullis::Deadline::never().remaining().ok());
}
