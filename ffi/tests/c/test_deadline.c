/* Deadlines and timeout header codecs. */
#include "pcl_test.h"

void test_deadline(void) {
    uint64_t left = 0;
    CHECK_STATUS(pcl_deadline_remaining(1000, 400, &left), PCL_STATUS_OK);
    CHECK(left == 600);
    left = 7;
    CHECK_STATUS(pcl_deadline_remaining(1000, 1000, &left), PCL_STATUS_EXPIRED); /* at the deadline */
    CHECK(left == 7); /* untouched */
    CHECK_STATUS(pcl_deadline_remaining(1000, 5000, &left), PCL_STATUS_EXPIRED);
    CHECK_STATUS(pcl_deadline_remaining(PCL_DEADLINE_NEVER, 10, &left), PCL_STATUS_OK);
    CHECK_STATUS(pcl_deadline_remaining(1000, 0, NULL), PCL_STATUS_NULL_ARGUMENT);

    CHECK(pcl_deadline_child(1000, 100) == 900);
    CHECK(pcl_deadline_child(50, 100) == 0);
    CHECK(pcl_deadline_child(PCL_DEADLINE_NEVER, 100) == PCL_DEADLINE_NEVER);

    uint64_t share = 0;
    CHECK_STATUS(pcl_deadline_split(1000, 100, 3, &share), PCL_STATUS_OK);
    CHECK(share == 300);
    CHECK_STATUS(pcl_deadline_split(1000, 100, 0, &share), PCL_STATUS_OK); /* 0 hops reads as 1 */
    CHECK(share == 900);
    CHECK_STATUS(pcl_deadline_split(1000, 999, 2, &share), PCL_STATUS_EXPIRED); /* rounds to 0 */
    CHECK_STATUS(pcl_deadline_split(1000, 100, 3, NULL), PCL_STATUS_NULL_ARGUMENT);

    CHECK_STATUS(pcl_deadline_retry_allowed(1000, 100, 800, 100), PCL_STATUS_OK);
    CHECK_STATUS(pcl_deadline_retry_allowed(1000, 100, 801, 100), PCL_STATUS_EXPIRED);
    CHECK_STATUS(pcl_deadline_retry_allowed(1000, 100, 900, 0), PCL_STATUS_EXPIRED);

    /* grpc-timeout: encode picks the finest unit that fits 8 digits, rounding down. */
    char buf[16];
    size_t n = 0;
    CHECK_STATUS(pcl_grpc_timeout_encode(250000000u, buf, sizeof buf, &n), PCL_STATUS_OK);
    uint64_t t = 0;
    CHECK_STATUS(pcl_grpc_timeout_decode(buf, n, &t), PCL_STATUS_OK);
    CHECK(t == 250000000u);
    CHECK_STATUS(pcl_grpc_timeout_encode(0, buf, sizeof buf, &n), PCL_STATUS_EXPIRED);
    CHECK_STATUS(pcl_grpc_timeout_encode(1000, buf, 1, &n), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_grpc_timeout_encode(1000, NULL, 8, &n), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_grpc_timeout_encode(1000, buf, 8, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_grpc_timeout_decode("1H", 2, &t), PCL_STATUS_OK);
    CHECK(t == 3600000000000ull);
    CHECK_STATUS(pcl_grpc_timeout_decode("0m", 2, &t), PCL_STATUS_OK);
    CHECK(t == 0);

    /* Each malformed value has its own status. */
    CHECK_STATUS(pcl_grpc_timeout_decode("", 0, &t), PCL_STATUS_HEADER_EMPTY);
    CHECK_STATUS(pcl_grpc_timeout_decode("m", 1, &t), PCL_STATUS_HEADER_MISSING_VALUE);
    CHECK_STATUS(pcl_grpc_timeout_decode("100", 3, &t), PCL_STATUS_HEADER_MISSING_UNIT);
    CHECK_STATUS(pcl_grpc_timeout_decode("123456789n", 10, &t), PCL_STATUS_HEADER_TOO_MANY_DIGITS);
    CHECK_STATUS(pcl_grpc_timeout_decode("10s", 3, &t), PCL_STATUS_HEADER_BAD_UNIT);
    CHECK_STATUS(pcl_grpc_timeout_decode("1-0m", 4, &t), PCL_STATUS_HEADER_NOT_A_DIGIT);
    CHECK_STATUS(pcl_grpc_timeout_decode("5124095H", 8, &t), PCL_STATUS_OK); /* the largest hours */
    CHECK_STATUS(pcl_grpc_timeout_decode("5124096H", 8, &t), PCL_STATUS_HEADER_OVERFLOW);
    CHECK_STATUS(pcl_grpc_timeout_decode(NULL, 2, &t), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_grpc_timeout_decode("1H", 2, NULL), PCL_STATUS_NULL_ARGUMENT);
    /* A length beyond the documented maximum is refused before anything is read. */
    CHECK_STATUS(pcl_grpc_timeout_decode("1H", PCL_HEADER_MAX_LEN + 1, &t), PCL_STATUS_HEADER_TOO_MANY_DIGITS);

    /* Milliseconds header. */
    CHECK_STATUS(pcl_timeout_millis_encode(1999999999u, buf, sizeof buf, &n), PCL_STATUS_OK);
    CHECK(n == 4 && memcmp(buf, "1999", 4) == 0);
    CHECK_STATUS(pcl_timeout_millis_decode(buf, n, &t), PCL_STATUS_OK);
    CHECK(t == 1999000000u);
    CHECK_STATUS(pcl_timeout_millis_decode("12a", 3, &t), PCL_STATUS_HEADER_NOT_A_DIGIT);
    CHECK_STATUS(pcl_timeout_millis_decode("", 0, &t), PCL_STATUS_HEADER_EMPTY);
    CHECK_STATUS(pcl_timeout_millis_encode(999999, buf, sizeof buf, &n), PCL_STATUS_EXPIRED);
}
