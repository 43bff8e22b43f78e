#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "portcullis.hpp"

using namespace std::chrono_literals;
using portcullis::RetryClass;
using portcullis::RetryError;
using portcullis::Status;

static_assert(!std::is_copy_constructible_v<portcullis::RetryPolicy>, "handles are move-only");
static_assert(std::is_nothrow_move_constructible_v<portcullis::RetryPolicy>, "moves never throw");
static_assert(!std::is_copy_constructible_v<portcullis::RetryThrottle>, "handles are move-only");
static_assert(!std::is_copy_constructible_v<portcullis::RetryRatioBudget>, "handles are move-only");
static_assert(std::is_trivially_copyable_v<portcullis::RetryState>, "a retry state is plain data");
static_assert(std::is_trivially_copyable_v<portcullis::RetryDecision>, "a decision is a value");

namespace {

const portcullis::TimePoint t0{};

// Exponential ×2 from 100 ms capped at 150 ms, no jitter, 3 attempts, push-back up to 500 ms.
pcl_retry_config plain() {
    pcl_retry_config c = pcl_retry_config_default();
    c.jitter = PCL_RETRY_JITTER_NONE;
    c.base_delay_ns = 100000000;
    c.max_delay_ns = 150000000;
    c.pushback_max_ns = 500000000;
    return c;
}

}  // namespace

TEST(RetryPolicy, ScheduleAndStopReasons) {
    auto made = portcullis::RetryPolicy::create(plain());
    ASSERT_TRUE(made.ok());
    const portcullis::RetryPolicy p = std::move(made).value();

    auto started = p.start(42, portcullis::Deadline::never(), t0);
    ASSERT_TRUE(started.ok());
    portcullis::RetryState st = started.value();
    EXPECT_EQ(st.attempts(), 1u);
    auto d = p.decide(st, RetryError::retryable(), t0);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.delay, 100ms);
    EXPECT_EQ(p.decide(st, RetryError::retryable(), t0).delay, 150ms);  // 200 ms capped
    EXPECT_EQ(st.attempts(), 3u);
    auto stop = p.decide(st, RetryError::retryable(), t0);
    EXPECT_EQ(stop.status, Status::RetryStopAttemptsExhausted);
    EXPECT_FALSE(stop);
    EXPECT_EQ(stop.delay, 0ns);
    EXPECT_EQ(st.attempts(), 3u);  // a stop leaves the state unchanged

    st = p.start(42, portcullis::Deadline::never(), t0).value();
    EXPECT_EQ(p.decide(st, RetryError::not_retryable(), t0).status, Status::RetryStopNotRetryable);
    EXPECT_EQ(p.decide(st, RetryError::stop_retrying(), t0).status, Status::RetryStopServerPushback);
    EXPECT_EQ(p.decide(st, RetryError::retryable_after(10s), t0).delay, 500ms);  // clamped
    EXPECT_EQ(p.decide(st, RetryError{static_cast<RetryClass>(4), 0ns}, t0).status, Status::InvalidArgument);

    const RetryError after = RetryError::from_pushback_ms(250);
    EXPECT_EQ(after.error_class, RetryClass::RetryableAfter);
    EXPECT_EQ(after.pushback, 250ms);
    EXPECT_EQ(RetryError::from_pushback_ms(-1).error_class, RetryClass::StopRetrying);
}

TEST(RetryPolicy, DeadlineShortensThenStops) {
    auto made = portcullis::RetryPolicy::create(plain());
    ASSERT_TRUE(made.ok());
    const portcullis::RetryPolicy p = std::move(made).value();
    portcullis::RetryState st = p.start(42, portcullis::Deadline(t0 + 30ms), t0).value();
    EXPECT_EQ(p.decide(st, RetryError::retryable(), t0 + 10ms).delay, 20ms);
    EXPECT_EQ(p.decide(st, RetryError::retryable(), t0 + 30ms).status, Status::RetryStopDeadlineExceeded);
    // The clock-reading overloads: the real clock is long past t0 + 30 ms.
    EXPECT_EQ(p.decide(st, RetryError::retryable()).status, Status::RetryStopDeadlineExceeded);
    auto fresh = p.start(42);
    ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(p.decide(fresh.value(), RetryError::retryable()).ok());
}

