/*
 * Multi-threaded stress test of the C ABI: PCL_STRESS_THREADS pthreads (default 4) hammer one
 * count window (placed in static storage with pcl_count_window_init) and one time window (from
 * pcl_time_window_new) for PCL_STRESS_MS milliseconds (default 500) or PCL_STRESS_ITERS
 * operations per thread (default 1,000,000), whichever comes first.
 *
 * After every operation: only documented statuses, calls <= window size, failures <= calls,
 * slow <= calls. After the threads stop: the time window (every record in one bucket, so nothing
 * expires; at most 1,000,000 records in all, below the bucket's saturation) holds exactly the
 * records reported PCL_STATUS_OK, and 64 sequential records replace everything in the count
 * window.
 *
 * Built and run by ffi/tests/c_stress.rs (plain and under ASan+UBSan) and by
 * scripts/sanitizers.sh (under ThreadSanitizer, with the Rust library instrumented too).
 * Prints "stress: ... 0 failed" and exits 0 on success. Built with -DPCL_STRESS_PLANTED_RACE it
 * also races on a plain counter: the control that proves ThreadSanitizer is watching.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portcullis.h"

#define WINDOW 64u
#define MAX_THREADS 64

static alignas(PCL_COUNT_WINDOW_ALIGN) unsigned char count_mem[PCL_COUNT_WINDOW_SIZE];
static pcl_count_window *count_w;
static pcl_time_window *time_w;
static atomic_bool stop;
static atomic_int failures;
static uint64_t max_iters = 1000000;
/* Time-window records per thread: all threads together stay below the per-bucket saturation of
 * failures and slow calls (2^20 - 1), so the final totals must match exactly. */
static uint64_t time_iters;
/* Every time-window record happens at this instant: inside one bucket, so nothing expires. */
static const uint64_t NOW_NS = 5000000;

#define FAIL(...)                                                  \
    do {                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);            \
        fprintf(stderr, __VA_ARGS__);                              \
        fputc('\n', stderr);                                       \
        atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed); \
    } while (0)

struct tally {
    uint64_t ops, calls, failed, slow, not_counted;
};

static uint64_t next_rand(uint64_t *s) { /* SplitMix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void check_bounds(pcl_window_counts c, uint64_t max_calls, const char *what) {
    if (c.calls > max_calls || c.failures > c.calls || c.slow > c.calls) {
        FAIL("%s: calls %" PRIu64 " failures %" PRIu64 " slow %" PRIu64, what, c.calls, c.failures,
             c.slow);
    }
}

#ifdef PCL_STRESS_PLANTED_RACE
/* Positive control for ThreadSanitizer only: an unsynchronised counter it must report. */
static uint64_t planted_race;
#endif

static void *worker(void *arg) {
    struct tally *t = arg;
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    pcl_window_counts c;
    while (t->ops < max_iters && !atomic_load_explicit(&stop, memory_order_relaxed)) {
        t->ops++;
#ifdef PCL_STRESS_PLANTED_RACE
        planted_race++;
#endif
        uint32_t outcome = (uint32_t)(next_rand(&seed) % 4) + 1; /* PCL_OUTCOME_* */
        pcl_status s = pcl_count_window_record(count_w, outcome);
        if (s != PCL_STATUS_OK && s != PCL_STATUS_NOT_COUNTED) FAIL("count record: %d", (int)s);
        if (pcl_count_window_counts(count_w, &c) != PCL_STATUS_OK) FAIL("count counts");
        check_bounds(c, WINDOW, "count window");

        if (t->ops > time_iters) continue;
        s = pcl_time_window_record(time_w, outcome, NOW_NS);
        if (s == PCL_STATUS_OK) {
            t->calls++;
            t->failed += outcome == PCL_OUTCOME_FAILURE || outcome == PCL_OUTCOME_SLOW_FAILURE;
            t->slow += outcome == PCL_OUTCOME_SLOW_SUCCESS || outcome == PCL_OUTCOME_SLOW_FAILURE;
        } else {
            t->not_counted++;
            FAIL("time record in the newest bucket: %d", (int)s);
        }
        if (pcl_time_window_counts(time_w, NOW_NS, &c) != PCL_STATUS_OK) FAIL("time counts");
        check_bounds(c, UINT64_MAX, "time window");
    }
    return NULL;
}

static uint64_t env_u64(const char *name, uint64_t def) {
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : def;
}

int main(void) {
    unsigned threads = (unsigned)env_u64("PCL_STRESS_THREADS", 4);
    uint64_t ms = env_u64("PCL_STRESS_MS", 500);
    max_iters = env_u64("PCL_STRESS_ITERS", max_iters);
    if (threads < 2) threads = 2;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    time_iters = 1000000 / threads;

    pcl_count_window_config cc = pcl_count_window_config_default();
    cc.window_size = WINDOW;
    if (pcl_count_window_init(count_mem, sizeof count_mem, &cc) != PCL_STATUS_OK) return 2;
    count_w = (pcl_count_window *)(void *)count_mem;
    pcl_time_window_config tc = pcl_time_window_config_default(); /* 10 buckets of 1 s */
    if (pcl_time_window_new(&tc, &time_w) != PCL_STATUS_OK) return 2;

    pthread_t tid[MAX_THREADS];
    struct tally tallies[MAX_THREADS];
    memset(tallies, 0, sizeof tallies);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&tid[i], NULL, worker, &tallies[i]) != 0) return 2;
    }
    struct timespec d = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
    atomic_store_explicit(&stop, 1, memory_order_relaxed);
    struct tally sum = {0, 0, 0, 0, 0};
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        sum.ops += tallies[i].ops;
        sum.calls += tallies[i].calls;
        sum.failed += tallies[i].failed;
        sum.slow += tallies[i].slow;
    }

    pcl_window_counts c;
    if (pcl_time_window_counts(time_w, NOW_NS, &c) != PCL_STATUS_OK) FAIL("time counts");
    if (c.calls != sum.calls || c.failures != sum.failed || c.slow != sum.slow) {
        FAIL("time window lost records: holds %" PRIu64 "/%" PRIu64 "/%" PRIu64
             ", threads counted %" PRIu64 "/%" PRIu64 "/%" PRIu64,
             c.calls, c.failures, c.slow, sum.calls, sum.failed, sum.slow);
    }
    for (unsigned i = 0; i < WINDOW; i++) {
        if (pcl_count_window_record(count_w, PCL_OUTCOME_SLOW_FAILURE) != PCL_STATUS_OK) {
            FAIL("sequential record not counted");
        }
    }
    if (pcl_count_window_counts(count_w, &c) != PCL_STATUS_OK) FAIL("count counts");
    if (c.calls != WINDOW || c.failures != WINDOW || c.slow != WINDOW) {
        FAIL("count window after %u sequential records: %" PRIu64 "/%" PRIu64 "/%" PRIu64, WINDOW,
             c.calls, c.failures, c.slow);
    }
    pcl_time_window_free(time_w);
    int failed = atomic_load(&failures);
    printf("stress: %" PRIu64 " ops on %u threads, %d failed\n", sum.ops, threads, failed);
    return failed == 0 ? 0 : 1;
}
