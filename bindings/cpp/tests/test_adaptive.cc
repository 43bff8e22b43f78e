#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "portcullis.hpp"

using namespace std::chrono_literals;
using portcullis::Status;

static_assert(!std::is_copy_constructible_v<portcullis::AimdLimit>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::AimdLimit>, "moves never throw");
static_assert(!std::is_copy_constructible_v<portcullis::GradientLimit>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::GradientLimit>, "moves never throw");

TEST(AimdLimit, IncreasesPerRoundAndBacksOffOnOverload) {
    pcl_aimd_config c = pcl_aimd_config_default();
    c.initial = 4;
    auto made = portcullis::AimdLimit::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::AimdLimit a = std::move(made).value();
    // One round of 4 fast samples at full concurrency raises the limit by 1.
    for (int i = 0; i < 3; i++) EXPECT_FALSE(a.record(5ms, 4).value());
    EXPECT_TRUE(a.record(5ms, 4).value());
    EXPECT_EQ(a.limit().value(), 5u);
    // An overload (slower than the 100 ms threshold, or dropped) backs off once per round.
    EXPECT_TRUE(a.record(101ms, 5).value());
    EXPECT_TRUE(a.record(1ms, 5, true).ok());
    EXPECT_EQ(a.limit().value(), 4u);
}

TEST(AimdLimit, FeedResizesAHeapBulkheadOrAView) {
    pcl_aimd_config c = pcl_aimd_config_default();
    c.initial = 4;
    auto made = portcullis::AimdLimit::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::AimdLimit a = std::move(made).value();
    auto bm = portcullis::Bulkhead::create({4});
    ASSERT_TRUE(bm.ok());
    portcullis::Bulkhead b = std::move(bm).value();
    uint32_t limit = 0;
    for (int i = 0; i < 4; i++) limit = a.feed(b, 5ms, 4).value();
    EXPECT_EQ(limit, 5u);
    EXPECT_EQ(b.stats().value().limit, 5u);

    alignas(portcullis::BulkheadView::alignment) static unsigned char mem[portcullis::BulkheadView::size];
    auto v = portcullis::BulkheadView::init(mem, sizeof mem, {5});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(a.feed(v.value(), 200ms, 5).value(), 4u);  // ×0.9 of 5, rounded down
    EXPECT_EQ(v.value().stats().value().limit, 4u);

    portcullis::Bulkhead moved = std::move(b);  // a moved-from bulkhead is refused, nothing learnt
    EXPECT_EQ(a.feed(b, 5ms, 4).status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(moved.stats().value().limit, 5u);
}

TEST(GradientLimit, FallsWithRisingLatencyAndFeedsABulkhead) {
    pcl_gradient_config c = pcl_gradient_config_default();
    c.probe_interval = 0;
    auto made = portcullis::GradientLimit::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::GradientLimit g = std::move(made).value();
    EXPECT_EQ(g.limit().value(), 20u);
    auto bm = portcullis::Bulkhead::create({20});
    ASSERT_TRUE(bm.ok());
    const portcullis::Bulkhead b = std::move(bm).value();
    for (int i = 0; i < 200; i++) ASSERT_TRUE(g.feed(b, 10ms, 20).ok());
    uint32_t limit = 0;
    for (int i = 0; i < 2000; i++) limit = g.feed(b, 100ms, 20).value();
    EXPECT_LT(limit, 20u);
    EXPECT_GE(limit, 3u);  // never below the floor
    EXPECT_EQ(b.stats().value().limit, limit);
    EXPECT_TRUE(g.record(100ms, 20, true).ok());
}

TEST(Adaptive, EveryInvalidConfigIsItsOwnStatus) {
    const pcl_aimd_config ag = pcl_aimd_config_default();
    auto aimd = [&ag](auto change) {
        pcl_aimd_config c = ag;
        change(c);
        return portcullis::AimdLimit::create(c).status();
    };
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.ceiling = 0; }), Status::InvalidAdaptiveCeiling);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.ceiling = PCL_ADAPTIVE_MAX_CEILING + 1; }), Status::InvalidAdaptiveCeiling);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.floor = 0; }), Status::InvalidAdaptiveFloor);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.floor = 201; }), Status::InvalidAdaptiveFloor);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.initial = 201; }), Status::InvalidAdaptiveInitial);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.latency_threshold_ns = 0; }), Status::InvalidAdaptiveLatencyThreshold);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.increase = 0; }), Status::InvalidAdaptiveIncrease);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.backoff_permille = 1000; }), Status::InvalidAdaptiveBackoff);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.backoff_permille = 499; }), Status::InvalidAdaptiveBackoff);
    EXPECT_EQ(aimd([](pcl_aimd_config &c) { c.size = sizeof c - 1; }), Status::VersionMismatch);
    EXPECT_TRUE(portcullis::AimdLimit::create().ok());

    const pcl_gradient_config gg = pcl_gradient_config_default();
    auto gradient = [&gg](auto change) {
        pcl_gradient_config c = gg;
        change(c);
        return portcullis::GradientLimit::create(c).status();
    };
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.ceiling = 0; }), Status::InvalidAdaptiveCeiling);
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.floor = 0; }), Status::InvalidAdaptiveFloor);
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.initial = 1; }), Status::InvalidAdaptiveInitial);
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.queue_size = 201; }), Status::InvalidAdaptiveQueueSize);
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.smoothing_permille = 0; }), Status::InvalidAdaptiveSmoothing);
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.tolerance_permille = 999; }), Status::InvalidAdaptiveTolerance);
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.probe_interval = 1u << 27; }), Status::InvalidAdaptiveProbeInterval);
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.probe_samples = 0; }), Status::InvalidAdaptiveProbeSamples);
    EXPECT_EQ(gradient([](pcl_gradient_config &c) { c.size = sizeof c - 1; }), Status::VersionMismatch);
    EXPECT_TRUE(portcullis::GradientLimit::create().ok());
}

