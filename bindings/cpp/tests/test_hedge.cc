#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "portcullis.hpp"

using namespace std::chrono_literals;
using portcullis::Deadline;
using portcullis::Status;

static_assert(!std::is_copy_constructible_v<portcullis::Histogram>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::Histogram>, "moves never throw");
static_assert(!std::is_copy_constructible_v<portcullis::HedgePolicy>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::HedgePolicy>, "moves never throw");

namespace {
const portcullis::TimePoint t0{};
}  // namespace

TEST(Histogram, PercentilesCountAndReset) {
    auto made = portcullis::Histogram::create();
    ASSERT_TRUE(made.ok());
    const portcullis::Histogram h = std::move(made).value();
    EXPECT_EQ(h.percentile(500000).status(), Status::Empty);
    for (int i = 1; i <= 40; i++) EXPECT_EQ(h.record(std::chrono::nanoseconds(i)), Status::Ok);
    EXPECT_EQ(h.count().value(), 40u);
    EXPECT_EQ(h.percentile(500000).value(), 20ns);
    EXPECT_EQ(h.percentile(950000).value(), 38ns);
    EXPECT_EQ(h.percentile(2000000).value(), 40ns);  // above 10^6 reads as the maximum
    EXPECT_EQ(h.record(-5ms), Status::Ok);           // a negative latency counts as 0
    EXPECT_EQ(h.percentile(0).value(), 0ns);

    EXPECT_EQ(h.reset(), Status::Ok);
    EXPECT_EQ(h.count().value(), 0u);
    EXPECT_EQ(h.record(123456789ns), Status::Ok);
    const auto v = h.percentile(1000000).value();
    EXPECT_GE(v, 123456789ns - 123456789ns / 64);  // within PCL_HISTOGRAM_RELATIVE_ERROR_PPM
    EXPECT_LE(v, 123456789ns + 123456789ns / 64);
}

TEST(Histogram, MovedFromHandleAndViewInCallerMemory) {
    auto made = portcullis::Histogram::create();
    ASSERT_TRUE(made.ok());
    portcullis::Histogram a = std::move(made).value();
    portcullis::Histogram b = std::move(a);
    EXPECT_EQ(a.capi(), nullptr);                                // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.record(1ms), Status::NullArgument);              // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.count().status(), Status::NullArgument);         // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(b.record(1ms), Status::Ok);

    EXPECT_EQ(portcullis::HistogramView::size, pcl_histogram_size());
    EXPECT_EQ(portcullis::HistogramView::alignment, pcl_histogram_align());
    constexpr std::size_t size = portcullis::HistogramView::size;
    alignas(portcullis::HistogramView::alignment) static unsigned char mem[size + 8];
    EXPECT_EQ(portcullis::HistogramView::init(mem, size - 1).status(), Status::BufferTooSmall);
    EXPECT_EQ(portcullis::HistogramView::init(mem + 4, size).status(), Status::Misaligned);
    auto v = portcullis::HistogramView::init(mem, size);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value().record(5ns), Status::Ok);
    EXPECT_EQ(portcullis::HistogramView::attach(mem).count().value(), 1u);
}

TEST(HedgePolicy, DelayLimitsAndBudget) {
    pcl_hedge_config c = pcl_hedge_config_default();
    c.max_hedges = 2;
    c.budget_burst = 2;
    c.budget_ratio_ppm = 0;
    auto made = portcullis::HedgePolicy::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::HedgePolicy p = std::move(made).value();
    EXPECT_EQ(p.on_call(), Status::Ok);
    // Too few samples: the static delay (50 ms by default).
    EXPECT_EQ(p.decide(0, Deadline::never(), t0).value(), 50ms);
    EXPECT_EQ(p.decide(0, Deadline(t0 + 50ms), t0).status(), Status::HedgeDeadlineTooClose);
    EXPECT_EQ(p.decide(0, Deadline(t0 + 51ms), t0).value(), 50ms);
    EXPECT_EQ(p.decide(2, Deadline::never(), t0).status(), Status::HedgeMaxHedges);
    // The budget holds 2 hedges and earns none.
    EXPECT_EQ(p.try_launch(0), Status::Ok);
    EXPECT_EQ(p.try_launch(1), Status::Ok);
    EXPECT_EQ(p.try_launch(2), Status::HedgeMaxHedges);
    EXPECT_EQ(p.try_launch(0), Status::HedgeBudgetExhausted);
    EXPECT_EQ(p.decide(0, Deadline::never(), t0).status(), Status::HedgeBudgetExhausted);
    EXPECT_EQ(p.decide(0).status(), Status::HedgeBudgetExhausted);
}

