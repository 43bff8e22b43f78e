/* C-side benchmarks of libportcullis: each C call beside the baselines a C caller would compare
 * it with, in one run: an inline C11 atomic add, and a plain call into another translation unit.
 * Output: one line "c/<name>,<ns per op>" per benchmark (median of 7 runs), for
 * scripts/bench-report.py. Usage: bench [iterations] */
#define _POSIX_C_SOURCE 199309L
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "portcullis.h"

uint64_t bench_empty_call(uint64_t x);

static volatile uint64_t sink;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define RUNS 7
#define BENCH(name, iters, body)                                         \
    do {                                                                 \
        double samples[RUNS];                                            \
        for (int r = 0; r < RUNS; r++) {                                 \
            double t0 = now_s();                                         \
            for (uint64_t i = 0; i < (iters); i++) {                     \
                body;                                                    \
            }                                                            \
            samples[r] = (now_s() - t0) * 1e9 / (double)(iters);         \
        }                                                                \
        qsort(samples, RUNS, sizeof samples[0], cmp);                    \
        printf("c/%s,%.3f\n", name, samples[RUNS / 2]);                  \
        fflush(stdout);                                                  \
    } while (0)

int main(int argc, char **argv) {
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000u;
    if (n == 0) n = 1;

    static _Atomic uint64_t counter;
    BENCH("baseline/atomic_fetch_add", n, sink = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed));
    BENCH("baseline/empty_call_other_tu", n, sink = bench_empty_call(i));

    pcl_count_window_config ccfg = pcl_count_window_config_default();
    pcl_count_window *cw = NULL;
    if (pcl_count_window_new(&ccfg, &cw) != PCL_STATUS_OK) return 1;
    for (int i = 0; i < 200; i++) sink = (uint64_t)pcl_count_window_record(cw, PCL_OUTCOME_SUCCESS);
    BENCH("count100/record_success", n, sink = (uint64_t)pcl_count_window_record(cw, PCL_OUTCOME_SUCCESS));
    pcl_window_counts counts;
    BENCH("count100/counts", n, sink = (uint64_t)pcl_count_window_counts(cw, &counts));
    pcl_count_window_free(cw);

    pcl_time_window_config tcfg = pcl_time_window_config_default();
    tcfg.window_duration_ns = 1000000000u;
    pcl_time_window *tw = NULL;
    if (pcl_time_window_new(&tcfg, &tw) != PCL_STATUS_OK) return 1;
    BENCH("time10/record", n, sink = (uint64_t)pcl_time_window_record(tw, PCL_OUTCOME_SUCCESS, i * 1000u));
    BENCH("time10/counts", n, sink = (uint64_t)pcl_time_window_counts(tw, n * 1000u, &counts));
    pcl_time_window_free(tw);

    /* A closed breaker (admission, and admission + record), a limiter that always admits, a
     * bulkhead that always has a permit: the paths a healthy service takes on every call. */
    pcl_breaker_config bcfg = pcl_breaker_config_default();
    pcl_breaker *br = NULL;
    if (pcl_breaker_new(&bcfg, &br) != PCL_STATUS_OK) return 1;
    pcl_breaker_permit permit;
    BENCH("breaker/try_acquire", n, sink = (uint64_t)pcl_breaker_try_acquire(br, i, &permit, NULL));
    BENCH("breaker/try_acquire_now", n, sink = (uint64_t)pcl_breaker_try_acquire_now(br, &permit, NULL));
    BENCH("breaker/guarded_call", n, {
        if (pcl_breaker_try_acquire(br, i, &permit, NULL) == PCL_STATUS_OK)
            sink = (uint64_t)pcl_breaker_record(br, &permit, PCL_OUTCOME_SUCCESS, i, NULL);
    });
    pcl_breaker_free(br);

    pcl_limiter_config lcfg = pcl_limiter_config_default();
    lcfg.rate_per_second = PCL_LIMITER_MAX_RATE_PER_SECOND;
    lcfg.burst = 1000000;
    pcl_limiter *lim = NULL;
    if (pcl_limiter_new(&lcfg, &lim) != PCL_STATUS_OK) return 1;
    /* One permit per ns at most, time advancing 1 ns per call: always admitted. */
    BENCH("limiter/try_acquire", n, sink = (uint64_t)pcl_limiter_try_acquire(lim, 1, i, NULL));
    pcl_limiter_free(lim);

    pcl_bulkhead_config hcfg = pcl_bulkhead_config_default();
    hcfg.limit = 1000;
    pcl_bulkhead *bh = NULL;
    if (pcl_bulkhead_new(&hcfg, &bh) != PCL_STATUS_OK) return 1;
    BENCH("bulkhead/acquire_release", n, {
        if (pcl_bulkhead_try_acquire(bh, 1) == PCL_STATUS_OK) sink = (uint64_t)pcl_bulkhead_release(bh, 1);
    });
    pcl_bulkhead_free(bh);

    BENCH("clock/pcl_now_ns", n, sink = pcl_now_ns());
    BENCH("clock/pcl_now_coarse_ns", n, sink = pcl_now_coarse_ns());
    return 0;
}