TEST(Adaptive, MovedFromHandlesAreEmptyAndSafe) {
    auto am = portcullis::AimdLimit::create();
    ASSERT_TRUE(am.ok());
    portcullis::AimdLimit a = std::move(am).value();
    portcullis::AimdLimit a2 = std::move(a);
    EXPECT_EQ(a.capi(), nullptr);                              // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.limit().status(), Status::NullArgument);       // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.record(1ms, 1).status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a2.limit().value(), 10u);

    auto gm = portcullis::GradientLimit::create();
    ASSERT_TRUE(gm.ok());
    portcullis::GradientLimit g = std::move(gm).value();
    portcullis::GradientLimit g2 = std::move(g);
    EXPECT_EQ(g.limit().status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(g2.limit().value(), 20u);
}

TEST(Adaptive, ViewsInCallerMemory) {
    EXPECT_EQ(portcullis::AimdLimitView::size, pcl_aimd_size());
    EXPECT_EQ(portcullis::AimdLimitView::alignment, pcl_aimd_align());
    EXPECT_EQ(portcullis::GradientLimitView::size, pcl_gradient_size());
    EXPECT_EQ(portcullis::GradientLimitView::alignment, pcl_gradient_align());

    alignas(portcullis::AimdLimitView::alignment) static unsigned char amem[portcullis::AimdLimitView::size + 8];
    EXPECT_EQ(portcullis::AimdLimitView::init(amem, portcullis::AimdLimitView::size - 1).status(), Status::BufferTooSmall);
    EXPECT_EQ(portcullis::AimdLimitView::init(amem + 4, portcullis::AimdLimitView::size).status(), Status::Misaligned);
    pcl_aimd_config ac = pcl_aimd_config_default();
    ac.initial = 1;
    auto av = portcullis::AimdLimitView::init(amem, portcullis::AimdLimitView::size, ac);
    ASSERT_TRUE(av.ok());
    EXPECT_TRUE(av.value().record(1ms, 1).value());  // a round of one sample: 1 → 2
    EXPECT_EQ(portcullis::AimdLimitView::attach(amem).limit().value(), 2u);

    alignas(portcullis::GradientLimitView::alignment) static unsigned char gmem[portcullis::GradientLimitView::size + 8];
    EXPECT_EQ(portcullis::GradientLimitView::init(gmem + 4, portcullis::GradientLimitView::size).status(),
              Status::Misaligned);
    auto gv = portcullis::GradientLimitView::init(gmem, portcullis::GradientLimitView::size);
    ASSERT_TRUE(gv.ok());
    EXPECT_EQ(portcullis::GradientLimitView::attach(gmem).limit().value(), 20u);
}
