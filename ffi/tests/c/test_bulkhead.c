/* Bulkheads: all-or-nothing permits, over-release detection, resize, shadow mode. */
#include <stdalign.h>

#include "pcl_test.h"

static alignas(PCL_BULKHEAD_ALIGN) unsigned char bulkhead_mem[PCL_BULKHEAD_SIZE];

void test_bulkhead(void) {
    CHECK(pcl_bulkhead_size() == PCL_BULKHEAD_SIZE && pcl_bulkhead_align() == PCL_BULKHEAD_ALIGN);
    pcl_bulkhead_config cfg = pcl_bulkhead_config_default();
    CHECK(cfg.size == sizeof cfg && cfg.limit == 10 && !cfg.shadow && cfg.count_refusals);
    cfg.limit = 3;
    pcl_bulkhead *b = NULL;
    CHECK_STATUS(pcl_bulkhead_new(&cfg, &b), PCL_STATUS_OK);

    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 2), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 2), PCL_STATUS_NO_PERMITS); /* all or nothing */
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 1), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 4), PCL_STATUS_EXCEEDS_CAPACITY);
    CHECK_STATUS(pcl_bulkhead_acquire_timeout(b, 1, 2000000), PCL_STATUS_NO_PERMITS); /* 2 ms */
    pcl_bulkhead_stats s;
    CHECK_STATUS(pcl_bulkhead_snapshot(b, &s), PCL_STATUS_OK);
    CHECK(s.in_flight == 3 && s.limit == 3 && s.available == 0);

    /* Releasing more than is out is refused and changes nothing. */
    CHECK_STATUS(pcl_bulkhead_release(b, 4), PCL_STATUS_OVER_RELEASE);
    CHECK_STATUS(pcl_bulkhead_snapshot(b, &s), PCL_STATUS_OK);
    CHECK(s.in_flight == 3 && s.over_releases == 1);
    CHECK_STATUS(pcl_bulkhead_release(b, 3), PCL_STATUS_OK);

    /* Shrinking while permits are out revokes nothing and admits nothing until below the limit. */
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 3), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_resize(b, 1), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 1), PCL_STATUS_NO_PERMITS);
    CHECK_STATUS(pcl_bulkhead_release(b, 3), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_acquire_timeout(b, 1, 1000000), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_release(b, 1), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_resize(b, PCL_BULKHEAD_MAX_LIMIT + 1), PCL_STATUS_INVALID_BULKHEAD_LIMIT);

    /* Shadow mode admits and counts what it would have refused. */
    CHECK_STATUS(pcl_bulkhead_set_shadow(b, true), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 1), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 1), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_snapshot(b, &s), PCL_STATUS_OK);
    CHECK(s.shadow && s.in_flight == 2);
    pcl_bulkhead_free(b);
    pcl_bulkhead_free(NULL);

    /* Uncounted refusals: refused the same, but nothing is written or counted. */
    pcl_bulkhead_config quiet = cfg;
    quiet.limit = 1;
    quiet.count_refusals = false;
    CHECK_STATUS(pcl_bulkhead_new(&quiet, &b), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 1), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 1), PCL_STATUS_NO_PERMITS);
    CHECK_STATUS(pcl_bulkhead_try_acquire(b, 2), PCL_STATUS_EXCEEDS_CAPACITY);
    CHECK_STATUS(pcl_bulkhead_snapshot(b, &s), PCL_STATUS_OK);
    CHECK(s.admitted == 1 && s.rejected == 0 && s.in_flight == 1);
    pcl_bulkhead_free(b);

    /* NULL everywhere, invalid config. */
    CHECK_STATUS(pcl_bulkhead_new(NULL, &b), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_bulkhead_new(&cfg, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_bulkhead_init(NULL, PCL_BULKHEAD_SIZE, &cfg), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_bulkhead_try_acquire(NULL, 1), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_bulkhead_acquire_timeout(NULL, 1, 0), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_bulkhead_release(NULL, 1), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_bulkhead_resize(NULL, 1), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_bulkhead_set_shadow(NULL, true), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_bulkhead_snapshot(NULL, &s), PCL_STATUS_NULL_ARGUMENT);
    pcl_bulkhead_config bad = cfg;
    bad.limit = PCL_BULKHEAD_MAX_LIMIT + 1;
    b = NULL;
    CHECK_STATUS(pcl_bulkhead_new(&bad, &b), PCL_STATUS_INVALID_BULKHEAD_LIMIT);
    CHECK(b == NULL);

    /* Caller memory. */
    CHECK_STATUS(pcl_bulkhead_init(bulkhead_mem, PCL_BULKHEAD_SIZE, &cfg), PCL_STATUS_OK);
    const pcl_bulkhead *sb = (const pcl_bulkhead *)(void *)bulkhead_mem;
    CHECK_STATUS(pcl_bulkhead_try_acquire(sb, 3), PCL_STATUS_OK);
    CHECK_STATUS(pcl_bulkhead_snapshot(sb, NULL), PCL_STATUS_NULL_ARGUMENT);
}
