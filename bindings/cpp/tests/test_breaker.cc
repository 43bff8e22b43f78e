#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "portcullis.hpp"

using namespace std::chrono_literals;
using portcullis::BreakerPermitKind;
using portcullis::BreakerState;
using portcullis::BreakerTransition;
using portcullis::Outcome;
using portcullis::Status;

static_assert(!std::is_copy_constructible_v<portcullis::Breaker>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::Breaker>, "moves never throw");
static_assert(!std::is_copy_constructible_v<portcullis::BreakerPermit>, "permits are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::BreakerPermit>, "moves never throw");
static_assert(std::is_nothrow_move_assignable_v<portcullis::BreakerPermit>, "moves never throw");
static_assert(std::is_trivially_copyable_v<portcullis::BreakerView>, "views are plain pointers");

namespace {

// Trips on 2 consecutive failures, open 1 s without jitter, one probe.
pcl_breaker_config two_failures() {
    pcl_breaker_config c = pcl_breaker_config_default();
    c.consecutive_failures = 2;
    c.open_duration_ns = 1000000000;
    c.max_open_duration_ns = 1000000000;
    c.jitter_ppm = 0;
    c.probe_timeout_ns = 1000000000;
    return c;
}

const portcullis::TimePoint t0{};

// An open period opened at t0 ends on the next 2^20 ns tick at or after t0 + 1 s
// (docs/semantics/breaker.md).
constexpr std::chrono::nanoseconds open_end() {
    constexpr int64_t tick = int64_t{1} << 20;
    return std::chrono::nanoseconds((1000000000 + tick - 1) / tick * tick);
}

}  // namespace

TEST(Breaker, AdmitsTripsAndRefusesWithRetryAfter) {
    auto made = portcullis::Breaker::create(two_failures());
    ASSERT_TRUE(made.ok());
    const portcullis::Breaker b = std::move(made).value();

    auto first = b.try_acquire(t0);
    ASSERT_TRUE(first.ok());
    EXPECT_FALSE(first.retry_after().has_value());
    EXPECT_EQ(first.value().kind(), BreakerPermitKind::Tracked);
    EXPECT_EQ(first.value().admission_transition(), BreakerTransition::None);
    EXPECT_EQ(first.value().shadow_rejection(), Status::Ok);
    auto late = b.try_acquire(t0);  // admitted in the first generation, recorded after the trip
    ASSERT_TRUE(late.ok());
    auto r = first.value().record(Outcome::Failure, t0);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value().counted);
    EXPECT_EQ(r.value().transition, BreakerTransition::None);
    {
        auto second = b.try_acquire(t0);
        ASSERT_TRUE(second.ok());
        auto tripped = second.value().record(Outcome::SlowFailure, t0);
        ASSERT_TRUE(tripped.ok());
        EXPECT_EQ(tripped.value().transition, BreakerTransition::Opened);
    }
    EXPECT_EQ(b.state().value(), BreakerState::Open);

    // Open: refused with the time until the open period ends.
    auto refused = b.try_acquire(t0 + 400ms);
    EXPECT_EQ(refused.status(), Status::RejectedOpen);
    ASSERT_TRUE(refused.retry_after().has_value());
    EXPECT_EQ(*refused.retry_after(), open_end() - 400ms);
    // A late outcome of the old generation does not count, and the permit is spent.
    auto stale = late.value().record(Outcome::Failure, t0 + 400ms);
    ASSERT_TRUE(stale.ok());
    EXPECT_FALSE(stale.value().counted);
    EXPECT_FALSE(late.value().pending());

    auto st = b.stats(t0 + 400ms);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st.value().state, PCL_BREAKER_OPEN);
    EXPECT_EQ(st.value().times_tripped, 1u);
    EXPECT_EQ(st.value().open_remaining_ns, portcullis::to_ns(open_end() - 400ms));
}

TEST(Breaker, UnrecordedProbeIsIgnoredOnScopeExitAndFreesItsPlace) {
    auto made = portcullis::Breaker::create(two_failures());
    ASSERT_TRUE(made.ok());
    const portcullis::Breaker b = std::move(made).value();
    for (int i = 0; i < 2; i++) {
        auto p = b.try_acquire(t0);
        ASSERT_TRUE(p.ok());
        ASSERT_TRUE(p.value().record(Outcome::Failure, t0).ok());
    }
    ASSERT_EQ(b.state().value(), BreakerState::Open);
    {
        auto probe = b.try_acquire(t0 + 3s);
        ASSERT_TRUE(probe.ok());
        EXPECT_EQ(probe.value().kind(), BreakerPermitKind::Probe);
        EXPECT_EQ(probe.value().admission_transition(), BreakerTransition::HalfOpened);
        // The only probe place is taken: full, with no retry-after.
        auto full = b.try_acquire(t0 + 3s);
        EXPECT_EQ(full.status(), Status::RejectedHalfOpenFull);
        EXPECT_FALSE(full.retry_after().has_value());
        EXPECT_EQ(b.stats(t0 + 3s).value().probes_admitted, 1u);
    }  // the probe goes out of scope unrecorded: it counts as ignored
    auto again = b.try_acquire(t0 + 3s);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value().kind(), BreakerPermitKind::Probe);
    auto closed = again.value().record(Outcome::Success, t0 + 3s);
    ASSERT_TRUE(closed.ok());
    EXPECT_TRUE(closed.value().counted);
    EXPECT_EQ(closed.value().transition, BreakerTransition::Closed);
    EXPECT_EQ(b.state().value(), BreakerState::Closed);
}

