/* Circuit breakers: count and time windows, plain permits, every refusal, operator calls. */
#include <stdalign.h>
#include <stdint.h>

#include "pcl_test.h"

static alignas(PCL_BREAKER_ALIGN) unsigned char breaker_mem[PCL_BREAKER_SIZE + 128];

#define SEC 1000000000ull

/* A breaker tripping on 2 consecutive failures, open 1 s, no jitter, one probe. */
static pcl_breaker_config two_failures(void) {
    pcl_breaker_config cfg = pcl_breaker_config_default();
    cfg.consecutive_failures = 2;
    cfg.open_duration_ns = SEC;
    cfg.max_open_duration_ns = SEC;
    cfg.jitter_ppm = 0;
    cfg.probe_timeout_ns = SEC;
    return cfg;
}

static void test_breaker_cycle(pcl_breaker_config cfg) {
    pcl_breaker *b = NULL;
    CHECK_STATUS(pcl_breaker_new(&cfg, &b), PCL_STATUS_OK);
    pcl_breaker_permit p;
    uint64_t after = 0;
    uint32_t t = 99, st = 99;

    CHECK_STATUS(pcl_breaker_try_acquire(b, 0, &p, NULL), PCL_STATUS_OK);
    CHECK(p.kind == PCL_BREAKER_PERMIT_TRACKED && p.generation == 0);
    CHECK(p.transition == PCL_BREAKER_TRANSITION_NONE && p.shadow_rejection == PCL_STATUS_OK);
    CHECK_STATUS(pcl_breaker_record(b, &p, PCL_OUTCOME_FAILURE, 0, &t), PCL_STATUS_OK);
    CHECK(t == PCL_BREAKER_TRANSITION_NONE);
    /* A permit is plain data: copying it is fine, it is recorded by value. */
    pcl_breaker_permit second;
    CHECK_STATUS(pcl_breaker_try_acquire(b, 0, &second, &after), PCL_STATUS_OK);
    CHECK(after == 0); /* not written on success */
    CHECK_STATUS(pcl_breaker_record(b, &second, PCL_OUTCOME_SLOW_FAILURE, 0, &t), PCL_STATUS_OK);
    CHECK(t == PCL_BREAKER_TRANSITION_OPENED);
    CHECK_STATUS(pcl_breaker_state(b, &st), PCL_STATUS_OK);
    CHECK(st == PCL_BREAKER_OPEN);

    /* Open: rejected with the time left; a late outcome of the old generation is not counted. */
    CHECK_STATUS(pcl_breaker_try_acquire(b, SEC / 2, &p, &after), PCL_STATUS_REJECTED_OPEN);
    CHECK(after > 0 && after <= SEC);
    CHECK_STATUS(pcl_breaker_try_acquire(b, SEC / 2, &p, NULL), PCL_STATUS_REJECTED_OPEN);
    CHECK_STATUS(pcl_breaker_record(b, &second, PCL_OUTCOME_FAILURE, SEC / 2, NULL), PCL_STATUS_NOT_COUNTED);

    /* After the open period: one probe, then the half-open period is full. */
    pcl_breaker_permit probe;
    CHECK_STATUS(pcl_breaker_try_acquire(b, 3 * SEC, &probe, NULL), PCL_STATUS_OK);
    CHECK(probe.kind == PCL_BREAKER_PERMIT_PROBE && probe.transition == PCL_BREAKER_TRANSITION_HALF_OPENED);
    CHECK_STATUS(pcl_breaker_try_acquire(b, 3 * SEC, &p, &after), PCL_STATUS_REJECTED_HALF_OPEN_FULL);
    /* Ignoring the probe frees its place. */
    CHECK_STATUS(pcl_breaker_ignore(b, &probe), PCL_STATUS_OK);
    CHECK_STATUS(pcl_breaker_try_acquire(b, 3 * SEC, &probe, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_breaker_record(b, &probe, PCL_OUTCOME_SUCCESS, 3 * SEC, &t), PCL_STATUS_OK);
    CHECK(t == PCL_BREAKER_TRANSITION_CLOSED);

    pcl_breaker_stats s;
    CHECK_STATUS(pcl_breaker_snapshot(b, 3 * SEC, &s), PCL_STATUS_OK);
    CHECK(s.state == PCL_BREAKER_CLOSED && s.times_tripped == 1 && s.calls == 0);
    CHECK(s.failure_rate_ppm == PCL_BREAKER_NO_RATE && s.open_remaining_ns == PCL_BREAKER_NOT_OPEN);
    CHECK_STATUS(pcl_breaker_snapshot_now(b, &s), PCL_STATUS_OK);

    /* Operator calls report the state they replaced. */
    uint32_t prev = 99;
    CHECK_STATUS(pcl_breaker_force_open(b, &prev), PCL_STATUS_OK);
    CHECK(prev == PCL_BREAKER_CLOSED);
    after = 12345;
    CHECK_STATUS(pcl_breaker_try_acquire(b, 3 * SEC, &p, &after), PCL_STATUS_REJECTED_FORCED_OPEN);
    CHECK(after == 12345); /* no known end: not written */
    CHECK_STATUS(pcl_breaker_try_acquire_now(b, &p, NULL), PCL_STATUS_REJECTED_FORCED_OPEN);
    CHECK_STATUS(pcl_breaker_disable(b, &prev), PCL_STATUS_OK);
    CHECK(prev == PCL_BREAKER_FORCED_OPEN);
    CHECK_STATUS(pcl_breaker_try_acquire(b, 3 * SEC, &p, NULL), PCL_STATUS_OK);
    CHECK(p.kind == PCL_BREAKER_PERMIT_UNTRACKED);
    CHECK_STATUS(pcl_breaker_record(b, &p, PCL_OUTCOME_FAILURE, 3 * SEC, NULL), PCL_STATUS_NOT_COUNTED);
    CHECK_STATUS(pcl_breaker_metrics_only(b, NULL), PCL_STATUS_OK);
    for (int i = 0; i < 5; i++) {
        CHECK_STATUS(pcl_breaker_try_acquire(b, 3 * SEC, &p, NULL), PCL_STATUS_OK);
        CHECK_STATUS(pcl_breaker_record_now(b, &p, PCL_OUTCOME_FAILURE, NULL), PCL_STATUS_OK);
    }
    CHECK_STATUS(pcl_breaker_state(b, &st), PCL_STATUS_OK);
    CHECK(st == PCL_BREAKER_METRICS_ONLY); /* never trips */
    CHECK_STATUS(pcl_breaker_force_close(b, &prev), PCL_STATUS_OK);
    CHECK(prev == PCL_BREAKER_METRICS_ONLY);
    CHECK_STATUS(pcl_breaker_reset(b, &prev), PCL_STATUS_OK);
    CHECK_STATUS(pcl_breaker_snapshot(b, 3 * SEC, &s), PCL_STATUS_OK);
    CHECK(s.times_tripped == 0 && s.state == PCL_BREAKER_CLOSED);

    /* Unknown outcome or permit kind: refused, nothing recorded. */
    CHECK_STATUS(pcl_breaker_try_acquire(b, 3 * SEC, &p, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_breaker_record(b, &p, 0, 3 * SEC, NULL), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_breaker_record(b, &p, 5, 3 * SEC, NULL), PCL_STATUS_INVALID_ARGUMENT);
    pcl_breaker_permit forged = p;
    forged.kind = 4;
    CHECK_STATUS(pcl_breaker_record(b, &forged, PCL_OUTCOME_FAILURE, 3 * SEC, NULL), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_breaker_ignore(b, &forged), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_breaker_snapshot(b, 3 * SEC, &s), PCL_STATUS_OK);
    CHECK(s.calls == 0);
    CHECK_STATUS(pcl_breaker_ignore(b, &p), PCL_STATUS_OK);
    pcl_breaker_free(b);
}

static void test_breaker_shadow_and_rates(void) {
    pcl_breaker_config cfg = two_failures();
    cfg.shadow = true;
    cfg.count_rejections = true;
    pcl_breaker *b = NULL;
    CHECK_STATUS(pcl_breaker_new(&cfg, &b), PCL_STATUS_OK);
    pcl_breaker_permit p;
    CHECK_STATUS(pcl_breaker_force_open(b, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_breaker_try_acquire(b, 0, &p, NULL), PCL_STATUS_OK);
    CHECK(p.kind == PCL_BREAKER_PERMIT_SHADOW && p.shadow_rejection == PCL_STATUS_REJECTED_FORCED_OPEN);
    CHECK_STATUS(pcl_breaker_record(b, &p, PCL_OUTCOME_FAILURE, 0, NULL), PCL_STATUS_NOT_COUNTED);
    pcl_breaker_stats s;
    CHECK_STATUS(pcl_breaker_snapshot(b, 0, &s), PCL_STATUS_OK);
    CHECK(s.rejected == 1);
    pcl_breaker_free(b);

    /* A failure-rate rule on a count window of 4: trips at 50 % once 4 calls are in. */
    cfg = two_failures();
    cfg.consecutive_failures = 0;
    cfg.failure_rate_ppm = 500000;
    cfg.min_calls = 4;
    cfg.window_size = 4;
    CHECK_STATUS(pcl_breaker_new(&cfg, &b), PCL_STATUS_OK);
    const uint32_t outcomes[] = {PCL_OUTCOME_FAILURE, PCL_OUTCOME_SUCCESS, PCL_OUTCOME_SLOW_SUCCESS, PCL_OUTCOME_FAILURE};
    uint32_t t = 0;
    for (int i = 0; i < 4; i++) {
        CHECK_STATUS(pcl_breaker_try_acquire(b, 0, &p, NULL), PCL_STATUS_OK);
        CHECK_STATUS(pcl_breaker_record(b, &p, outcomes[i], 0, &t), PCL_STATUS_OK);
        CHECK(t == (i == 3 ? PCL_BREAKER_TRANSITION_OPENED : PCL_BREAKER_TRANSITION_NONE));
    }
    CHECK_STATUS(pcl_breaker_snapshot(b, 0, &s), PCL_STATUS_OK);
    CHECK(s.state == PCL_BREAKER_OPEN && s.open_remaining_ns > 0 && s.open_remaining_ns != PCL_BREAKER_NOT_OPEN);
    pcl_breaker_free(b);
}

static void test_breaker_config_errors(void) {
    pcl_breaker_config good = two_failures();
    pcl_breaker_config bad;
    pcl_breaker *b = NULL;
#define BAD(field, value, status)                                  \
    do {                                                           \
        bad = good;                                                \
        bad.field = value;                                         \
        b = NULL;                                                  \
        CHECK_STATUS(pcl_breaker_new(&bad, &b), status);           \
        CHECK(b == NULL);                                          \
    } while (0)
    BAD(window_kind, 2, PCL_STATUS_INVALID_BREAKER_WINDOW_KIND);
    BAD(window_size, 0, PCL_STATUS_INVALID_WINDOW_SIZE);
    BAD(window_size, PCL_BREAKER_MAX_WINDOW_SIZE + 1, PCL_STATUS_INVALID_WINDOW_SIZE);
    BAD(failure_rate_ppm, 1000001, PCL_STATUS_INVALID_BREAKER_FAILURE_RATE);
    BAD(slow_rate_ppm, 1000001, PCL_STATUS_INVALID_BREAKER_SLOW_RATE);
    bad = good;
    bad.failure_rate_ppm = 500000;
    bad.min_calls = 0;
    CHECK_STATUS(pcl_breaker_new(&bad, &b), PCL_STATUS_INVALID_BREAKER_MIN_CALLS);
    bad.min_calls = 101; /* above the count window's 100 */
    CHECK_STATUS(pcl_breaker_new(&bad, &b), PCL_STATUS_INVALID_BREAKER_MIN_CALLS);
    BAD(open_duration_ns, 0, PCL_STATUS_INVALID_BREAKER_OPEN_DURATION);
    BAD(max_open_duration_ns, SEC - 1, PCL_STATUS_INVALID_BREAKER_MAX_OPEN_DURATION);
    BAD(jitter_ppm, 1000001, PCL_STATUS_INVALID_BREAKER_JITTER);
    BAD(half_open_probes, 0, PCL_STATUS_INVALID_BREAKER_HALF_OPEN_PROBES);
    BAD(half_open_probes, PCL_BREAKER_MAX_PROBES + 1, PCL_STATUS_INVALID_BREAKER_HALF_OPEN_PROBES);
    BAD(successes_to_close, 0, PCL_STATUS_INVALID_BREAKER_SUCCESSES_TO_CLOSE);
    BAD(successes_to_close, 2, PCL_STATUS_INVALID_BREAKER_SUCCESSES_TO_CLOSE);
    BAD(half_open_by_rate, true, PCL_STATUS_INVALID_BREAKER_HALF_OPEN_BY_RATE);
    BAD(probe_timeout_ns, 0, PCL_STATUS_INVALID_BREAKER_PROBE_TIMEOUT);
    good.window_kind = PCL_BREAKER_WINDOW_TIME;
    BAD(window_buckets, 0, PCL_STATUS_INVALID_WINDOW_BUCKETS);
    BAD(window_buckets, PCL_BREAKER_MAX_WINDOW_BUCKETS + 1, PCL_STATUS_INVALID_WINDOW_BUCKETS);
    BAD(window_duration_ns, 0, PCL_STATUS_INVALID_WINDOW_DURATION);
    BAD(window_duration_ns, 10 * SEC + 1, PCL_STATUS_INVALID_WINDOW_DURATION);
#undef BAD

    /* Versioned configs: too small, or newer with a non-zero tail. */
    bad = good;
    bad.size = sizeof bad - 1;
    CHECK_STATUS(pcl_breaker_new(&bad, &b), PCL_STATUS_VERSION_MISMATCH);
    struct {
        pcl_breaker_config base;
        uint64_t future_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.base = good;
    newer.base.size = sizeof newer;
    b = NULL;
    CHECK_STATUS(pcl_breaker_new(&newer.base, &b), PCL_STATUS_OK);
    pcl_breaker_free(b);
    newer.future_field = 1;
    CHECK_STATUS(pcl_breaker_new(&newer.base, &b), PCL_STATUS_VERSION_MISMATCH);

    /* A bool field holding a byte other than 0/1 is read as true, never as undefined. */
    bad = good;
    memset(&bad.shadow, 7, 1);
    b = NULL;
    CHECK_STATUS(pcl_breaker_new(&bad, &b), PCL_STATUS_OK);
    pcl_breaker_free(b);
}

static void test_breaker_nulls_and_memory(void) {
    pcl_breaker_config cfg = two_failures();
    pcl_breaker *b = NULL;
    pcl_breaker_permit p = {0, 0, 0, 0};
    pcl_breaker_stats s;
    uint32_t u = 0;
    CHECK(pcl_breaker_size() == PCL_BREAKER_SIZE && pcl_breaker_align() == PCL_BREAKER_ALIGN);
    CHECK(cfg.size == sizeof cfg);
    CHECK_STATUS(pcl_breaker_new(NULL, &b), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_new(&cfg, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_init(NULL, PCL_BREAKER_SIZE, &cfg), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_init(breaker_mem, PCL_BREAKER_SIZE, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_init(breaker_mem, PCL_BREAKER_SIZE - 1, &cfg), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_breaker_init(breaker_mem + 64, PCL_BREAKER_SIZE, &cfg), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_breaker_init(breaker_mem, PCL_BREAKER_SIZE, &cfg), PCL_STATUS_OK);
    const pcl_breaker *sb = (const pcl_breaker *)(void *)breaker_mem;
    CHECK_STATUS(pcl_breaker_try_acquire(sb, 0, NULL, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_try_acquire(NULL, 0, &p, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_try_acquire_now(NULL, &p, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_record(NULL, &p, PCL_OUTCOME_SUCCESS, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_record(sb, NULL, PCL_OUTCOME_SUCCESS, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_record_now(NULL, &p, PCL_OUTCOME_SUCCESS, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_ignore(NULL, &p), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_ignore(sb, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_state(NULL, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_state(sb, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_snapshot(NULL, 0, &s), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_snapshot(sb, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_snapshot_now(NULL, &s), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_force_open(NULL, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_force_close(NULL, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_disable(NULL, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_metrics_only(NULL, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_reset(NULL, &u), PCL_STATUS_NULL_ARGUMENT);
    pcl_breaker_free(NULL);
    /* The breaker in caller memory works. */
    CHECK_STATUS(pcl_breaker_try_acquire(sb, 0, &p, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_breaker_record(sb, &p, PCL_OUTCOME_SUCCESS, 0, NULL), PCL_STATUS_OK);
}

/* Batch records: one call for many permits; the generation rule applies inside the batch. */
static void test_breaker_batch(void) {
    pcl_breaker_config cfg = two_failures();
    pcl_breaker *b = NULL;
    CHECK_STATUS(pcl_breaker_new(&cfg, &b), PCL_STATUS_OK);
    pcl_breaker_permit ps[4];
    for (int i = 0; i < 4; i++) CHECK_STATUS(pcl_breaker_try_acquire(b, 0, &ps[i], NULL), PCL_STATUS_OK);
    size_t counted = 99;
    uint32_t t = 99;

    /* Checked first: one unknown outcome or permit kind, nothing recorded. */
    uint32_t bad[4] = {PCL_OUTCOME_FAILURE, PCL_OUTCOME_FAILURE, 77, PCL_OUTCOME_SUCCESS};
    CHECK_STATUS(pcl_breaker_record_batch(b, ps, bad, 4, 0, &counted, &t), PCL_STATUS_INVALID_ARGUMENT);
    CHECK(counted == 99 && t == 99);
    pcl_breaker_permit odd = ps[0];
    odd.kind = 9;
    uint32_t one[1] = {PCL_OUTCOME_FAILURE};
    CHECK_STATUS(pcl_breaker_record_batch(b, &odd, one, 1, 0, NULL, NULL), PCL_STATUS_INVALID_ARGUMENT);
    pcl_breaker_stats s;
    CHECK_STATUS(pcl_breaker_snapshot(b, 0, &s), PCL_STATUS_OK);
    CHECK(s.calls == 0 && s.consecutive_failures == 0);

    /* NULL arrays with n > 0, a NULL breaker; n == 0 is a no-op even with NULL arrays. */
    CHECK_STATUS(pcl_breaker_record_batch(b, NULL, one, 1, 0, NULL, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_record_batch(b, ps, NULL, 1, 0, NULL, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_record_batch(NULL, ps, one, 1, 0, NULL, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_breaker_record_batch(b, NULL, NULL, 0, 0, &counted, &t), PCL_STATUS_OK);
    CHECK(counted == 0 && t == PCL_BREAKER_TRANSITION_NONE);
    /* An impossible length is refused before anything is read. */
    CHECK_STATUS(pcl_breaker_record_batch(b, ps, one, SIZE_MAX, 0, NULL, NULL), PCL_STATUS_INVALID_ARGUMENT);

    /* Two failures trip the breaker; the last two permits belong to the old generation. */
    uint32_t outs[4] = {PCL_OUTCOME_FAILURE, PCL_OUTCOME_FAILURE, PCL_OUTCOME_FAILURE, PCL_OUTCOME_SUCCESS};
    CHECK_STATUS(pcl_breaker_record_batch(b, ps, outs, 4, 0, &counted, &t), PCL_STATUS_OK);
    CHECK(counted == 2 && t == PCL_BREAKER_TRANSITION_OPENED);
    uint32_t st = 99;
    CHECK_STATUS(pcl_breaker_state(b, &st), PCL_STATUS_OK);
    CHECK(st == PCL_BREAKER_OPEN);
    pcl_breaker_free(b);
}

/* Weighted outcomes: a failure of weight 2 reaches a 2-failure rule alone; weights are checked. */
static void test_breaker_weighted(void) {
    pcl_breaker_config cfg = two_failures();
    pcl_breaker *b = NULL;
    CHECK_STATUS(pcl_breaker_new(&cfg, &b), PCL_STATUS_OK);
    pcl_breaker_permit p;
    uint32_t t = 99;
    CHECK_STATUS(pcl_breaker_try_acquire(b, 0, &p, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_breaker_record_weighted(b, &p, PCL_OUTCOME_FAILURE, 0, 0, &t), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_breaker_record_weighted(b, &p, PCL_OUTCOME_FAILURE, PCL_BREAKER_MAX_WEIGHT + 1, 0, &t),
                 PCL_STATUS_INVALID_ARGUMENT);
    CHECK(t == 99);
    pcl_breaker_stats s;
    CHECK_STATUS(pcl_breaker_snapshot(b, 0, &s), PCL_STATUS_OK);
    CHECK(s.calls == 0);
    CHECK_STATUS(pcl_breaker_record_weighted(b, &p, PCL_OUTCOME_FAILURE, 2, 0, &t), PCL_STATUS_OK);
    CHECK(t == PCL_BREAKER_TRANSITION_OPENED);
    CHECK_STATUS(pcl_breaker_snapshot(b, 0, &s), PCL_STATUS_OK);
    CHECK(s.state == PCL_BREAKER_OPEN);
    CHECK_STATUS(pcl_breaker_record_weighted(NULL, &p, PCL_OUTCOME_FAILURE, 1, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    pcl_breaker_free(b);
}

/* The inline admission through the state word agrees with pcl_breaker_try_acquire. */
static int inline_admit(const uint64_t *word, pcl_breaker_permit *out) {
    uint64_t w = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    uint64_t state = w & PCL_BREAKER_WORD_STATE_MASK;
    if (state != PCL_BREAKER_CLOSED && state != PCL_BREAKER_METRICS_ONLY) return 0;
    out->generation = (uint32_t)((w >> PCL_BREAKER_WORD_GENERATION_SHIFT) & PCL_BREAKER_WORD_GENERATION_MASK);
    out->kind = PCL_BREAKER_PERMIT_TRACKED;
    out->transition = PCL_BREAKER_TRANSITION_NONE;
    out->shadow_rejection = PCL_STATUS_OK;
    return 1;
}

static void test_breaker_state_word(void) {
    pcl_breaker_config cfg = two_failures();
    pcl_breaker *b = NULL;
    CHECK_STATUS(pcl_breaker_new(&cfg, &b), PCL_STATUS_OK);
    CHECK(pcl_breaker_state_word(NULL) == NULL);
    const uint64_t *word = pcl_breaker_state_word(b);
    CHECK(word != NULL);
    pcl_breaker_permit fast, slow;
    for (int round = 0; round < 2; round++) {
        CHECK(inline_admit(word, &fast));
        CHECK_STATUS(pcl_breaker_try_acquire(b, 2 * SEC * (uint64_t)round, &slow, NULL), PCL_STATUS_OK);
        CHECK(memcmp(&fast, &slow, sizeof fast) == 0);
        /* The inline permit is recorded like any other: two failures trip the breaker. */
        CHECK_STATUS(pcl_breaker_record(b, &fast, PCL_OUTCOME_FAILURE, 2 * SEC * (uint64_t)round, NULL), PCL_STATUS_OK);
        CHECK_STATUS(pcl_breaker_record(b, &slow, PCL_OUTCOME_FAILURE, 2 * SEC * (uint64_t)round, NULL), PCL_STATUS_OK);
        CHECK(!inline_admit(word, &fast)); /* open: ask pcl_breaker_try_acquire */
        CHECK_STATUS(pcl_breaker_force_close(b, NULL), PCL_STATUS_OK);
    }
    pcl_breaker_free(b);
}

void test_breaker(void) {
    test_breaker_cycle(two_failures());
    pcl_breaker_config timed = two_failures();
    timed.window_kind = PCL_BREAKER_WINDOW_TIME;
    test_breaker_cycle(timed);
    test_breaker_shadow_and_rates();
    test_breaker_config_errors();
    test_breaker_nulls_and_memory();
    test_breaker_batch();
    test_breaker_weighted();
    test_breaker_state_word();
}
