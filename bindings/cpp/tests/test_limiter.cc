#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "portcullis.hpp"

using namespace std::chrono_literals;
using portcullis::Status;

static_assert(!std::is_copy_constructible_v<portcullis::RateLimiter>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::RateLimiter>, "moves never throw");
static_assert(std::is_trivially_copyable_v<portcullis::RateLimiterView>, "views are plain pointers");
static_assert(std::is_trivially_copyable_v<portcullis::LimiterReservation>, "a reservation is plain data");

namespace {

const portcullis::TimePoint t0{};

// One permit per 100 ms, burst 2, counting decisions, on a virtual clock starting at 0.
pcl_limiter_config ten_per_second() {
    pcl_limiter_config c = pcl_limiter_config_default();
    c.rate_per_second = 10;
    c.burst = 2;
    c.counting = true;
    return c;
}

}  // namespace

TEST(RateLimiter, AdmitsRefusesWithRetryAfterAndNeverAboveTheBurst) {
    auto made = portcullis::RateLimiter::create(ten_per_second());
    ASSERT_TRUE(made.ok());
    const portcullis::RateLimiter l = std::move(made).value();

    auto burst = l.try_acquire(2, t0);
    EXPECT_TRUE(burst.ok());
    EXPECT_FALSE(burst.retry_after.has_value());
    auto limited = l.try_acquire(1, t0);
    EXPECT_EQ(limited.status, Status::RateLimited);
    EXPECT_FALSE(limited);
    ASSERT_TRUE(limited.retry_after.has_value());
    EXPECT_EQ(*limited.retry_after, 100ms);
    EXPECT_EQ(l.try_acquire(1, t0 + 99ms).status, Status::RateLimited);
    EXPECT_TRUE(l.try_acquire(1, t0 + 100ms).ok());
    auto never = l.try_acquire(3, t0 + 100ms);
    EXPECT_EQ(never.status, Status::ExceedsCapacity);
    EXPECT_FALSE(never.retry_after.has_value());
    EXPECT_TRUE(l.try_acquire(0, t0 + 100ms).ok());

    EXPECT_EQ(l.wait_time(2, t0 + 100ms).value(), 200ms);
    EXPECT_EQ(l.wait_time(1, t0 + 300ms).value(), 0ns);
    EXPECT_EQ(l.wait_time(3, t0 + 100ms).status(), Status::ExceedsCapacity);

    auto st = l.stats(t0 + 200ms);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st.value().interval_ns, 100000000u);
    EXPECT_EQ(st.value().burst, 2u);
    EXPECT_EQ(st.value().available, 1u);
    EXPECT_FALSE(st.value().shadow);
    EXPECT_EQ(st.value().admitted, 2u);  // admitting decisions that took permits
}

TEST(RateLimiter, ReservationsAreValuesCancelledAtMostOnce) {
    auto made = portcullis::RateLimiter::create(ten_per_second());
    ASSERT_TRUE(made.ok());
    const portcullis::RateLimiter l = std::move(made).value();
    ASSERT_TRUE(l.try_acquire(2, t0).ok());

    EXPECT_EQ(l.reserve(1, 50ms, t0).status(), Status::ReservationTooFar);
    EXPECT_EQ(l.reserve(3, 1s, t0).status(), Status::ExceedsCapacity);
    auto r = l.reserve(1, 1s, t0);
    ASSERT_TRUE(r.ok());
    const portcullis::LimiterReservation first = r.value();
    EXPECT_EQ(first.permits(), 1u);
    EXPECT_EQ(first.ready_at(), t0 + 100ms);
    EXPECT_EQ(first.wait(t0 + 30ms), 70ms);
    EXPECT_EQ(first.wait(t0 + 1s), 0ns);
    const portcullis::LimiterReservation copy = first;  // plain data
    EXPECT_EQ(l.cancel(first, t0), Status::Ok);
    EXPECT_EQ(l.cancel(copy, t0), Status::NotCancelled);  // at most once
    EXPECT_EQ(l.wait_time(1, t0).value(), 100ms);         // the cancelled permit is back

    auto again = l.reserve(1, 1s, t0);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(l.cancel(again.value(), t0 + 100ms), Status::NotCancelled);  // already valid
}

