/* Adaptive concurrency limits (AIMD and gradient) feeding a bulkhead. */
#include <stdalign.h>

#include "pcl_test.h"

static alignas(PCL_AIMD_ALIGN) unsigned char aimd_mem[PCL_AIMD_SIZE + 8];
static alignas(PCL_GRADIENT_ALIGN) unsigned char gradient_mem[PCL_GRADIENT_SIZE + 8];

#define MS 1000000ull

static void test_aimd(void) {
    pcl_aimd_config cfg = pcl_aimd_config_default();
    CHECK(cfg.size == sizeof cfg && cfg.initial == 10 && cfg.floor == 1 && cfg.ceiling == 200);
    CHECK(cfg.backoff_permille == 900 && cfg.latency_threshold_ns == 100 * MS);
    cfg.initial = 4;
    pcl_aimd *a = NULL;
    CHECK_STATUS(pcl_aimd_new(&cfg, &a), PCL_STATUS_OK);
    bool changed = true;
    uint32_t limit = 0;
    /* One round of 4 fast samples at full concurrency raises the limit by 1. */
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(pcl_aimd_record(a, 5 * MS, 4, false, &changed), PCL_STATUS_OK);
        CHECK(!changed);
    }
    CHECK_STATUS(pcl_aimd_record(a, 5 * MS, 4, false, &changed), PCL_STATUS_OK);
    CHECK(changed);
    CHECK_STATUS(pcl_aimd_limit(a, &limit), PCL_STATUS_OK);
    CHECK(limit == 5);
    /* An overload (slower than the threshold, or dropped) backs off once per round. */
    CHECK_STATUS(pcl_aimd_record(a, 101 * MS, 5, false, &changed), PCL_STATUS_OK);
    CHECK(changed);
    CHECK_STATUS(pcl_aimd_record(a, 1 * MS, 5, true, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_aimd_limit(a, &limit), PCL_STATUS_OK);
    CHECK(limit == 4);

    /* Feeding a bulkhead resizes it to the limit. */
    pcl_bulkhead_config bc = pcl_bulkhead_config_default();
    bc.limit = 4;
    pcl_bulkhead *b = NULL;
    CHECK_STATUS(pcl_bulkhead_new(&bc, &b), PCL_STATUS_OK);
    for (int i = 0; i < 4; i++) CHECK_STATUS(pcl_aimd_feed(a, b, 5 * MS, 4, false, &limit), PCL_STATUS_OK);
    CHECK(limit == 5);
    pcl_bulkhead_stats s;
    CHECK_STATUS(pcl_bulkhead_snapshot(b, &s), PCL_STATUS_OK);
    CHECK(s.limit == 5);
    CHECK_STATUS(pcl_aimd_feed(a, NULL, 5 * MS, 4, false, &limit), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_aimd_feed(NULL, b, 5 * MS, 4, false, &limit), PCL_STATUS_NULL_ARGUMENT);
    pcl_aimd_free(a);

    /* Config errors. */
    pcl_aimd_config good = pcl_aimd_config_default(), bad;
#define BAD(field, value, status)                          \
    do {                                                   \
        bad = good;                                        \
        bad.field = value;                                 \
        a = NULL;                                          \
        CHECK_STATUS(pcl_aimd_new(&bad, &a), status);      \
        CHECK(a == NULL);                                  \
    } while (0)
    BAD(ceiling, 0, PCL_STATUS_INVALID_ADAPTIVE_CEILING);
    BAD(ceiling, PCL_ADAPTIVE_MAX_CEILING + 1, PCL_STATUS_INVALID_ADAPTIVE_CEILING);
    BAD(floor, 0, PCL_STATUS_INVALID_ADAPTIVE_FLOOR);
    BAD(floor, 201, PCL_STATUS_INVALID_ADAPTIVE_FLOOR);
    BAD(initial, 201, PCL_STATUS_INVALID_ADAPTIVE_INITIAL);
    BAD(latency_threshold_ns, 0, PCL_STATUS_INVALID_ADAPTIVE_LATENCY_THRESHOLD);
    BAD(increase, 0, PCL_STATUS_INVALID_ADAPTIVE_INCREASE);
    BAD(backoff_permille, 1000, PCL_STATUS_INVALID_ADAPTIVE_BACKOFF);
#undef BAD
    bad = good;
    bad.size = sizeof bad - 1;
    CHECK_STATUS(pcl_aimd_new(&bad, &a), PCL_STATUS_VERSION_MISMATCH);

    CHECK(pcl_aimd_size() == PCL_AIMD_SIZE && pcl_aimd_align() == PCL_AIMD_ALIGN);
    CHECK_STATUS(pcl_aimd_new(NULL, &a), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_aimd_new(&good, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_aimd_init(NULL, PCL_AIMD_SIZE, &good), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_aimd_init(aimd_mem, PCL_AIMD_SIZE - 1, &good), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_aimd_init(aimd_mem + 4, PCL_AIMD_SIZE, &good), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_aimd_init(aimd_mem, PCL_AIMD_SIZE, &good), PCL_STATUS_OK);
    const pcl_aimd *sa = (const pcl_aimd *)(void *)aimd_mem;
    CHECK_STATUS(pcl_aimd_limit(sa, &limit), PCL_STATUS_OK);
    CHECK(limit == 10);
    CHECK_STATUS(pcl_aimd_limit(sa, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_aimd_limit(NULL, &limit), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_aimd_record(NULL, 1, 1, false, NULL), PCL_STATUS_NULL_ARGUMENT);
    pcl_aimd_free(NULL);
    pcl_bulkhead_free(b);
}

static void test_gradient(void) {
    pcl_gradient_config cfg = pcl_gradient_config_default();
    CHECK(cfg.size == sizeof cfg && cfg.initial == 20 && cfg.floor == 3 && cfg.ceiling == 200);
    cfg.probe_interval = 0;
    pcl_gradient *g = NULL;
    CHECK_STATUS(pcl_gradient_new(&cfg, &g), PCL_STATUS_OK);
    uint32_t limit = 0;
    CHECK_STATUS(pcl_gradient_limit(g, &limit), PCL_STATUS_OK);
    CHECK(limit == 20);
    /* RTTs growing tenfold at full concurrency: the limit falls, never below the floor. */
    pcl_bulkhead_config bc = pcl_bulkhead_config_default();
    bc.limit = 20;
    pcl_bulkhead *b = NULL;
    CHECK_STATUS(pcl_bulkhead_new(&bc, &b), PCL_STATUS_OK);
    for (int i = 0; i < 200; i++) CHECK_STATUS(pcl_gradient_feed(g, b, 10 * MS, 20, false, NULL), PCL_STATUS_OK);
    for (int i = 0; i < 2000; i++) CHECK_STATUS(pcl_gradient_feed(g, b, 100 * MS, 20, false, &limit), PCL_STATUS_OK);
    CHECK(limit < 20 && limit >= 3);
    pcl_bulkhead_stats s;
    CHECK_STATUS(pcl_bulkhead_snapshot(b, &s), PCL_STATUS_OK);
    CHECK(s.limit == limit);
    bool changed = false;
    CHECK_STATUS(pcl_gradient_record(g, 100 * MS, 20, true, &changed), PCL_STATUS_OK);
    CHECK_STATUS(pcl_gradient_feed(g, NULL, 1, 1, false, NULL), PCL_STATUS_NULL_ARGUMENT);
    pcl_gradient_free(g);
    pcl_bulkhead_free(b);

    pcl_gradient_config good = pcl_gradient_config_default(), bad;
#define BAD(field, value, status)                              \
    do {                                                       \
        bad = good;                                            \
        bad.field = value;                                     \
        g = NULL;                                              \
        CHECK_STATUS(pcl_gradient_new(&bad, &g), status);      \
        CHECK(g == NULL);                                      \
    } while (0)
    BAD(ceiling, 0, PCL_STATUS_INVALID_ADAPTIVE_CEILING);
    BAD(floor, 0, PCL_STATUS_INVALID_ADAPTIVE_FLOOR);
    BAD(initial, 1, PCL_STATUS_INVALID_ADAPTIVE_INITIAL);
    BAD(queue_size, 201, PCL_STATUS_INVALID_ADAPTIVE_QUEUE_SIZE);
    BAD(smoothing_permille, 0, PCL_STATUS_INVALID_ADAPTIVE_SMOOTHING);
    BAD(tolerance_permille, 999, PCL_STATUS_INVALID_ADAPTIVE_TOLERANCE);
    BAD(probe_interval, 1u << 27, PCL_STATUS_INVALID_ADAPTIVE_PROBE_INTERVAL);
    BAD(probe_samples, 0, PCL_STATUS_INVALID_ADAPTIVE_PROBE_SAMPLES);
#undef BAD
    bad = good;
    bad.size = sizeof bad - 1;
    CHECK_STATUS(pcl_gradient_new(&bad, &g), PCL_STATUS_VERSION_MISMATCH);

    CHECK(pcl_gradient_size() == PCL_GRADIENT_SIZE && pcl_gradient_align() == PCL_GRADIENT_ALIGN);
    CHECK_STATUS(pcl_gradient_new(NULL, &g), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_gradient_new(&good, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_gradient_init(NULL, PCL_GRADIENT_SIZE, &good), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_gradient_init(gradient_mem, PCL_GRADIENT_SIZE - 1, &good), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_gradient_init(gradient_mem + 4, PCL_GRADIENT_SIZE, &good), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_gradient_init(gradient_mem, PCL_GRADIENT_SIZE, &good), PCL_STATUS_OK);
    const pcl_gradient *sg = (const pcl_gradient *)(void *)gradient_mem;
    CHECK_STATUS(pcl_gradient_limit(sg, &limit), PCL_STATUS_OK);
    CHECK(limit == 20);
    CHECK_STATUS(pcl_gradient_limit(sg, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_gradient_limit(NULL, &limit), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_gradient_record(NULL, 1, 1, false, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_gradient_feed(NULL, NULL, 1, 1, false, NULL), PCL_STATUS_NULL_ARGUMENT);
    pcl_gradient_free(NULL);
}

void test_adaptive(void) {
    test_aimd();
    test_gradient();
}