TEST(Breaker, ExplicitIgnoreAndMoveAssignmentFreeTheProbe) {
    auto made = portcullis::Breaker::create(two_failures());
    ASSERT_TRUE(made.ok());
    const portcullis::Breaker b = std::move(made).value();
    auto early = b.try_acquire(t0);  // admitted closed, still pending after the trip
    ASSERT_TRUE(early.ok());
    for (int i = 0; i < 2; i++) ASSERT_TRUE(b.try_acquire(t0).value().record(Outcome::Failure, t0).ok());
    ASSERT_EQ(b.state().value(), BreakerState::Open);

    auto probe = b.try_acquire(t0 + 2s);
    ASSERT_TRUE(probe.ok());
    portcullis::BreakerPermit held = std::move(probe).value();
    EXPECT_FALSE(probe.value().pending());  // NOLINT(bugprone-use-after-move): the moved-from permit
    EXPECT_TRUE(held.pending());
    EXPECT_EQ(held.ignore(), Status::Ok);
    EXPECT_FALSE(held.pending());
    EXPECT_EQ(held.ignore(), Status::Ok);  // a second ignore does nothing

    auto next = b.try_acquire(t0 + 2s);  // the ignored probe's place is free again
    ASSERT_TRUE(next.ok());
    held = std::move(next).value();
    EXPECT_TRUE(held.pending());
    EXPECT_EQ(held.kind(), BreakerPermitKind::Probe);
    EXPECT_EQ(b.try_acquire(t0 + 2s).status(), Status::RejectedHalfOpenFull);

    // Assigning over a pending probe ignores it, which frees its place.
    held = std::move(early).value();
    EXPECT_TRUE(held.pending());
    EXPECT_EQ(held.kind(), BreakerPermitKind::Tracked);
    EXPECT_TRUE(b.try_acquire(t0 + 2s).ok());
}

TEST(Breaker, OutcomeIsRecordedOnce) {
    pcl_breaker_config c = two_failures();
    c.half_open_probes = 2;
    c.successes_to_close = 2;
    auto made = portcullis::Breaker::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::Breaker b = std::move(made).value();

    auto p = b.try_acquire(t0);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(p.value().record(Outcome::Failure, t0).ok());
    auto twice = p.value().record(Outcome::Failure, t0);
    EXPECT_EQ(twice.status(), Status::NullArgument);
    auto st = b.stats(t0).value();
    EXPECT_EQ(st.calls, 1u);
    EXPECT_EQ(st.consecutive_failures, 1u);
    EXPECT_EQ(b.state().value(), BreakerState::Closed);  // a second record would have tripped it

    // An unknown outcome records nothing and leaves the permit pending.
    auto q = b.try_acquire(t0);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q.value().record(static_cast<Outcome>(77), t0).status(), Status::InvalidArgument);
    EXPECT_TRUE(q.value().pending());
    ASSERT_TRUE(q.value().record(Outcome::Failure, t0).ok());
    ASSERT_EQ(b.state().value(), BreakerState::Open);

    // A recorded probe keeps its place in the half-open period (its destructor ignores nothing).
    {
        auto a = b.try_acquire(t0 + 2s);
        ASSERT_TRUE(a.ok());
        auto c2 = b.try_acquire(t0 + 2s);
        ASSERT_TRUE(c2.ok());
        auto done = a.value().record(Outcome::Success, t0 + 2s);
        ASSERT_TRUE(done.ok());
        EXPECT_TRUE(done.value().counted);
        EXPECT_EQ(done.value().transition, BreakerTransition::None);
        {
            portcullis::BreakerPermit gone = std::move(a).value();
            (void)gone;
        }  // the recorded probe is destroyed: its place stays taken
        EXPECT_EQ(b.try_acquire(t0 + 2s).status(), Status::RejectedHalfOpenFull);
    }  // the other probe is ignored
    EXPECT_EQ(b.stats(t0 + 2s).value().probe_successes, 1u);
}

