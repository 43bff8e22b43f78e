/* Retry policies, per-call states and the two retry budgets. */
#include <stdalign.h>

#include "pcl_test.h"

static alignas(PCL_RETRY_POLICY_ALIGN) unsigned char policy_mem[PCL_RETRY_POLICY_SIZE + 8];
static alignas(PCL_RETRY_THROTTLE_ALIGN) unsigned char throttle_mem[PCL_RETRY_THROTTLE_SIZE + 128];
static alignas(PCL_RETRY_RATIO_BUDGET_ALIGN) unsigned char ratio_mem[PCL_RETRY_RATIO_BUDGET_SIZE + 128];

#define MS 1000000ull

static void test_retry_decide(void) {
    pcl_retry_config cfg = pcl_retry_config_default();
    CHECK(cfg.size == sizeof cfg && cfg.max_attempts == 3 && cfg.backoff == PCL_RETRY_BACKOFF_EXPONENTIAL);
    cfg.jitter = PCL_RETRY_JITTER_NONE;
    cfg.base_delay_ns = 100 * MS;
    cfg.max_delay_ns = 150 * MS;
    cfg.pushback_max_ns = 500 * MS;
    pcl_retry_policy *p = NULL;
    CHECK_STATUS(pcl_retry_policy_new(&cfg, &p), PCL_STATUS_OK);

    pcl_retry_state st;
    uint64_t delay = 0;
    uint32_t attempts = 0;
    CHECK_STATUS(pcl_retry_state_init(p, 0, UINT64_MAX, 42, &st), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_state_attempts(&st, &attempts), PCL_STATUS_OK);
    CHECK(attempts == 1);
    CHECK_STATUS(pcl_retry_decide(p, &st, PCL_RETRY_RETRYABLE, 0, 0, &delay), PCL_STATUS_OK);
    CHECK(delay == 100 * MS);
    CHECK_STATUS(pcl_retry_decide(p, &st, PCL_RETRY_RETRYABLE, 0, 0, &delay), PCL_STATUS_OK);
    CHECK(delay == 150 * MS); /* 200 ms capped */
    CHECK_STATUS(pcl_retry_state_attempts(&st, &attempts), PCL_STATUS_OK);
    CHECK(attempts == 3);
    delay = 7;
    CHECK_STATUS(pcl_retry_decide(p, &st, PCL_RETRY_RETRYABLE, 0, 0, &delay), PCL_STATUS_RETRY_STOP_ATTEMPTS_EXHAUSTED);
    CHECK(delay == 7); /* not written on a stop */

    /* Classes: not retryable, server stop, push-back clamped to its bounds. */
    CHECK_STATUS(pcl_retry_state_init(p, 0, UINT64_MAX, 42, &st), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide(p, &st, PCL_RETRY_NOT_RETRYABLE, 0, 0, &delay), PCL_STATUS_RETRY_STOP_NOT_RETRYABLE);
    CHECK_STATUS(pcl_retry_decide(p, &st, PCL_RETRY_STOP_RETRYING, 0, 0, &delay), PCL_STATUS_RETRY_STOP_SERVER_PUSHBACK);
    CHECK_STATUS(pcl_retry_decide(p, &st, PCL_RETRY_RETRYABLE_AFTER, 10000 * MS, 0, &delay), PCL_STATUS_OK);
    CHECK(delay == 500 * MS);
    CHECK_STATUS(pcl_retry_decide(p, &st, 4, 0, 0, &delay), PCL_STATUS_INVALID_ARGUMENT);
    uint32_t cls = 99;
    uint64_t pb = 0;
    CHECK_STATUS(pcl_retry_class_from_pushback_ms(250, &cls, &pb), PCL_STATUS_OK);
    CHECK(cls == PCL_RETRY_RETRYABLE_AFTER && pb == 250 * MS);
    CHECK_STATUS(pcl_retry_class_from_pushback_ms(-1, &cls, &pb), PCL_STATUS_OK);
    CHECK(cls == PCL_RETRY_STOP_RETRYING);
    CHECK_STATUS(pcl_retry_class_from_pushback_ms(1, NULL, &pb), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_class_from_pushback_ms(1, &cls, NULL), PCL_STATUS_NULL_ARGUMENT);

    /* A deadline: the delay is shortened to what remains; then nothing remains. */
    CHECK_STATUS(pcl_retry_state_init(p, 0, 30 * MS, 42, &st), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide(p, &st, PCL_RETRY_RETRYABLE, 0, 10 * MS, &delay), PCL_STATUS_OK);
    CHECK(delay == 20 * MS);
    CHECK_STATUS(pcl_retry_decide(p, &st, PCL_RETRY_RETRYABLE, 0, 30 * MS, &delay), PCL_STATUS_RETRY_STOP_DEADLINE_EXCEEDED);
    CHECK_STATUS(pcl_retry_decide_now(p, &st, PCL_RETRY_RETRYABLE, 0, &delay), PCL_STATUS_RETRY_STOP_DEADLINE_EXCEEDED);

    /* The same seed replays the same jittered delays. */
    pcl_retry_policy *jp = NULL;
    cfg.jitter = PCL_RETRY_JITTER_FULL;
    cfg.max_attempts = 10;
    CHECK_STATUS(pcl_retry_policy_new(&cfg, &jp), PCL_STATUS_OK);
    pcl_retry_state a, b;
    CHECK_STATUS(pcl_retry_state_init(jp, 0, UINT64_MAX, 7, &a), PCL_STATUS_OK);
    b = a; /* plain data: copied */
    for (int i = 0; i < 5; i++) {
        uint64_t da = 0, db = 0;
        CHECK_STATUS(pcl_retry_decide(jp, &a, PCL_RETRY_RETRYABLE, 0, 0, &da), PCL_STATUS_OK);
        CHECK_STATUS(pcl_retry_decide(jp, &b, PCL_RETRY_RETRYABLE, 0, 0, &db), PCL_STATUS_OK);
        CHECK(da == db && da <= 150 * MS);
    }

    /* Budgets: a throttle of 4 tokens allows one retry under all failures (3 > 2, then 2). */
    pcl_retry_throttle_config tc = pcl_retry_throttle_config_default();
    tc.max_tokens = 4;
    pcl_retry_throttle *t = NULL;
    CHECK_STATUS(pcl_retry_throttle_new(&tc, &t), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_state_init(jp, 0, UINT64_MAX, 7, &a), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide_throttled(jp, &a, PCL_RETRY_RETRYABLE, 0, 0, t, &delay), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide_throttled(jp, &a, PCL_RETRY_RETRYABLE, 0, 0, t, &delay), PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED);
    CHECK_STATUS(pcl_retry_state_attempts(&a, &attempts), PCL_STATUS_OK);
    CHECK(attempts == 2); /* the refused retry left the state unchanged */
    CHECK_STATUS(pcl_retry_decide_throttled(jp, &a, PCL_RETRY_RETRYABLE, 0, 0, NULL, &delay), PCL_STATUS_NULL_ARGUMENT);
    pcl_retry_throttle_free(t);

    /* A ratio budget with no reserve: a retry needs deposits (200 ‰: five requests per retry). */
    pcl_retry_ratio_budget_config rc = pcl_retry_ratio_budget_config_default();
    rc.min_retries_per_sec = 0;
    pcl_retry_ratio_budget *rb = NULL;
    CHECK_STATUS(pcl_retry_ratio_budget_new(&rc, &rb), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_state_init(jp, 0, UINT64_MAX, 7, &a), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide_budgeted(jp, &a, PCL_RETRY_RETRYABLE, 0, 0, rb, &delay), PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED);
    for (int i = 0; i < 5; i++) CHECK_STATUS(pcl_retry_ratio_budget_record_request(rb, 0), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide_budgeted(jp, &a, PCL_RETRY_RETRYABLE, 0, 0, rb, &delay), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide_budgeted(jp, &a, PCL_RETRY_RETRYABLE, 0, 0, NULL, &delay), PCL_STATUS_NULL_ARGUMENT);
    pcl_retry_ratio_budget_free(rb);
    pcl_retry_policy_free(jp);
    pcl_retry_policy_free(p);
}

