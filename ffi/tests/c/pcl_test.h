/* A minimal test harness for the C suite: CHECK counts, main() prints "N passed, N failed". */
#ifndef PCL_TEST_H
#define PCL_TEST_H

#include <stdio.h>
#include <string.h>

#include "portcullis.h"

extern int pcl_test_passed;
extern int pcl_test_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            pcl_test_passed++;                                                       \
        } else {                                                                     \
            pcl_test_failed++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_STATUS(expr, want)                                                       \
    do {                                                                               \
        pcl_status got_ = (expr);                                                      \
        if (got_ == (want)) {                                                          \
            pcl_test_passed++;                                                         \
        } else {                                                                       \
            pcl_test_failed++;                                                         \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, \
                    __LINE__, #expr, (int)got_, pcl_status_str((uint32_t)got_),        \
                    (int)(want), pcl_status_str((uint32_t)(want)));                   \
        }                                                                              \
    } while (0)

void test_basics(void);
void test_count_window(void);
void test_time_window(void);
void test_shared_memory(void);
void test_deadline(void);
void test_health(void);
void test_bulkhead(void);
void test_breaker(void);
void test_limiter(void);
void test_retry(void);
void test_hedge(void);
void test_adaptive(void);

#endif