TEST(RetryPolicy, SameSeedReplaysTheSameJitter) {
    pcl_retry_config c = plain();
    c.jitter = PCL_RETRY_JITTER_FULL;
    c.max_attempts = 10;
    auto made = portcullis::RetryPolicy::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::RetryPolicy p = std::move(made).value();
    alignas(portcullis::RetryPolicyView::alignment) static unsigned char mem[portcullis::RetryPolicyView::size];
    auto placed = portcullis::RetryPolicyView::init(mem, sizeof mem, c);
    ASSERT_TRUE(placed.ok());
    const portcullis::RetryPolicyView v = placed.value();

    portcullis::RetryState a = p.start(7, portcullis::Deadline::never(), t0).value();
    portcullis::RetryState b = a;  // a copy replays the same delays
    portcullis::RetryState c2 = v.start(7, portcullis::Deadline::never(), t0).value();
    bool varied = false;
    std::chrono::nanoseconds previous{-1};
    for (int i = 0; i < 5; i++) {
        const auto t = t0 + std::chrono::milliseconds(i);
        const auto da = p.decide(a, RetryError::retryable(), t);
        const auto db = p.decide(b, RetryError::retryable(), t);
        const auto dc = v.decide(c2, RetryError::retryable(), t);
        ASSERT_TRUE(da.ok());
        EXPECT_EQ(da.delay, db.delay);
        EXPECT_EQ(da.delay, dc.delay);
        EXPECT_LE(da.delay, 150ms);
        varied = varied || (previous.count() >= 0 && da.delay != previous);
        previous = da.delay;
    }
    EXPECT_TRUE(varied);
}

TEST(RetryPolicy, BudgetedDecisions) {
    pcl_retry_config c = plain();
    c.max_attempts = 10;
    auto made = portcullis::RetryPolicy::create(c);
    ASSERT_TRUE(made.ok());
    const portcullis::RetryPolicy p = std::move(made).value();

    // A throttle of 4 tokens allows one retry under all failures (3 > 2, then 2).
    pcl_retry_throttle_config tc = pcl_retry_throttle_config_default();
    tc.max_tokens = 4;
    auto throttle = portcullis::RetryThrottle::create(tc);
    ASSERT_TRUE(throttle.ok());
    portcullis::RetryState st = p.start(7, portcullis::Deadline::never(), t0).value();
    EXPECT_TRUE(p.decide(st, RetryError::retryable(), throttle.value(), t0).ok());
    EXPECT_EQ(p.decide(st, RetryError::retryable(), throttle.value(), t0).status, Status::RetryStopBudgetExhausted);
    EXPECT_EQ(st.attempts(), 2u);  // the refused retry left the state unchanged
    EXPECT_EQ(p.decide(st, RetryError::retryable(), throttle.value()).status, Status::RetryStopBudgetExhausted);

    // A ratio budget without reserve: a retry needs deposits (200 ‰: five requests per retry).
    pcl_retry_ratio_budget_config rc = pcl_retry_ratio_budget_config_default();
    rc.min_retries_per_sec = 0;
    auto budget = portcullis::RetryRatioBudget::create(rc);
    ASSERT_TRUE(budget.ok());
    st = p.start(7, portcullis::Deadline::never(), t0).value();
    EXPECT_EQ(p.decide(st, RetryError::retryable(), budget.value(), t0).status, Status::RetryStopBudgetExhausted);
    for (int i = 0; i < 5; i++) EXPECT_EQ(budget.value().record_request(t0), Status::Ok);
    EXPECT_TRUE(p.decide(st, RetryError::retryable(), budget.value(), t0).ok());
    EXPECT_EQ(budget.value().balance(t0).value(), 0u);
    for (int i = 0; i < 5; i++) EXPECT_EQ(budget.value().record_request(), Status::Ok);
    EXPECT_TRUE(p.decide(st, RetryError::retryable(), budget.value()).ok());
}