TEST(RateLimiter, ReconfigureKeepsTheFillLevelAndRefusesInvalidQuotas) {
    auto made = portcullis::RateLimiter::create(ten_per_second());
    ASSERT_TRUE(made.ok());
    const portcullis::RateLimiter l = std::move(made).value();
    EXPECT_EQ(l.reconfigure(0, 10ms, 5, t0 + 1s), Status::Ok);
    auto st = l.stats(t0 + 1s).value();
    EXPECT_EQ(st.interval_ns, 10000000u);
    EXPECT_EQ(st.burst, 5u);
    EXPECT_EQ(l.reconfigure(PCL_LIMITER_MAX_RATE_PER_SECOND + 1, 0ns, 5, t0), Status::InvalidLimiterRate);
    EXPECT_EQ(l.reconfigure(0, 0ns, 5, t0), Status::InvalidLimiterInterval);
    EXPECT_EQ(l.reconfigure(10, 0ns, 0, t0), Status::InvalidLimiterBurst);
    EXPECT_EQ(l.stats(t0 + 1s).value().burst, 5u);  // unchanged

    // The clock-reading overloads, with a limiter whose time follows the real clock.
    EXPECT_EQ(l.reconfigure(0, 1s, 1), Status::Ok);
    auto a = l.reserve(1, 10s);
    ASSERT_TRUE(a.ok());
    auto b = l.reserve(1, 10s);
    ASSERT_TRUE(b.ok());
    EXPECT_GT(b.value().ready_at(), portcullis::now());
    EXPECT_EQ(l.cancel(b.value()), Status::Ok);
    EXPECT_EQ(l.try_acquire().status, Status::RateLimited);
    EXPECT_TRUE(l.wait_time().ok());
    EXPECT_TRUE(l.stats().ok());
}

TEST(RateLimiter, StartEmptyAndShadow) {
    pcl_limiter_config c = pcl_limiter_config_default();
    c.rate_per_second = 0;
    c.interval_ns = 10000000;
    c.burst = 1;
    c.start = PCL_LIMITER_START_EMPTY;
    c.origin_ns = portcullis::to_ns(t0 + 5s);
    auto empty = portcullis::RateLimiter::create(c);
    ASSERT_TRUE(empty.ok());
    auto first = empty.value().try_acquire(1, t0 + 5s);
    EXPECT_EQ(first.status, Status::RateLimited);
    EXPECT_EQ(first.retry_after.value_or(0ns), 10ms);
    EXPECT_TRUE(empty.value().try_acquire(1, t0 + 5s + 10ms).ok());

    c.shadow = true;
    c.counting = true;
    auto shadow = portcullis::RateLimiter::create(c);
    ASSERT_TRUE(shadow.ok());
    EXPECT_TRUE(shadow.value().try_acquire(1, t0 + 5s).ok());  // refused, admitted anyway
    auto st = shadow.value().stats(t0 + 5s).value();
    EXPECT_TRUE(st.shadow);
    EXPECT_EQ(st.rejected, 1u);
}