static void test_retry_budgets(void) {
    pcl_retry_throttle_config tc = pcl_retry_throttle_config_default();
    CHECK(tc.size == sizeof tc && tc.max_tokens == 10 && tc.token_ratio_milli == 100);
    tc.max_tokens = 4;
    tc.token_ratio_milli = 1600;
    CHECK(pcl_retry_throttle_size() == PCL_RETRY_THROTTLE_SIZE && pcl_retry_throttle_align() == PCL_RETRY_THROTTLE_ALIGN);
    CHECK_STATUS(pcl_retry_throttle_init(throttle_mem, PCL_RETRY_THROTTLE_SIZE - 1, &tc), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_retry_throttle_init(throttle_mem + 8, PCL_RETRY_THROTTLE_SIZE, &tc), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_retry_throttle_init(throttle_mem, PCL_RETRY_THROTTLE_SIZE, &tc), PCL_STATUS_OK);
    const pcl_retry_throttle *t = (const pcl_retry_throttle *)(void *)throttle_mem;
    /* gRPC core's own arithmetic (retry_throttle_test.cc). */
    uint64_t milli = 0;
    CHECK_STATUS(pcl_retry_throttle_record_failure(t), PCL_STATUS_OK); /* 3 > 2 */
    CHECK_STATUS(pcl_retry_throttle_record_success(t), PCL_STATUS_OK); /* 4 */
    CHECK_STATUS(pcl_retry_throttle_record_failure(t), PCL_STATUS_OK); /* 3 */
    CHECK_STATUS(pcl_retry_throttle_record_failure(t), PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED); /* 2 */
    CHECK_STATUS(pcl_retry_throttle_check(t, &milli), PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED);
    CHECK(milli == 2000);
    CHECK_STATUS(pcl_retry_throttle_record_success(t), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_throttle_check(t, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_throttle_record_failure(NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_throttle_record_success(NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_throttle_check(NULL, &milli), PCL_STATUS_NULL_ARGUMENT);
    pcl_retry_throttle *ht = NULL;
    pcl_retry_throttle_config bt = tc;
    bt.max_tokens = 0;
    CHECK_STATUS(pcl_retry_throttle_new(&bt, &ht), PCL_STATUS_INVALID_THROTTLE_MAX_TOKENS);
    bt = tc;
    bt.token_ratio_milli = 0;
    CHECK_STATUS(pcl_retry_throttle_new(&bt, &ht), PCL_STATUS_INVALID_THROTTLE_TOKEN_RATIO);
    CHECK_STATUS(pcl_retry_throttle_new(NULL, &ht), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_throttle_new(&tc, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_throttle_init(NULL, PCL_RETRY_THROTTLE_SIZE, &tc), PCL_STATUS_NULL_ARGUMENT);
    CHECK(ht == NULL);
    pcl_retry_throttle_free(NULL);

    pcl_retry_ratio_budget_config rc = pcl_retry_ratio_budget_config_default();
    CHECK(rc.size == sizeof rc && rc.ttl_ns == 10000 * MS && rc.min_retries_per_sec == 10 && rc.retry_ratio_permille == 200);
    CHECK(pcl_retry_ratio_budget_size() == PCL_RETRY_RATIO_BUDGET_SIZE && pcl_retry_ratio_budget_align() == PCL_RETRY_RATIO_BUDGET_ALIGN);
    rc.min_retries_per_sec = 0;
    rc.retry_ratio_permille = 1000; /* one retry per request */
    CHECK_STATUS(pcl_retry_ratio_budget_init(ratio_mem + 8, PCL_RETRY_RATIO_BUDGET_SIZE, &rc), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_retry_ratio_budget_init(ratio_mem, PCL_RETRY_RATIO_BUDGET_SIZE, &rc), PCL_STATUS_OK);
    const pcl_retry_ratio_budget *rb = (const pcl_retry_ratio_budget *)(void *)ratio_mem;
    uint64_t retries = 9;
    CHECK_STATUS(pcl_retry_ratio_budget_balance(rb, 0, &retries), PCL_STATUS_OK);
    CHECK(retries == 0);
    CHECK_STATUS(pcl_retry_ratio_budget_try_withdraw(rb, 0), PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED);
    CHECK_STATUS(pcl_retry_ratio_budget_record_request(rb, 0), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_ratio_budget_record_request(rb, 0), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_ratio_budget_balance(rb, 0, &retries), PCL_STATUS_OK);
    CHECK(retries == 2);
    CHECK_STATUS(pcl_retry_ratio_budget_try_withdraw(rb, 0), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_ratio_budget_try_withdraw(rb, 0), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_ratio_budget_try_withdraw(rb, 0), PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED);
    /* The _now variants on the real clock: a fresh budget with one deposit. */
    CHECK_STATUS(pcl_retry_ratio_budget_init(ratio_mem, PCL_RETRY_RATIO_BUDGET_SIZE, &rc), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_ratio_budget_try_withdraw_now(rb), PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED);
    CHECK_STATUS(pcl_retry_ratio_budget_record_request_now(rb), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_ratio_budget_balance_now(rb, &retries), PCL_STATUS_OK);
    CHECK(retries == 1);
    CHECK_STATUS(pcl_retry_ratio_budget_try_withdraw_now(rb), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_ratio_budget_record_request_now(NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_ratio_budget_try_withdraw_now(NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_ratio_budget_balance_now(NULL, &retries), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_ratio_budget_record_request(NULL, 0), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_ratio_budget_try_withdraw(NULL, 0), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_ratio_budget_balance(NULL, 0, &retries), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_ratio_budget_balance(rb, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    pcl_retry_ratio_budget *hb = NULL;
    pcl_retry_ratio_budget_config br = rc;
    br.ttl_ns = 0;
    CHECK_STATUS(pcl_retry_ratio_budget_new(&br, &hb), PCL_STATUS_INVALID_RATIO_BUDGET_TTL);
    br.ttl_ns = PCL_RATIO_BUDGET_BUCKETS * 1000 + 1;
    CHECK_STATUS(pcl_retry_ratio_budget_new(&br, &hb), PCL_STATUS_INVALID_RATIO_BUDGET_TTL);
    br = rc;
    br.retry_ratio_permille = 10001;
    CHECK_STATUS(pcl_retry_ratio_budget_new(&br, &hb), PCL_STATUS_INVALID_RATIO_BUDGET_RATIO);
    br = rc;
    br.min_retries_per_sec = UINT32_MAX;
    CHECK_STATUS(pcl_retry_ratio_budget_new(&br, &hb), PCL_STATUS_INVALID_RATIO_BUDGET_MIN_RETRIES);
    CHECK_STATUS(pcl_retry_ratio_budget_new(NULL, &hb), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_ratio_budget_new(&rc, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_ratio_budget_init(NULL, PCL_RETRY_RATIO_BUDGET_SIZE, &rc), PCL_STATUS_NULL_ARGUMENT);
    CHECK(hb == NULL);
    pcl_retry_ratio_budget_free(NULL);
}

static void test_retry_errors(void) {
    pcl_retry_config good = pcl_retry_config_default(), bad;
    pcl_retry_policy *p = NULL;
#define BAD(field, value, status)                               \
    do {                                                        \
        bad = good;                                             \
        bad.field = value;                                      \
        CHECK_STATUS(pcl_retry_policy_new(&bad, &p), status);   \
        CHECK(p == NULL);                                       \
    } while (0)
    BAD(max_attempts, 0, PCL_STATUS_INVALID_RETRY_MAX_ATTEMPTS);
    BAD(backoff, 4, PCL_STATUS_INVALID_RETRY_BACKOFF);
    BAD(multiplier_permille, 999, PCL_STATUS_INVALID_RETRY_MULTIPLIER);
    BAD(base_delay_ns, 0, PCL_STATUS_INVALID_RETRY_BASE_DELAY);
    BAD(max_delay_ns, 1, PCL_STATUS_INVALID_RETRY_MAX_DELAY);
    BAD(jitter, 5, PCL_STATUS_INVALID_RETRY_JITTER);
    BAD(total_budget_ns, 0, PCL_STATUS_INVALID_RETRY_TOTAL_BUDGET);
#undef BAD
    bad = good;
    bad.pushback_min_ns = 2;
    bad.pushback_max_ns = 1;
    CHECK_STATUS(pcl_retry_policy_new(&bad, &p), PCL_STATUS_INVALID_RETRY_PUSHBACK_MAX);
    bad = good;
    bad.jitter = PCL_RETRY_JITTER_PROPORTIONAL;
    bad.jitter_ppm = 1000001;
    CHECK_STATUS(pcl_retry_policy_new(&bad, &p), PCL_STATUS_INVALID_RETRY_JITTER_PPM);
    bad.jitter_ppm = 1000000;
    CHECK_STATUS(pcl_retry_policy_new(&bad, &p), PCL_STATUS_OK);
    pcl_retry_policy_free(p);
    bad = good;
    bad.size = sizeof bad - 1;
    CHECK_STATUS(pcl_retry_policy_new(&bad, &p), PCL_STATUS_VERSION_MISMATCH);

    CHECK(pcl_retry_policy_size() == PCL_RETRY_POLICY_SIZE && pcl_retry_policy_align() == PCL_RETRY_POLICY_ALIGN);
    CHECK_STATUS(pcl_retry_policy_new(NULL, &p), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_policy_new(&good, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_policy_init(NULL, PCL_RETRY_POLICY_SIZE, &good), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_policy_init(policy_mem, PCL_RETRY_POLICY_SIZE - 1, &good), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_retry_policy_init(policy_mem + 4, PCL_RETRY_POLICY_SIZE, &good), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_retry_policy_init(policy_mem, PCL_RETRY_POLICY_SIZE, &good), PCL_STATUS_OK);
    const pcl_retry_policy *sp = (const pcl_retry_policy *)(void *)policy_mem;
    pcl_retry_state st;
    uint64_t d = 0;
    uint32_t n = 0;
    CHECK_STATUS(pcl_retry_state_init(NULL, 0, UINT64_MAX, 1, &st), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_state_init(sp, 0, UINT64_MAX, 1, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_state_init(sp, 0, UINT64_MAX, 1, &st), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_state_attempts(NULL, &n), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_state_attempts(&st, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_decide(NULL, &st, PCL_RETRY_RETRYABLE, 0, 0, &d), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_decide(sp, NULL, PCL_RETRY_RETRYABLE, 0, 0, &d), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_decide(sp, &st, PCL_RETRY_RETRYABLE, 0, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_decide_now(NULL, &st, PCL_RETRY_RETRYABLE, 0, &d), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_decide(sp, &st, PCL_RETRY_RETRYABLE, 0, 0, &d), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_state_init_now(NULL, UINT64_MAX, 1, &st), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_state_init_now(sp, UINT64_MAX, 1, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_state_init_now(sp, UINT64_MAX, 1, &st), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide_now(sp, &st, PCL_RETRY_RETRYABLE, 0, &d), PCL_STATUS_OK);
    CHECK_STATUS(pcl_retry_decide_throttled_now(sp, &st, PCL_RETRY_RETRYABLE, 0, NULL, &d), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_decide_budgeted_now(sp, &st, PCL_RETRY_RETRYABLE, 0, NULL, &d), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_retry_decide_throttled(NULL, &st, PCL_RETRY_RETRYABLE, 0, 0, NULL, &d), PCL_STATUS_NULL_ARGUMENT);
    pcl_retry_policy_free(NULL);
}

void test_retry(void) {
    test_retry_decide();
    test_retry_budgets();
    test_retry_errors();
}