TEST(RetryThrottle, GrpcArithmetic) {
    pcl_retry_throttle_config tc = pcl_retry_throttle_config_default();
    tc.max_tokens = 4;
    tc.token_ratio_milli = 1600;
    auto made = portcullis::RetryThrottle::create(tc);
    ASSERT_TRUE(made.ok());
    const portcullis::RetryThrottle t = std::move(made).value();
    EXPECT_EQ(t.milli_tokens().value(), 4000u);
    EXPECT_EQ(t.record_failure(), Status::Ok);  // 3 > 2
    EXPECT_EQ(t.record_success(), Status::Ok);  // 4 (capped)
    EXPECT_EQ(t.record_failure(), Status::Ok);  // 3
    EXPECT_EQ(t.record_failure(), Status::RetryStopBudgetExhausted);  // 2
    EXPECT_EQ(t.check(), Status::RetryStopBudgetExhausted);
    EXPECT_EQ(t.milli_tokens().value(), 2000u);  // answered while refusing too
    EXPECT_EQ(t.record_success(), Status::Ok);
    EXPECT_EQ(t.check(), Status::Ok);
    EXPECT_EQ(t.milli_tokens().value(), 3600u);
}

TEST(RetryRatioBudget, DepositsAndWithdrawals) {
    pcl_retry_ratio_budget_config rc = pcl_retry_ratio_budget_config_default();
    rc.min_retries_per_sec = 0;
    rc.retry_ratio_permille = 1000;  // one retry per request
    auto made = portcullis::RetryRatioBudget::create(rc);
    ASSERT_TRUE(made.ok());
    const portcullis::RetryRatioBudget b = std::move(made).value();
    EXPECT_EQ(b.balance(t0).value(), 0u);
    EXPECT_EQ(b.try_withdraw(t0), Status::RetryStopBudgetExhausted);
    EXPECT_EQ(b.record_request(t0), Status::Ok);
    EXPECT_EQ(b.record_request(t0), Status::Ok);
    EXPECT_EQ(b.balance(t0).value(), 2u);
    EXPECT_EQ(b.try_withdraw(t0), Status::Ok);
    EXPECT_EQ(b.try_withdraw(t0), Status::Ok);
    EXPECT_EQ(b.try_withdraw(t0), Status::RetryStopBudgetExhausted);
    // Deposits expire after the ttl (10 s).
    EXPECT_EQ(b.record_request(t0 + 1s), Status::Ok);
    EXPECT_EQ(b.balance(t0 + 2s).value(), 1u);
    EXPECT_EQ(b.balance(t0 + 12s).value(), 0u);
    // The clock-reading overloads.
    EXPECT_EQ(b.record_request(), Status::Ok);
    EXPECT_EQ(b.balance().value(), 1u);
    EXPECT_EQ(b.try_withdraw(), Status::Ok);
    EXPECT_EQ(b.try_withdraw(), Status::RetryStopBudgetExhausted);
}

