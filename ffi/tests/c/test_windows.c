/* Count and time windows: heap and caller-memory objects, every status, NULL everywhere. */
#include <stdalign.h>
#include <stdlib.h>

#include <stdint.h>

#include "pcl_test.h"

/* Static storage, as a C service would place a window without the heap. */
static alignas(PCL_COUNT_WINDOW_ALIGN) unsigned char count_mem[PCL_COUNT_WINDOW_SIZE + PCL_COUNT_WINDOW_ALIGN];
static alignas(PCL_TIME_WINDOW_ALIGN) unsigned char time_mem[PCL_TIME_WINDOW_SIZE + PCL_TIME_WINDOW_ALIGN];

static void check_counts(pcl_window_counts c, uint64_t calls, uint64_t failures, uint64_t slow) {
    CHECK(c.calls == calls);
    CHECK(c.failures == failures);
    CHECK(c.slow == slow);
}

void test_count_window(void) {
    CHECK(pcl_count_window_size() == PCL_COUNT_WINDOW_SIZE);
    CHECK(pcl_count_window_align() == PCL_COUNT_WINDOW_ALIGN);
    pcl_count_window_config cfg = pcl_count_window_config_default();
    CHECK(cfg.size == sizeof cfg);
    CHECK(cfg.window_size == 100);

    /* Heap object. */
    cfg.window_size = 3;
    pcl_count_window *w = NULL;
    CHECK_STATUS(pcl_count_window_new(&cfg, &w), PCL_STATUS_OK);
    CHECK(w != NULL);
    pcl_window_counts c;
    memset(&c, 0xff, sizeof c);
    CHECK_STATUS(pcl_count_window_counts(w, &c), PCL_STATUS_OK);
    check_counts(c, 0, 0, 0);
    CHECK_STATUS(pcl_count_window_record(w, PCL_OUTCOME_FAILURE), PCL_STATUS_OK);
    CHECK_STATUS(pcl_count_window_record(w, PCL_OUTCOME_SLOW_SUCCESS), PCL_STATUS_OK);
    CHECK_STATUS(pcl_count_window_record(w, PCL_OUTCOME_SLOW_FAILURE), PCL_STATUS_OK);
    CHECK_STATUS(pcl_count_window_counts(w, &c), PCL_STATUS_OK);
    check_counts(c, 3, 2, 2);
    CHECK_STATUS(pcl_count_window_record(w, PCL_OUTCOME_SUCCESS), PCL_STATUS_OK); /* evicts the failure */
    CHECK_STATUS(pcl_count_window_counts(w, &c), PCL_STATUS_OK);
    check_counts(c, 3, 1, 2);
    /* Invalid outcomes are rejected without changing anything. */
    CHECK_STATUS(pcl_count_window_record(w, 0), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_count_window_record(w, 5), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_count_window_record(w, 0xffffffffu), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_count_window_counts(w, &c), PCL_STATUS_OK);
    check_counts(c, 3, 1, 2);
    CHECK_STATUS(pcl_count_window_reset(w), PCL_STATUS_OK);
    CHECK_STATUS(pcl_count_window_counts(w, &c), PCL_STATUS_OK);
    check_counts(c, 0, 0, 0);
    CHECK_STATUS(pcl_count_window_counts(w, NULL), PCL_STATUS_NULL_ARGUMENT);
    pcl_count_window_free(w);
    pcl_count_window_free(NULL); /* a no-op */

    /* NULL for every pointer argument. */
    pcl_count_window_config good = pcl_count_window_config_default();
    CHECK_STATUS(pcl_count_window_new(NULL, &w), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_count_window_new(&good, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_count_window_init(NULL, sizeof count_mem, &good), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_count_window_init(count_mem, sizeof count_mem, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_count_window_record(NULL, PCL_OUTCOME_SUCCESS), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_count_window_counts(NULL, &c), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_count_window_reset(NULL), PCL_STATUS_NULL_ARGUMENT);

    /* Invalid configs: each field its own status; the out pointer is not written. */
    pcl_count_window_config bad = good;
    w = NULL;
    bad.window_size = 0;
    CHECK_STATUS(pcl_count_window_new(&bad, &w), PCL_STATUS_INVALID_WINDOW_SIZE);
    CHECK(w == NULL);
    bad.window_size = PCL_COUNT_WINDOW_MAX_SIZE + 1;
    CHECK_STATUS(pcl_count_window_new(&bad, &w), PCL_STATUS_INVALID_WINDOW_SIZE);
    bad = good;
    bad.size = 0; /* not a config this library understands */
    CHECK_STATUS(pcl_count_window_new(&bad, &w), PCL_STATUS_VERSION_MISMATCH);
    bad.size = 1u << 20; /* absurd size: rejected before anything is read past the struct */
    CHECK_STATUS(pcl_count_window_new(&bad, &w), PCL_STATUS_VERSION_MISMATCH);
    CHECK(w == NULL);

    /* A config from a newer header: larger, with zero tail (accepted) or non-zero tail (refused). */
    struct {
        pcl_count_window_config base;
        uint64_t future_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.base = good;
    newer.base.size = sizeof newer;
    CHECK_STATUS(pcl_count_window_new(&newer.base, &w), PCL_STATUS_OK);
    pcl_count_window_free(w);
    newer.future_field = 7;
    w = NULL;
    CHECK_STATUS(pcl_count_window_new(&newer.base, &w), PCL_STATUS_VERSION_MISMATCH);
    CHECK(w == NULL);

    /* Caller memory: too small, misaligned, then right. */
    CHECK_STATUS(pcl_count_window_init(count_mem, PCL_COUNT_WINDOW_SIZE - 1, &good), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_count_window_init(count_mem + 8, PCL_COUNT_WINDOW_SIZE, &good), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_count_window_init(count_mem, PCL_COUNT_WINDOW_SIZE, &good), PCL_STATUS_OK);
    const pcl_count_window *sw = (const pcl_count_window *)(void *)count_mem;
    for (int i = 0; i < 250; i++) {
        CHECK_STATUS(pcl_count_window_record(sw, i % 5 == 0 ? PCL_OUTCOME_FAILURE : PCL_OUTCOME_SUCCESS), PCL_STATUS_OK);
    }
    CHECK_STATUS(pcl_count_window_counts(sw, &c), PCL_STATUS_OK);
    check_counts(c, 100, 20, 0);

    /* Batch records: as many single records, checked first, NULL and impossible sizes refused. */
    CHECK_STATUS(pcl_count_window_reset(sw), PCL_STATUS_OK);
    uint32_t batch[5] = {PCL_OUTCOME_FAILURE, PCL_OUTCOME_SUCCESS, PCL_OUTCOME_SLOW_SUCCESS,
                         PCL_OUTCOME_SLOW_FAILURE, PCL_OUTCOME_SUCCESS};
    size_t counted = 99;
    CHECK_STATUS(pcl_count_window_record_batch(sw, batch, 5, &counted), PCL_STATUS_OK);
    CHECK(counted == 5);
    CHECK_STATUS(pcl_count_window_counts(sw, &c), PCL_STATUS_OK);
    check_counts(c, 5, 2, 2);
    batch[3] = 9;
    counted = 99;
    CHECK_STATUS(pcl_count_window_record_batch(sw, batch, 5, &counted), PCL_STATUS_INVALID_ARGUMENT);
    CHECK(counted == 99);
    CHECK_STATUS(pcl_count_window_counts(sw, &c), PCL_STATUS_OK);
    check_counts(c, 5, 2, 2); /* nothing of the refused batch recorded */
    CHECK_STATUS(pcl_count_window_record_batch(sw, NULL, 1, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_count_window_record_batch(NULL, batch, 1, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_count_window_record_batch(sw, NULL, 0, &counted), PCL_STATUS_OK);
    CHECK(counted == 0);
    CHECK_STATUS(pcl_count_window_record_batch(sw, batch, SIZE_MAX, NULL), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_count_window_record_batch(sw, (const uint32_t *)(const void *)((const char *)batch + 1), 1, NULL),
                 PCL_STATUS_INVALID_ARGUMENT); /* misaligned */
}

void test_time_window(void) {
    CHECK(pcl_time_window_size() == PCL_TIME_WINDOW_SIZE);
    CHECK(pcl_time_window_align() == PCL_TIME_WINDOW_ALIGN);
    pcl_time_window_config cfg = pcl_time_window_config_default();
    CHECK(cfg.size == sizeof cfg);
    CHECK(cfg.window_duration_ns == 10000000000u && cfg.window_buckets == 10);

    /* 4 buckets of 100 ns: an outcome at 250 ns expires exactly at (2 + 4) * 100 ns. */
    cfg.window_duration_ns = 400;
    cfg.window_buckets = 4;
    pcl_time_window *w = NULL;
    CHECK_STATUS(pcl_time_window_new(&cfg, &w), PCL_STATUS_OK);
    pcl_window_counts c;
    CHECK_STATUS(pcl_time_window_record(w, PCL_OUTCOME_FAILURE, 250), PCL_STATUS_OK);
    CHECK_STATUS(pcl_time_window_counts(w, 599, &c), PCL_STATUS_OK);
    check_counts(c, 1, 1, 0);
    CHECK_STATUS(pcl_time_window_counts(w, 600, &c), PCL_STATUS_OK);
    check_counts(c, 0, 0, 0);
    /* A record already outside the window is reported, not counted. */
    CHECK_STATUS(pcl_time_window_record(w, PCL_OUTCOME_SUCCESS, 1000), PCL_STATUS_OK);
    CHECK_STATUS(pcl_time_window_record(w, PCL_OUTCOME_FAILURE, 100), PCL_STATUS_NOT_COUNTED);
    CHECK_STATUS(pcl_time_window_record(w, 9, 1000), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_time_window_counts(w, 1000, &c), PCL_STATUS_OK);
    check_counts(c, 1, 0, 0);
    CHECK_STATUS(pcl_time_window_reset(w), PCL_STATUS_OK);
    CHECK_STATUS(pcl_time_window_counts(w, 1000, &c), PCL_STATUS_OK);
    check_counts(c, 0, 0, 0);
    /* Batch records at one time: outside the window none counts; an unknown code, none recorded. */
    uint32_t batch[3] = {PCL_OUTCOME_FAILURE, PCL_OUTCOME_SLOW_SUCCESS, PCL_OUTCOME_SUCCESS};
    size_t counted = 99;
    CHECK_STATUS(pcl_time_window_record_batch(w, batch, 3, 1000, &counted), PCL_STATUS_OK);
    CHECK(counted == 3);
    CHECK_STATUS(pcl_time_window_record_batch(w, batch, 3, 100, &counted), PCL_STATUS_OK);
    CHECK(counted == 0);
    batch[2] = 0;
    CHECK_STATUS(pcl_time_window_record_batch(w, batch, 3, 1000, &counted), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_time_window_record_batch(w, NULL, 2, 1000, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_counts(w, 1000, &c), PCL_STATUS_OK);
    check_counts(c, 3, 1, 1);
    pcl_time_window_free(w);
    pcl_time_window_free(NULL);

    /* The clock-reading variants, on a real-time window (10 s). */
    pcl_time_window_config real = pcl_time_window_config_default();
    CHECK_STATUS(pcl_time_window_new(&real, &w), PCL_STATUS_OK);
    CHECK_STATUS(pcl_time_window_record_now(w, PCL_OUTCOME_SLOW_FAILURE), PCL_STATUS_OK);
    CHECK_STATUS(pcl_time_window_counts_now(w, &c), PCL_STATUS_OK);
    check_counts(c, 1, 1, 1);
    CHECK_STATUS(pcl_time_window_record_now(w, 0), PCL_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(pcl_time_window_counts(w, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_counts_now(w, NULL), PCL_STATUS_NULL_ARGUMENT);
    pcl_time_window_free(w);

    /* NULL for every pointer argument. */
    CHECK_STATUS(pcl_time_window_new(NULL, &w), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_new(&real, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_init(NULL, sizeof time_mem, &real), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_init(time_mem, sizeof time_mem, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_record(NULL, PCL_OUTCOME_SUCCESS, 0), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_record_now(NULL, PCL_OUTCOME_SUCCESS), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_counts(NULL, 0, &c), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_counts_now(NULL, &c), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_time_window_reset(NULL), PCL_STATUS_NULL_ARGUMENT);

    /* Invalid configs, each field its own status. */
    pcl_time_window_config bad = real;
    w = NULL;
    bad.window_duration_ns = 0;
    CHECK_STATUS(pcl_time_window_new(&bad, &w), PCL_STATUS_INVALID_WINDOW_DURATION);
    bad.window_duration_ns = 1001; /* not a multiple of 10 buckets */
    CHECK_STATUS(pcl_time_window_new(&bad, &w), PCL_STATUS_INVALID_WINDOW_DURATION);
    bad = real;
    bad.window_buckets = 0;
    CHECK_STATUS(pcl_time_window_new(&bad, &w), PCL_STATUS_INVALID_WINDOW_BUCKETS);
    bad.window_buckets = PCL_TIME_WINDOW_MAX_BUCKETS + 1;
    CHECK_STATUS(pcl_time_window_new(&bad, &w), PCL_STATUS_INVALID_WINDOW_BUCKETS);
    bad = real;
    bad.size = sizeof bad - 1;
    CHECK_STATUS(pcl_time_window_new(&bad, &w), PCL_STATUS_VERSION_MISMATCH);
    CHECK(w == NULL);

    /* Caller memory. */
    CHECK_STATUS(pcl_time_window_init(time_mem, PCL_TIME_WINDOW_SIZE - 1, &real), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_time_window_init(time_mem + 64, PCL_TIME_WINDOW_SIZE, &real), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_time_window_init(time_mem, PCL_TIME_WINDOW_SIZE, &real), PCL_STATUS_OK);
    const pcl_time_window *tw = (const pcl_time_window *)(void *)time_mem;
    CHECK_STATUS(pcl_time_window_record(tw, PCL_OUTCOME_FAILURE, 5), PCL_STATUS_OK);
    CHECK_STATUS(pcl_time_window_counts(tw, 5, &c), PCL_STATUS_OK);
    check_counts(c, 1, 1, 0);
}
