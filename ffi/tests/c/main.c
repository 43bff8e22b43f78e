/* The C test suite of libportcullis: every function, every status, NULL for every pointer. */
#include "pcl_test.h"

int pcl_test_passed = 0;
int pcl_test_failed = 0;

int main(void) {
    test_basics();
    test_count_window();
    test_time_window();
    test_shared_memory();
    test_deadline();
    test_health();
    test_bulkhead();
    test_breaker();
    test_limiter();
    test_retry();
    test_hedge();
    test_adaptive();
    printf("%d passed, %d failed\n", pcl_test_passed, pcl_test_failed);
    return pcl_test_failed == 0 ? 0 : 1;
}