TEST(Retry, EveryInvalidConfigIsItsOwnStatus) {
    const pcl_retry_config good = pcl_retry_config_default();
    auto policy = [&good](auto change) {
        pcl_retry_config c = good;
        change(c);
        return portcullis::RetryPolicy::create(c).status();
    };
    EXPECT_EQ(policy([](pcl_retry_config &c) { c.max_attempts = 0; }), Status::InvalidRetryMaxAttempts);
    EXPECT_EQ(policy([](pcl_retry_config &c) { c.backoff = 4; }), Status::InvalidRetryBackoff);
    EXPECT_EQ(policy([](pcl_retry_config &c) { c.multiplier_permille = 999; }), Status::InvalidRetryMultiplier);
    EXPECT_EQ(policy([](pcl_retry_config &c) { c.base_delay_ns = 0; }), Status::InvalidRetryBaseDelay);
    EXPECT_EQ(policy([](pcl_retry_config &c) { c.max_delay_ns = 1; }), Status::InvalidRetryMaxDelay);
    EXPECT_EQ(policy([](pcl_retry_config &c) { c.jitter = 5; }), Status::InvalidRetryJitter);
    EXPECT_EQ(policy([](pcl_retry_config &c) {
                  c.jitter = PCL_RETRY_JITTER_PROPORTIONAL;
                  c.jitter_ppm = 1000001;
              }),
              Status::InvalidRetryJitterPpm);
    EXPECT_EQ(policy([](pcl_retry_config &c) { c.total_budget_ns = 0; }), Status::InvalidRetryTotalBudget);
    EXPECT_EQ(policy([](pcl_retry_config &c) {
                  c.pushback_min_ns = 2;
                  c.pushback_max_ns = 1;
              }),
              Status::InvalidRetryPushbackMax);
    EXPECT_EQ(policy([](pcl_retry_config &c) { c.size = sizeof c - 1; }), Status::VersionMismatch);
    EXPECT_TRUE(portcullis::RetryPolicy::create().ok());

    pcl_retry_throttle_config tc = pcl_retry_throttle_config_default();
    tc.max_tokens = 0;
    EXPECT_EQ(portcullis::RetryThrottle::create(tc).status(), Status::InvalidThrottleMaxTokens);
    tc = pcl_retry_throttle_config_default();
    tc.token_ratio_milli = 0;
    EXPECT_EQ(portcullis::RetryThrottle::create(tc).status(), Status::InvalidThrottleTokenRatio);
    EXPECT_TRUE(portcullis::RetryThrottle::create().ok());

    const pcl_retry_ratio_budget_config rgood = pcl_retry_ratio_budget_config_default();
    auto ratio = [&rgood](auto change) {
        pcl_retry_ratio_budget_config c = rgood;
        change(c);
        return portcullis::RetryRatioBudget::create(c).status();
    };
    EXPECT_EQ(ratio([](pcl_retry_ratio_budget_config &c) { c.ttl_ns = 0; }), Status::InvalidRatioBudgetTtl);
    EXPECT_EQ(ratio([](pcl_retry_ratio_budget_config &c) { c.ttl_ns = PCL_RATIO_BUDGET_BUCKETS * 1000 + 1; }),
              Status::InvalidRatioBudgetTtl);
    EXPECT_EQ(ratio([](pcl_retry_ratio_budget_config &c) { c.min_retries_per_sec = UINT32_MAX; }),
              Status::InvalidRatioBudgetMinRetries);
    EXPECT_EQ(ratio([](pcl_retry_ratio_budget_config &c) { c.retry_ratio_permille = 10001; }),
              Status::InvalidRatioBudgetRatio);
    EXPECT_TRUE(portcullis::RetryRatioBudget::create().ok());
}

