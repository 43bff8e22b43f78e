/* flaky.c: protects a simulated flaky dependency with a rate limiter, a bulkhead and a circuit
 * breaker, and prints what happens to each call.
 *
 * Build (from the repository root, after `cargo build -p portcullis-ffi`):
 *   cc -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude examples/c/flaky.c \
 *      target/debug/libportcullis_ffi.a -lpthread -ldl -lm -o flaky && ./flaky
 *
 * Time is virtual (one call every 10 ms, starting at 0), so every run prints the same story: the
 * dependency fails for a while, the breaker opens and sheds calls, probes it after the open
 * period, and closes once it has recovered. (The bulkhead bounds calls in flight at once; in
 * this single-threaded run each call ends before the next, so it never fills.) */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "portcullis.h"

#define MS UINT64_C(1000000)

/* The dependency: healthy, then failing from 200 ms to 700 ms. */
static bool flaky_call(uint64_t now_ns) {
    return !(now_ns >= 200 * MS && now_ns < 700 * MS);
}

static int check(pcl_status s, const char *what) {
    if (s != PCL_STATUS_OK) {
        fprintf(stderr, "%s: %s\n", what, pcl_status_str((uint32_t)s));
        return 1;
    }
    return 0;
}

int main(void) {
    pcl_breaker_config bc = pcl_breaker_config_default();
    bc.consecutive_failures = 3;
    bc.open_duration_ns = 100 * MS;
    bc.max_open_duration_ns = 400 * MS;
    bc.jitter_ppm = 0;
    bc.half_open_probes = 1;
    pcl_limiter_config lc = pcl_limiter_config_default();
    lc.rate_per_second = 80; /* a little below the 100 calls per second offered */
    lc.burst = 5;
    pcl_bulkhead_config hc = pcl_bulkhead_config_default();
    hc.limit = 4;

    pcl_breaker *breaker = NULL;
    pcl_limiter *limiter = NULL;
    pcl_bulkhead *bulkhead = NULL;
    if (check(pcl_breaker_new(&bc, &breaker), "breaker") || check(pcl_limiter_new(&lc, &limiter), "limiter") ||
        check(pcl_bulkhead_new(&hc, &bulkhead), "bulkhead")) {
        return 1;
    }

    unsigned ok = 0, failed = 0, limited = 0, full = 0, shed = 0;
    bool announced = false; /* the current open period's first refusal was printed */
    for (uint64_t now = 0; now < 1200 * MS; now += 10 * MS) {
        uint64_t wait = 0;
        pcl_status s = pcl_limiter_try_acquire(limiter, 1, now, &wait);
        if (s == PCL_STATUS_RATE_LIMITED) {
            limited++;
            continue;
        }
        if (pcl_bulkhead_try_acquire(bulkhead, 1) != PCL_STATUS_OK) {
            full++;
            continue;
        }
        pcl_breaker_permit permit;
        uint64_t retry_after = 0;
        s = pcl_breaker_try_acquire(breaker, now, &permit, &retry_after);
        if (s == PCL_STATUS_OK) {
            bool success = flaky_call(now);
            uint32_t transition = PCL_BREAKER_TRANSITION_NONE;
            /* PCL_STATUS_NOT_COUNTED (a permit of an older generation) needs no action here. */
            pcl_status recorded = pcl_breaker_record(
                breaker, &permit, success ? PCL_OUTCOME_SUCCESS : PCL_OUTCOME_FAILURE, now, &transition);
            if (recorded != PCL_STATUS_OK && recorded != PCL_STATUS_NOT_COUNTED) {
                return check(recorded, "record");
            }
            if (success) {
                ok++;
            } else {
                failed++;
            }
            if (permit.transition == PCL_BREAKER_TRANSITION_HALF_OPENED) {
                printf("%5" PRIu64 " ms  breaker half-open: probing\n", now / MS);
            }
            if (transition == PCL_BREAKER_TRANSITION_OPENED) {
                announced = false;
                printf("%5" PRIu64 " ms  breaker opened after a failure\n", now / MS);
            } else if (transition == PCL_BREAKER_TRANSITION_CLOSED) {
                printf("%5" PRIu64 " ms  breaker closed: the dependency recovered\n", now / MS);
            }
        } else {
            shed++;
            if (s == PCL_STATUS_REJECTED_OPEN && !announced) {
                announced = true;
                printf("%5" PRIu64 " ms  shed: %s (retry after %" PRIu64 " ms)\n", now / MS,
                       pcl_status_str((uint32_t)s), retry_after / MS);
            }
        }
        if (check(pcl_bulkhead_release(bulkhead, 1), "release")) return 1;
    }

    pcl_breaker_stats bs;
    pcl_limiter_stats ls;
    if (check(pcl_breaker_snapshot(breaker, 1200 * MS, &bs), "snapshot") ||
        check(pcl_limiter_snapshot(limiter, 1200 * MS, &ls), "snapshot")) {
        return 1;
    }
    printf("calls: %u succeeded, %u failed, %u rate limited, %u bulkhead full, %u shed by the breaker\n", ok, failed,
           limited, full, shed);
    printf("breaker tripped %" PRIu64 " times; limiter rate %" PRIu64 " ns per permit\n", bs.times_tripped,
           ls.interval_ns);
    pcl_breaker_free(breaker);
    pcl_limiter_free(limiter);
    pcl_bulkhead_free(bulkhead);
    return bs.state == PCL_BREAKER_CLOSED && bs.times_tripped > 0 ? 0 : 1;
}