TEST(Breaker, OperatorCallsAnswerThePreviousState) {
    pcl_breaker_config c = two_failures();
    c.count_rejections = true;
    auto made = portcullis::Breaker::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::Breaker b = std::move(made).value();

    EXPECT_EQ(b.force_open().value(), BreakerState::Closed);
    auto forced = b.try_acquire(t0);
    EXPECT_EQ(forced.status(), Status::RejectedForcedOpen);
    EXPECT_FALSE(forced.retry_after().has_value());  // no known end
    EXPECT_EQ(b.stats(t0).value().rejected, 1u);

    EXPECT_EQ(b.disable().value(), BreakerState::ForcedOpen);
    {
        auto p = b.try_acquire(t0);
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(p.value().kind(), BreakerPermitKind::Untracked);
        auto r = p.value().record(Outcome::Failure, t0);
        ASSERT_TRUE(r.ok());
        EXPECT_FALSE(r.value().counted);
    }
    EXPECT_EQ(b.metrics_only().value(), BreakerState::Disabled);
    for (int i = 0; i < 5; i++) {
        auto p = b.try_acquire();
        ASSERT_TRUE(p.ok());
        auto r = p.value().record(Outcome::Failure);
        ASSERT_TRUE(r.ok());
        EXPECT_TRUE(r.value().counted);
    }
    EXPECT_EQ(b.state().value(), BreakerState::MetricsOnly);  // never trips
    EXPECT_EQ(b.stats().value().calls, 5u);
    EXPECT_EQ(b.force_close().value(), BreakerState::MetricsOnly);
    EXPECT_EQ(b.reset().value(), BreakerState::Closed);
    auto st = b.stats(t0).value();
    EXPECT_EQ(st.times_tripped, 0u);
    EXPECT_EQ(st.rejected, 0u);
    EXPECT_EQ(st.failure_rate_ppm, PCL_BREAKER_NO_RATE);
    EXPECT_EQ(st.open_remaining_ns, PCL_BREAKER_NOT_OPEN);
}

TEST(Breaker, ShadowModeAdmitsAgainstTheDecision) {
    pcl_breaker_config c = two_failures();
    c.shadow = true;
    auto made = portcullis::Breaker::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::Breaker b = std::move(made).value();
    ASSERT_TRUE(b.force_open().ok());
    auto p = b.try_acquire(t0);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.value().kind(), BreakerPermitKind::Shadow);
    EXPECT_EQ(p.value().shadow_rejection(), Status::RejectedForcedOpen);
    EXPECT_FALSE(p.value().record(Outcome::Failure, t0).value().counted);
}

TEST(Breaker, EveryInvalidConfigIsItsOwnStatus) {
    const pcl_breaker_config good = two_failures();
    auto with = [&good](auto change) {
        pcl_breaker_config c = good;
        change(c);
        return portcullis::Breaker::create(c).status();
    };
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.window_kind = 2; }), Status::InvalidBreakerWindowKind);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.window_size = 0; }), Status::InvalidWindowSize);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.window_size = PCL_BREAKER_MAX_WINDOW_SIZE + 1; }), Status::InvalidWindowSize);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.failure_rate_ppm = 1000001; }), Status::InvalidBreakerFailureRate);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.slow_rate_ppm = 1000001; }), Status::InvalidBreakerSlowRate);
    EXPECT_EQ(with([](pcl_breaker_config &c) {
                  c.failure_rate_ppm = 500000;
                  c.min_calls = 0;
              }),
              Status::InvalidBreakerMinCalls);
    EXPECT_EQ(with([](pcl_breaker_config &c) {
                  c.failure_rate_ppm = 500000;
                  c.min_calls = 101;  // above the count window's 100
              }),
              Status::InvalidBreakerMinCalls);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.open_duration_ns = 0; }), Status::InvalidBreakerOpenDuration);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.max_open_duration_ns = 999999999; }), Status::InvalidBreakerMaxOpenDuration);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.jitter_ppm = 1000001; }), Status::InvalidBreakerJitter);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.half_open_probes = 0; }), Status::InvalidBreakerHalfOpenProbes);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.half_open_probes = PCL_BREAKER_MAX_PROBES + 1; }),
              Status::InvalidBreakerHalfOpenProbes);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.successes_to_close = 0; }), Status::InvalidBreakerSuccessesToClose);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.successes_to_close = 2; }), Status::InvalidBreakerSuccessesToClose);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.half_open_by_rate = true; }), Status::InvalidBreakerHalfOpenByRate);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.probe_timeout_ns = 0; }), Status::InvalidBreakerProbeTimeout);
    auto timed = [&with](auto change) {
        return with([&change](pcl_breaker_config &c) {
            c.window_kind = PCL_BREAKER_WINDOW_TIME;
            change(c);
        });
    };
    EXPECT_EQ(timed([](pcl_breaker_config &c) { c.window_buckets = 0; }), Status::InvalidWindowBuckets);
    EXPECT_EQ(timed([](pcl_breaker_config &c) { c.window_buckets = PCL_BREAKER_MAX_WINDOW_BUCKETS + 1; }),
              Status::InvalidWindowBuckets);
    EXPECT_EQ(timed([](pcl_breaker_config &c) { c.window_duration_ns = 0; }), Status::InvalidWindowDuration);
    EXPECT_EQ(timed([](pcl_breaker_config &c) { c.window_duration_ns = 10000000001; }), Status::InvalidWindowDuration);
    EXPECT_EQ(with([](pcl_breaker_config &c) { c.size = sizeof c - 1; }), Status::VersionMismatch);
    EXPECT_TRUE(portcullis::Breaker::create().ok());
}

