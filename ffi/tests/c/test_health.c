/* Health state machines with hysteresis. */
#include <stdalign.h>

#include "pcl_test.h"

static alignas(PCL_HEALTH_ALIGN) unsigned char health_mem[PCL_HEALTH_SIZE];

void test_health(void) {
    CHECK(pcl_health_size() == PCL_HEALTH_SIZE && pcl_health_align() == PCL_HEALTH_ALIGN);
    pcl_health_config cfg = pcl_health_config_default();
    CHECK(cfg.size == sizeof cfg);
    CHECK(cfg.degrade_after[0] == 3 && cfg.recover_after[0] == 5);
    pcl_health *h = NULL;
    CHECK_STATUS(pcl_health_new(&cfg, &h), PCL_STATUS_OK);
    uint32_t state = 99;
    CHECK_STATUS(pcl_health_state(h, &state), PCL_STATUS_OK);
    CHECK(state == PCL_HEALTH_HEALTHY);
    uint64_t due = 1;
    CHECK_STATUS(pcl_health_next_check(h, 0, &due), PCL_STATUS_OK);
    CHECK(due == 0); /* no result yet: due now */

    /* The 3rd consecutive failure degrades; the transition is reported. */
    pcl_health_transition tr = {0, 0};
    CHECK_STATUS(pcl_health_record(h, false, 10, &tr), PCL_STATUS_OK);
    CHECK_STATUS(pcl_health_record(h, false, 20, &tr), PCL_STATUS_OK);
    CHECK(tr.from == PCL_HEALTH_HEALTHY && tr.to == PCL_HEALTH_HEALTHY);
    CHECK_STATUS(pcl_health_record(h, false, 30, &tr), PCL_STATUS_OK);
    CHECK(tr.from == PCL_HEALTH_HEALTHY && tr.to == PCL_HEALTH_DEGRADED);
    /* Degraded is checked every 5 s: the next check is due 5 s after the last result. */
    CHECK_STATUS(pcl_health_next_check(h, 30 + 1000000000u, &due), PCL_STATUS_OK);
    CHECK(due == 4000000000u);
    /* Recovery needs 5 consecutive successes (hysteresis): 4 are not enough. */
    for (int i = 0; i < 4; i++) CHECK_STATUS(pcl_health_record(h, true, 40 + (uint64_t)i, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_health_state(h, &state), PCL_STATUS_OK);
    CHECK(state == PCL_HEALTH_DEGRADED);
    CHECK_STATUS(pcl_health_record_now(h, true, &tr), PCL_STATUS_OK);
    CHECK(tr.to == PCL_HEALTH_HEALTHY);
    CHECK_STATUS(pcl_health_reset(h), PCL_STATUS_OK);
    pcl_health_free(h);
    pcl_health_free(NULL);

    /* NULL everywhere. */
    CHECK_STATUS(pcl_health_new(NULL, &h), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_health_new(&cfg, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_health_init(NULL, PCL_HEALTH_SIZE, &cfg), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_health_record(NULL, true, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_health_record_now(NULL, true, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_health_state(NULL, &state), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_health_next_check(NULL, 0, &due), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_health_reset(NULL), PCL_STATUS_NULL_ARGUMENT);

    /* Invalid configs: each field its own status. */
    pcl_health_config bad = cfg;
    h = NULL;
    bad.degrade_after[1] = 0;
    CHECK_STATUS(pcl_health_new(&bad, &h), PCL_STATUS_INVALID_HEALTH_DEGRADE_AFTER);
    bad = cfg;
    bad.recover_after[2] = bad.degrade_after[2]; /* no hysteresis */
    CHECK_STATUS(pcl_health_new(&bad, &h), PCL_STATUS_INVALID_HEALTH_RECOVER_AFTER);
    bad = cfg;
    bad.check_interval_ns[3] = 0;
    CHECK_STATUS(pcl_health_new(&bad, &h), PCL_STATUS_INVALID_HEALTH_CHECK_INTERVAL);
    bad = cfg;
    bad.initial_state = 4;
    CHECK_STATUS(pcl_health_new(&bad, &h), PCL_STATUS_INVALID_HEALTH_INITIAL_STATE);
    CHECK(h == NULL);

    /* Caller memory, starting Unhealthy like a readiness probe. */
    pcl_health_config ready = cfg;
    ready.initial_state = PCL_HEALTH_UNHEALTHY;
    CHECK_STATUS(pcl_health_init(health_mem, PCL_HEALTH_SIZE - 1, &ready), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_health_init(health_mem, PCL_HEALTH_SIZE, &ready), PCL_STATUS_OK);
    const pcl_health *sh = (const pcl_health *)(void *)health_mem;
    CHECK_STATUS(pcl_health_state(sh, &state), PCL_STATUS_OK);
    CHECK(state == PCL_HEALTH_UNHEALTHY);
}