TEST(HedgePolicy, LivePercentilesSetTheDelay) {
    auto made = portcullis::HedgePolicy::create();
    ASSERT_TRUE(made.ok());
    const portcullis::HedgePolicy p = std::move(made).value();
    for (int i = 0; i < 200; i++) EXPECT_EQ(p.record_latency(10ms, t0), Status::Ok);
    const auto d = p.decide(0, Deadline::never(), t0);
    ASSERT_TRUE(d.ok());
    constexpr std::chrono::nanoseconds error = 10000000ns / 64;  // the histogram's relative error
    EXPECT_GE(d.value(), 10ms - error);                           // p50 = p95 = 10 ms
    EXPECT_LE(d.value(), 10ms + error);
    EXPECT_EQ(p.record_latency(10ms), Status::Ok);
    EXPECT_TRUE(p.decide(0).ok());
}

TEST(HedgePolicy, EveryInvalidConfigIsItsOwnStatus) {
    const pcl_hedge_config good = pcl_hedge_config_default();
    auto with = [&good](auto change) {
        pcl_hedge_config c = good;
        change(c);
        return portcullis::HedgePolicy::create(c).status();
    };
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.low_ppm = 1000001; }), Status::InvalidHedgeLowPpm);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.high_ppm = 1000001; }), Status::InvalidHedgeHighPpm);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.high_ppm = 1; }), Status::InvalidHedgeHighPpm);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.weight_ppm = 1000001; }), Status::InvalidHedgeWeightPpm);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.max_delay_ns = 0; }), Status::InvalidHedgeMaxDelay);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.max_hedges = 0; }), Status::InvalidHedgeMaxHedges);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.max_hedges = PCL_HEDGE_MAX_HEDGES + 1; }), Status::InvalidHedgeMaxHedges);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.refresh_interval_ns = 0; }), Status::InvalidHedgeRefreshInterval);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.window_ns = 0; }), Status::InvalidHedgeWindow);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.budget_ratio_ppm = 1000001; }), Status::InvalidHedgeBudgetRatio);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.budget_burst = 0; }), Status::InvalidHedgeBudgetBurst);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.budget_burst = 1000001; }), Status::InvalidHedgeBudgetBurst);
    EXPECT_EQ(with([](pcl_hedge_config &c) { c.size = sizeof c - 1; }), Status::VersionMismatch);
}

TEST(HedgePolicy, MovedFromHandleAndViewInCallerMemory) {
    auto made = portcullis::HedgePolicy::create();
    ASSERT_TRUE(made.ok());
    portcullis::HedgePolicy a = std::move(made).value();
    portcullis::HedgePolicy b = std::move(a);
    EXPECT_EQ(a.capi(), nullptr);                                      // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.on_call(), Status::NullArgument);                      // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.decide(0, Deadline::never(), t0).status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(b.on_call(), Status::Ok);

    EXPECT_EQ(portcullis::HedgePolicyView::size, pcl_hedge_policy_size());
    EXPECT_EQ(portcullis::HedgePolicyView::alignment, pcl_hedge_policy_align());
    constexpr std::size_t size = portcullis::HedgePolicyView::size;
    alignas(portcullis::HedgePolicyView::alignment) static unsigned char mem[size + 128];
    EXPECT_EQ(portcullis::HedgePolicyView::init(mem, size - 1).status(), Status::BufferTooSmall);
    EXPECT_EQ(portcullis::HedgePolicyView::init(mem + 64, size).status(), Status::Misaligned);
    pcl_hedge_config c = pcl_hedge_config_default();
    c.static_delay_ns = 7000000;
    auto v = portcullis::HedgePolicyView::init(mem, size, c);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(portcullis::HedgePolicyView::attach(mem).decide(0, Deadline::never(), t0).value(), 7ms);
}