TEST(Breaker, MovedFromHandleIsEmptyAndSafe) {
    auto made = portcullis::Breaker::create(two_failures());
    ASSERT_TRUE(made.ok());
    portcullis::Breaker a = std::move(made).value();
    const pcl_breaker *raw = a.capi();
    portcullis::Breaker b = std::move(a);
    EXPECT_EQ(b.capi(), raw);
    EXPECT_EQ(a.capi(), nullptr);                                 // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.try_acquire(t0).status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.state().status(), Status::NullArgument);          // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.reset().status(), Status::NullArgument);          // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(b.try_acquire(t0).ok());
    a = std::move(b);  // move-assigning back frees nothing twice
    EXPECT_EQ(a.capi(), raw);
}

TEST(Breaker, ViewInCallerMemory) {
    EXPECT_EQ(portcullis::BreakerView::size, pcl_breaker_size());
    EXPECT_EQ(portcullis::BreakerView::alignment, pcl_breaker_align());
    constexpr std::size_t size = portcullis::BreakerView::size;
    alignas(portcullis::BreakerView::alignment) static unsigned char mem[size + 128];
    EXPECT_EQ(portcullis::BreakerView::init(mem, size - 1, two_failures()).status(), Status::BufferTooSmall);
    EXPECT_EQ(portcullis::BreakerView::init(mem + 64, size, two_failures()).status(), Status::Misaligned);
    pcl_breaker_config bad = two_failures();
    bad.open_duration_ns = 0;
    EXPECT_EQ(portcullis::BreakerView::init(mem, size, bad).status(), Status::InvalidBreakerOpenDuration);
    auto v = portcullis::BreakerView::init(mem, size, two_failures());
    ASSERT_TRUE(v.ok());
    const portcullis::BreakerView view = v.value();
    for (int i = 0; i < 2; i++) ASSERT_TRUE(view.try_acquire(t0).value().record(Outcome::Failure, t0).ok());
    // Another view of the same memory sees the trip.
    const auto other = portcullis::BreakerView::attach(mem);
    EXPECT_EQ(other.state().value(), BreakerState::Open);
    EXPECT_EQ(other.try_acquire(t0 + 250ms).retry_after().value_or(0ns), open_end() - 250ms);
}

TEST(Breaker, ExplicitTimeIsDeterministic) {
    // The same script of explicit times on a heap breaker and on one in caller memory gives the
    // same decisions and the same counters, whatever the real clock does meanwhile.
    pcl_breaker_config c = two_failures();
    c.window_kind = PCL_BREAKER_WINDOW_TIME;
    c.failure_rate_ppm = 500000;
    c.min_calls = 4;
    auto made = portcullis::Breaker::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::Breaker heap = std::move(made).value();
    alignas(portcullis::BreakerView::alignment) static unsigned char mem[portcullis::BreakerView::size];
    auto placed = portcullis::BreakerView::init(mem, sizeof mem, c);
    ASSERT_TRUE(placed.ok());
    const portcullis::BreakerView view = placed.value();

    auto run = [](const auto &b) {
        uint64_t trace = 0;
        for (int i = 0; i < 40; i++) {
            const auto t = t0 + std::chrono::milliseconds(100 * i);
            auto a = b.try_acquire(t);
            trace = trace * 31 + static_cast<uint64_t>(a.status());
            if (!a.ok()) continue;
            const Outcome o = (i % 3 == 0) ? Outcome::Failure : Outcome::Success;
            auto r = a.value().record(o, t + 5ms);
            trace = trace * 31 + (r.ok() ? static_cast<uint64_t>(r.value().transition) : 99);
        }
        return trace;
    };
    EXPECT_EQ(run(heap), run(view));
    const auto end = t0 + 4s;
    const auto hs = heap.stats(end).value(), vs = view.stats(end).value();
    EXPECT_EQ(hs.state, vs.state);
    EXPECT_EQ(hs.calls, vs.calls);
    EXPECT_EQ(hs.failures, vs.failures);
    EXPECT_EQ(hs.times_tripped, vs.times_tripped);
    EXPECT_EQ(hs.open_remaining_ns, vs.open_remaining_ns);
}