TEST(RateLimiter, EveryInvalidConfigIsItsOwnStatus) {
    const pcl_limiter_config good = pcl_limiter_config_default();
    auto with = [&good](auto change) {
        pcl_limiter_config c = good;
        change(c);
        return portcullis::RateLimiter::create(c).status();
    };
    EXPECT_EQ(with([](pcl_limiter_config &c) { c.rate_per_second = PCL_LIMITER_MAX_RATE_PER_SECOND + 1; }),
              Status::InvalidLimiterRate);
    EXPECT_EQ(with([](pcl_limiter_config &c) {
                  c.rate_per_second = 0;
                  c.interval_ns = 0;
              }),
              Status::InvalidLimiterInterval);
    EXPECT_EQ(with([](pcl_limiter_config &c) {
                  c.rate_per_second = 0;
                  c.interval_ns = PCL_LIMITER_MAX_SPAN_NS + 1;
              }),
              Status::InvalidLimiterInterval);
    EXPECT_EQ(with([](pcl_limiter_config &c) { c.burst = 0; }), Status::InvalidLimiterBurst);
    EXPECT_EQ(with([](pcl_limiter_config &c) {
                  c.rate_per_second = 1;
                  c.burst = PCL_LIMITER_MAX_SPAN_NS;  // 1 s × 2^56 overflows the span
              }),
              Status::InvalidLimiterBurst);
    EXPECT_EQ(with([](pcl_limiter_config &c) { c.start = 2; }), Status::InvalidLimiterStart);
    EXPECT_EQ(with([](pcl_limiter_config &c) { c.size = sizeof c - 1; }), Status::VersionMismatch);
    EXPECT_TRUE(portcullis::RateLimiter::create().ok());
}

TEST(RateLimiter, MovedFromHandleIsEmptyAndSafe) {
    auto made = portcullis::RateLimiter::create(ten_per_second());
    ASSERT_TRUE(made.ok());
    portcullis::RateLimiter a = std::move(made).value();
    portcullis::RateLimiter b = std::move(a);
    EXPECT_EQ(a.capi(), nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    auto refused = a.try_acquire(1, t0);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(refused.status, Status::NullArgument);
    EXPECT_FALSE(refused.retry_after.has_value());
    EXPECT_EQ(a.reserve(1, 1s, t0).status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(b.try_acquire(1, t0).ok());
}

TEST(RateLimiter, ViewInSharedMemoryBoundsEveryView) {
    EXPECT_EQ(portcullis::RateLimiterView::size, pcl_limiter_size());
    EXPECT_EQ(portcullis::RateLimiterView::alignment, pcl_limiter_align());
    constexpr std::size_t size = portcullis::RateLimiterView::size;
    alignas(portcullis::RateLimiterView::alignment) static unsigned char mem[size + 128];
    EXPECT_EQ(portcullis::RateLimiterView::init(mem, size - 1).status(), Status::BufferTooSmall);
    EXPECT_EQ(portcullis::RateLimiterView::init(mem + 8, size).status(), Status::Misaligned);
    auto v = portcullis::RateLimiterView::init(mem, size);  // 100 per second, burst 100
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v.value().try_acquire(100, t0).ok());
    const auto other = portcullis::RateLimiterView::attach(mem);
    EXPECT_EQ(other.try_acquire(1, t0).retry_after.value_or(0ns), 10ms);
}

TEST(RateLimiter, ExplicitTimeIsDeterministic) {
    const pcl_limiter_config c = ten_per_second();
    auto made = portcullis::RateLimiter::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::RateLimiter heap = std::move(made).value();
    alignas(portcullis::RateLimiterView::alignment) static unsigned char mem[portcullis::RateLimiterView::size];
    auto placed = portcullis::RateLimiterView::init(mem, sizeof mem, c);
    ASSERT_TRUE(placed.ok());
    const portcullis::RateLimiterView view = placed.value();

    auto run = [](const auto &l) {
        uint64_t admitted = 0, trace = 0;
        for (int i = 0; i < 100; i++) {
            const auto t = t0 + std::chrono::milliseconds(37 * i);
            const auto d = l.try_acquire(1 + static_cast<uint64_t>(i % 2), t);
            admitted += d.ok() ? 1 : 0;
            trace = trace * 31 + static_cast<uint64_t>(d.retry_after.value_or(0ns).count());
        }
        return std::make_pair(admitted, trace);
    };
    const auto h = run(heap), v = run(view);
    EXPECT_EQ(h, v);
    EXPECT_GT(h.first, 0u);
    EXPECT_LT(h.first, 100u);
}
