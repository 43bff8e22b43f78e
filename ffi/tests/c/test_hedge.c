/* Latency histograms and hedging policies. */
#include <stdalign.h>

#include "pcl_test.h"

static alignas(PCL_HISTOGRAM_ALIGN) unsigned char histogram_mem[PCL_HISTOGRAM_SIZE + 8];
static alignas(PCL_HEDGE_POLICY_ALIGN) unsigned char hedge_mem[PCL_HEDGE_POLICY_SIZE + 128];

#define MS 1000000ull

static void test_histogram(void) {
    CHECK(pcl_histogram_size() == PCL_HISTOGRAM_SIZE && pcl_histogram_align() == PCL_HISTOGRAM_ALIGN);
    pcl_histogram *h = NULL;
    CHECK_STATUS(pcl_histogram_new(&h), PCL_STATUS_OK);
    uint64_t v = 7;
    CHECK_STATUS(pcl_histogram_percentile(h, 500000, &v), PCL_STATUS_EMPTY);
    CHECK(v == 7);
    for (uint64_t i = 1; i <= 40; i++) CHECK_STATUS(pcl_histogram_record(h, i), PCL_STATUS_OK);
    CHECK_STATUS(pcl_histogram_count(h, &v), PCL_STATUS_OK);
    CHECK(v == 40);
    CHECK_STATUS(pcl_histogram_percentile(h, 500000, &v), PCL_STATUS_OK);
    CHECK(v == 20);
    CHECK_STATUS(pcl_histogram_percentile(h, 950000, &v), PCL_STATUS_OK);
    CHECK(v == 38);
    CHECK_STATUS(pcl_histogram_percentile(h, 2000000, &v), PCL_STATUS_OK); /* reads as the max */
    CHECK(v == 40);
    /* Large values within the documented relative error. */
    CHECK_STATUS(pcl_histogram_reset(h), PCL_STATUS_OK);
    CHECK_STATUS(pcl_histogram_record(h, 123456789), PCL_STATUS_OK);
    CHECK_STATUS(pcl_histogram_percentile(h, 1000000, &v), PCL_STATUS_OK);
    CHECK(v >= 123456789ull - 123456789ull / 64 && v <= 123456789ull + 123456789ull / 64);
    pcl_histogram_free(h);
    pcl_histogram_free(NULL);

    CHECK_STATUS(pcl_histogram_new(NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_histogram_init(NULL, PCL_HISTOGRAM_SIZE), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_histogram_init(histogram_mem, PCL_HISTOGRAM_SIZE - 1), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_histogram_init(histogram_mem + 4, PCL_HISTOGRAM_SIZE), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_histogram_init(histogram_mem, PCL_HISTOGRAM_SIZE), PCL_STATUS_OK);
    const pcl_histogram *sh = (const pcl_histogram *)(void *)histogram_mem;
    CHECK_STATUS(pcl_histogram_record(sh, 5), PCL_STATUS_OK);
    CHECK_STATUS(pcl_histogram_count(sh, &v), PCL_STATUS_OK);
    CHECK(v == 1);
    CHECK_STATUS(pcl_histogram_record(NULL, 5), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_histogram_percentile(NULL, 1, &v), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_histogram_percentile(sh, 1, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_histogram_count(NULL, &v), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_histogram_count(sh, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_histogram_reset(NULL), PCL_STATUS_NULL_ARGUMENT);
}

static void test_hedge_policy(void) {
    pcl_hedge_config cfg = pcl_hedge_config_default();
    CHECK(cfg.size == sizeof cfg && cfg.static_delay_ns == 50 * MS && cfg.max_hedges == 1);
    cfg.max_hedges = 2;
    cfg.budget_burst = 2;
    cfg.budget_ratio_ppm = 0;
    pcl_hedge_policy *p = NULL;
    CHECK_STATUS(pcl_hedge_policy_new(&cfg, &p), PCL_STATUS_OK);
    uint64_t delay = 0;
    CHECK_STATUS(pcl_hedge_policy_on_call(p), PCL_STATUS_OK);
    /* Too few samples: the static delay. */
    CHECK_STATUS(pcl_hedge_policy_decide(p, 0, 0, PCL_NO_DEADLINE, &delay), PCL_STATUS_OK);
    CHECK(delay == 50 * MS);
    CHECK_STATUS(pcl_hedge_policy_decide(p, 0, 0, 50 * MS, &delay), PCL_STATUS_HEDGE_DEADLINE_TOO_CLOSE);
    CHECK_STATUS(pcl_hedge_policy_decide(p, 2, 0, PCL_NO_DEADLINE, &delay), PCL_STATUS_HEDGE_MAX_HEDGES);
    /* The budget holds 2 hedges and earns none (ratio 0). */
    CHECK_STATUS(pcl_hedge_policy_try_launch(p, 0), PCL_STATUS_OK);
    CHECK_STATUS(pcl_hedge_policy_try_launch(p, 1), PCL_STATUS_OK);
    CHECK_STATUS(pcl_hedge_policy_try_launch(p, 2), PCL_STATUS_HEDGE_MAX_HEDGES);
    CHECK_STATUS(pcl_hedge_policy_try_launch(p, 0), PCL_STATUS_HEDGE_BUDGET_EXHAUSTED);
    CHECK_STATUS(pcl_hedge_policy_decide(p, 0, 0, PCL_NO_DEADLINE, &delay), PCL_STATUS_HEDGE_BUDGET_EXHAUSTED);
    pcl_hedge_policy_free(p);

    /* Live percentiles: 200 latencies of 10 ms give a 10 ms delay (p50 = p95). */
    cfg = pcl_hedge_config_default();
    cfg.min_samples = 100;
    CHECK_STATUS(pcl_hedge_policy_new(&cfg, &p), PCL_STATUS_OK);
    for (int i = 0; i < 200; i++) CHECK_STATUS(pcl_hedge_policy_record_latency(p, 10 * MS, 0), PCL_STATUS_OK);
    CHECK_STATUS(pcl_hedge_policy_decide(p, 0, 0, PCL_NO_DEADLINE, &delay), PCL_STATUS_OK);
    CHECK(delay >= 10 * MS - 10 * MS / 64 && delay <= 10 * MS + 10 * MS / 64);
    CHECK_STATUS(pcl_hedge_policy_record_latency_now(p, 10 * MS), PCL_STATUS_OK);
    CHECK_STATUS(pcl_hedge_policy_decide_now(p, 0, PCL_NO_DEADLINE, &delay), PCL_STATUS_OK);
    pcl_hedge_policy_free(p);

    /* Config errors, one status per field. */
    pcl_hedge_config good = pcl_hedge_config_default(), bad;
#define BAD(field, value, status)                              \
    do {                                                       \
        bad = good;                                            \
        bad.field = value;                                     \
        p = NULL;                                              \
        CHECK_STATUS(pcl_hedge_policy_new(&bad, &p), status);  \
        CHECK(p == NULL);                                      \
    } while (0)
    BAD(low_ppm, 1000001, PCL_STATUS_INVALID_HEDGE_LOW_PPM);
    BAD(high_ppm, 1000001, PCL_STATUS_INVALID_HEDGE_HIGH_PPM);
    BAD(high_ppm, 1, PCL_STATUS_INVALID_HEDGE_HIGH_PPM);
    BAD(weight_ppm, 1000001, PCL_STATUS_INVALID_HEDGE_WEIGHT_PPM);
    BAD(max_delay_ns, 0, PCL_STATUS_INVALID_HEDGE_MAX_DELAY);
    BAD(max_hedges, 0, PCL_STATUS_INVALID_HEDGE_MAX_HEDGES);
    BAD(max_hedges, PCL_HEDGE_MAX_HEDGES + 1, PCL_STATUS_INVALID_HEDGE_MAX_HEDGES);
    BAD(refresh_interval_ns, 0, PCL_STATUS_INVALID_HEDGE_REFRESH_INTERVAL);
    BAD(window_ns, 0, PCL_STATUS_INVALID_HEDGE_WINDOW);
    BAD(budget_ratio_ppm, 1000001, PCL_STATUS_INVALID_HEDGE_BUDGET_RATIO);
    BAD(budget_burst, 0, PCL_STATUS_INVALID_HEDGE_BUDGET_BURST);
#undef BAD
    bad = good;
    bad.size = sizeof bad - 1;
    CHECK_STATUS(pcl_hedge_policy_new(&bad, &p), PCL_STATUS_VERSION_MISMATCH);

    /* NULLs and caller memory. */
    CHECK(pcl_hedge_policy_size() == PCL_HEDGE_POLICY_SIZE && pcl_hedge_policy_align() == PCL_HEDGE_POLICY_ALIGN);
    CHECK_STATUS(pcl_hedge_policy_new(NULL, &p), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_new(&good, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_init(NULL, PCL_HEDGE_POLICY_SIZE, &good), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_init(hedge_mem, PCL_HEDGE_POLICY_SIZE - 1, &good), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_hedge_policy_init(hedge_mem + 64, PCL_HEDGE_POLICY_SIZE, &good), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_hedge_policy_init(hedge_mem, PCL_HEDGE_POLICY_SIZE, &good), PCL_STATUS_OK);
    const pcl_hedge_policy *sp = (const pcl_hedge_policy *)(void *)hedge_mem;
    CHECK_STATUS(pcl_hedge_policy_decide(sp, 0, 0, PCL_NO_DEADLINE, &delay), PCL_STATUS_OK);
    CHECK_STATUS(pcl_hedge_policy_decide(sp, 0, 0, PCL_NO_DEADLINE, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_decide(NULL, 0, 0, PCL_NO_DEADLINE, &delay), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_decide_now(NULL, 0, PCL_NO_DEADLINE, &delay), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_on_call(NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_record_latency(NULL, 1, 0), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_record_latency_now(NULL, 1), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_hedge_policy_try_launch(NULL, 0), PCL_STATUS_NULL_ARGUMENT);
    pcl_hedge_policy_free(NULL);
}

void test_hedge(void) {
    test_histogram();
    test_hedge_policy();
}