TEST(Retry, MovedFromHandlesAreEmptyAndSafe) {
    auto made = portcullis::RetryPolicy::create(plain());
    ASSERT_TRUE(made.ok());
    portcullis::RetryPolicy a = std::move(made).value();
    portcullis::RetryPolicy b = std::move(a);
    EXPECT_EQ(a.capi(), nullptr);                   // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.start(1).status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    portcullis::RetryState st = b.start(1, portcullis::Deadline::never(), t0).value();
    EXPECT_EQ(a.decide(st, RetryError::retryable(), t0).status, Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(st.attempts(), 1u);

    auto tm = portcullis::RetryThrottle::create();
    ASSERT_TRUE(tm.ok());
    portcullis::RetryThrottle t = std::move(tm).value();
    portcullis::RetryThrottle t2 = std::move(t);
    EXPECT_EQ(t.record_failure(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(t.milli_tokens().status(), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    // A decision against a moved-from throttle is refused before anything changes.
    EXPECT_EQ(b.decide(st, RetryError::retryable(), t, t0).status, Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(st.attempts(), 1u);
    EXPECT_EQ(t2.check(), Status::Ok);

    auto rm = portcullis::RetryRatioBudget::create();
    ASSERT_TRUE(rm.ok());
    portcullis::RetryRatioBudget r = std::move(rm).value();
    portcullis::RetryRatioBudget r2 = std::move(r);
    EXPECT_EQ(r.try_withdraw(t0), Status::NullArgument);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(r2.balance(t0).value(), 100u);  // 10 per second of a 10 s ttl, without requests
}

TEST(Retry, ViewsInCallerMemory) {
    EXPECT_EQ(portcullis::RetryPolicyView::size, pcl_retry_policy_size());
    EXPECT_EQ(portcullis::RetryPolicyView::alignment, pcl_retry_policy_align());
    EXPECT_EQ(portcullis::RetryThrottleView::size, pcl_retry_throttle_size());
    EXPECT_EQ(portcullis::RetryThrottleView::alignment, pcl_retry_throttle_align());
    EXPECT_EQ(portcullis::RetryRatioBudgetView::size, pcl_retry_ratio_budget_size());
    EXPECT_EQ(portcullis::RetryRatioBudgetView::alignment, pcl_retry_ratio_budget_align());

    alignas(portcullis::RetryPolicyView::alignment) static unsigned char pmem[portcullis::RetryPolicyView::size + 8];
    EXPECT_EQ(portcullis::RetryPolicyView::init(pmem, portcullis::RetryPolicyView::size - 1).status(),
              Status::BufferTooSmall);
    EXPECT_EQ(portcullis::RetryPolicyView::init(pmem + 4, portcullis::RetryPolicyView::size).status(), Status::Misaligned);
    ASSERT_TRUE(portcullis::RetryPolicyView::init(pmem, portcullis::RetryPolicyView::size, plain()).ok());

    alignas(portcullis::RetryThrottleView::alignment) static unsigned char tmem[portcullis::RetryThrottleView::size + 128];
    EXPECT_EQ(portcullis::RetryThrottleView::init(tmem + 8, portcullis::RetryThrottleView::size).status(),
              Status::Misaligned);
    pcl_retry_throttle_config tc = pcl_retry_throttle_config_default();
    tc.max_tokens = 4;
    ASSERT_TRUE(portcullis::RetryThrottleView::init(tmem, portcullis::RetryThrottleView::size, tc).ok());

    alignas(portcullis::RetryRatioBudgetView::alignment) static unsigned char rmem[portcullis::RetryRatioBudgetView::size];
    ASSERT_TRUE(portcullis::RetryRatioBudgetView::init(rmem, sizeof rmem).ok());

    // Views attached elsewhere share the objects: a policy in shared memory with a shared throttle.
    const auto policy = portcullis::RetryPolicyView::attach(pmem);
    const auto throttle = portcullis::RetryThrottleView::attach(tmem);
    portcullis::RetryState st = policy.start(3, portcullis::Deadline::never(), t0).value();
    EXPECT_EQ(policy.decide(st, RetryError::retryable(), throttle, t0).delay, 100ms);
    EXPECT_EQ(throttle.milli_tokens().value(), 3000u);
    const auto budget = portcullis::RetryRatioBudgetView::attach(rmem);
    EXPECT_EQ(budget.balance(t0).value(), 100u);
    EXPECT_EQ(policy.decide(st, RetryError::retryable(), budget, t0).delay, 150ms);
    EXPECT_EQ(budget.balance(t0).value(), 99u);
}
