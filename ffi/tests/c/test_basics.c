/* Version, statuses and clocks. */
#include "pcl_test.h"

void test_basics(void) {
    /* The header's macros agree with the library it is linked to. */
    CHECK(pcl_version() == PCL_VERSION_MAJOR * 10000u + PCL_VERSION_MINOR * 100u + PCL_VERSION_PATCH);

    /* Every status has its own description; unknown numbers are described, never NULL. */
    const pcl_status all[] = {
        PCL_STATUS_OK, PCL_STATUS_REJECTED_OPEN, PCL_STATUS_REJECTED_HALF_OPEN_FULL,
        PCL_STATUS_REJECTED_FORCED_OPEN, PCL_STATUS_RATE_LIMITED, PCL_STATUS_NO_PERMITS,
        PCL_STATUS_EXPIRED, PCL_STATUS_NOT_COUNTED, PCL_STATUS_NULL_ARGUMENT,
        PCL_STATUS_BUFFER_TOO_SMALL, PCL_STATUS_MISALIGNED, PCL_STATUS_VERSION_MISMATCH,
        PCL_STATUS_INVALID_ARGUMENT, PCL_STATUS_OUT_OF_MEMORY, PCL_STATUS_EXCEEDS_CAPACITY,
        PCL_STATUS_OVER_RELEASE, PCL_STATUS_HEADER_EMPTY,
        PCL_STATUS_HEADER_MISSING_VALUE, PCL_STATUS_HEADER_MISSING_UNIT,
        PCL_STATUS_HEADER_TOO_MANY_DIGITS, PCL_STATUS_HEADER_BAD_UNIT, PCL_STATUS_HEADER_NOT_A_DIGIT,
        PCL_STATUS_HEADER_OVERFLOW, PCL_STATUS_PANIC, PCL_STATUS_INVALID_WINDOW_SIZE,
        PCL_STATUS_INVALID_WINDOW_DURATION, PCL_STATUS_INVALID_WINDOW_BUCKETS,
        PCL_STATUS_INVALID_BULKHEAD_LIMIT,
        PCL_STATUS_INVALID_HEALTH_DEGRADE_AFTER, PCL_STATUS_INVALID_HEALTH_RECOVER_AFTER,
        PCL_STATUS_INVALID_HEALTH_CHECK_INTERVAL, PCL_STATUS_INVALID_HEALTH_INITIAL_STATE,
    };
    const size_t n = sizeof all / sizeof all[0];
    const char *unknown = pcl_status_str(99999u);
    CHECK(unknown != NULL && strcmp(unknown, "unknown status") == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = pcl_status_str((uint32_t)all[i]);
        CHECK(s != NULL && s[0] != '\0' && strcmp(s, unknown) != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(s, pcl_status_str((uint32_t)all[j])) != 0);
        }
        CHECK(pcl_status_is_error((uint32_t)all[i]) == ((uint32_t)all[i] >= 100u));
    }
    CHECK(pcl_status_is_error(99999u));

    /* Clocks: monotonic, and the coarse one never ahead of the precise one. */
    uint64_t a = pcl_now_ns();
    uint64_t c = pcl_now_coarse_ns();
    uint64_t b = pcl_now_ns();
    CHECK(a > 0 && b >= a);
    CHECK(c <= b && b - c < 50000000u);
}
