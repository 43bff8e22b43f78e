/* Rate limiters: exact GCRA arithmetic on a virtual clock, reservations, reconfiguration. */
#include <stdalign.h>

#include "pcl_test.h"

static alignas(PCL_LIMITER_ALIGN) unsigned char limiter_mem[PCL_LIMITER_SIZE + 128];

#define MS 1000000ull

static void test_limiter_decisions(void) {
    pcl_limiter_config cfg = pcl_limiter_config_default();
    CHECK(cfg.size == sizeof cfg && cfg.rate_per_second == 100 && cfg.burst == 100);
    cfg.rate_per_second = 10; /* one permit per 100 ms */
    cfg.burst = 2;
    cfg.counting = true;
    pcl_limiter *l = NULL;
    CHECK_STATUS(pcl_limiter_new(&cfg, &l), PCL_STATUS_OK);

    uint64_t after = 0;
    CHECK_STATUS(pcl_limiter_try_acquire(l, 2, 0, &after), PCL_STATUS_OK); /* full burst */
    CHECK(after == 0);
    CHECK_STATUS(pcl_limiter_try_acquire(l, 1, 0, &after), PCL_STATUS_RATE_LIMITED);
    CHECK(after == 100 * MS);
    CHECK_STATUS(pcl_limiter_try_acquire(l, 1, 99 * MS, NULL), PCL_STATUS_RATE_LIMITED);
    CHECK_STATUS(pcl_limiter_try_acquire(l, 1, 100 * MS, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_try_acquire(l, 3, 100 * MS, &after), PCL_STATUS_EXCEEDS_CAPACITY);
    CHECK_STATUS(pcl_limiter_try_acquire(l, 0, 100 * MS, NULL), PCL_STATUS_OK);

    uint64_t wait = 1;
    CHECK_STATUS(pcl_limiter_wait_time(l, 2, 100 * MS, &wait), PCL_STATUS_OK);
    CHECK(wait == 200 * MS);
    CHECK_STATUS(pcl_limiter_wait_time(l, 3, 100 * MS, &wait), PCL_STATUS_EXCEEDS_CAPACITY);

    /* Reservations: taken now for later; cancelled all or nothing. */
    pcl_limiter_reservation r;
    CHECK_STATUS(pcl_limiter_reserve(l, 1, 100 * MS, 50 * MS, &r), PCL_STATUS_RESERVATION_TOO_FAR);
    CHECK_STATUS(pcl_limiter_reserve(l, 3, 100 * MS, 1000 * MS, &r), PCL_STATUS_EXCEEDS_CAPACITY);
    CHECK_STATUS(pcl_limiter_reserve(l, 1, 100 * MS, 1000 * MS, &r), PCL_STATUS_OK);
    CHECK(r.permits == 1 && r.ready_at_ns == 200 * MS);
    CHECK_STATUS(pcl_limiter_cancel(l, &r, 100 * MS), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_cancel(l, &r, 100 * MS), PCL_STATUS_NOT_CANCELLED); /* once */
    CHECK_STATUS(pcl_limiter_reserve(l, 1, 100 * MS, 1000 * MS, &r), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_cancel(l, &r, 200 * MS), PCL_STATUS_NOT_CANCELLED); /* in use */

    pcl_limiter_stats s;
    CHECK_STATUS(pcl_limiter_snapshot(l, 200 * MS, &s), PCL_STATUS_OK);
    CHECK(s.interval_ns == 100 * MS && s.burst == 2 && !s.shadow && s.available == 0);
    CHECK(s.admitted != PCL_LIMITER_NOT_COUNTED && s.admitted >= 4 && s.rejected >= 3);

    /* Reconfigure keeps the fill level; invalid quotas change nothing. */
    CHECK_STATUS(pcl_limiter_reconfigure(l, 0, 10 * MS, 5, 1000 * MS), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_snapshot(l, 1000 * MS, &s), PCL_STATUS_OK);
    CHECK(s.interval_ns == 10 * MS && s.burst == 5);
    CHECK_STATUS(pcl_limiter_reconfigure(l, PCL_LIMITER_MAX_RATE_PER_SECOND + 1, 0, 5, 0), PCL_STATUS_INVALID_LIMITER_RATE);
    CHECK_STATUS(pcl_limiter_reconfigure(l, 0, 0, 5, 0), PCL_STATUS_INVALID_LIMITER_INTERVAL);
    CHECK_STATUS(pcl_limiter_reconfigure(l, 10, 0, 0, 0), PCL_STATUS_INVALID_LIMITER_BURST);
    CHECK_STATUS(pcl_limiter_snapshot_now(l, &s), PCL_STATUS_OK);
    CHECK(s.interval_ns == 10 * MS && s.burst == 5);
    CHECK_STATUS(pcl_limiter_try_acquire_now(l, 1, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_wait_time_now(l, 1, &wait), PCL_STATUS_OK);
    /* On the real clock: a reservation far in the future is cancelled before it is valid. */
    CHECK_STATUS(pcl_limiter_reconfigure(l, 0, 1000 * MS, 1, pcl_now_ns()), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_reserve_now(l, 1, 10000 * MS, &r), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_reserve_now(l, 1, 10000 * MS, &r), PCL_STATUS_OK);
    CHECK(r.ready_at_ns > pcl_now_ns());
    CHECK_STATUS(pcl_limiter_cancel_now(l, &r), PCL_STATUS_OK);
    pcl_limiter_free(l);

    /* Starting empty, shadow mode. */
    cfg = pcl_limiter_config_default();
    cfg.rate_per_second = 0;
    cfg.interval_ns = 10 * MS;
    cfg.burst = 1;
    cfg.start = PCL_LIMITER_START_EMPTY;
    cfg.origin_ns = 5000 * MS;
    CHECK_STATUS(pcl_limiter_new(&cfg, &l), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_try_acquire(l, 1, 5000 * MS, &after), PCL_STATUS_RATE_LIMITED);
    CHECK(after == 10 * MS);
    CHECK_STATUS(pcl_limiter_try_acquire(l, 1, 5010 * MS, NULL), PCL_STATUS_OK);
    pcl_limiter_free(l);
    cfg.shadow = true;
    cfg.counting = true;
    CHECK_STATUS(pcl_limiter_new(&cfg, &l), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_try_acquire(l, 1, 5000 * MS, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_snapshot(l, 5000 * MS, &s), PCL_STATUS_OK);
    CHECK(s.shadow && s.rejected == 1);
    pcl_limiter_free(l);
}

static void test_limiter_errors(void) {
    pcl_limiter_config good = pcl_limiter_config_default(), bad;
    pcl_limiter *l = NULL;
    bad = good;
    bad.rate_per_second = PCL_LIMITER_MAX_RATE_PER_SECOND + 1;
    CHECK_STATUS(pcl_limiter_new(&bad, &l), PCL_STATUS_INVALID_LIMITER_RATE);
    bad = good;
    bad.rate_per_second = 0;
    bad.interval_ns = 0;
    CHECK_STATUS(pcl_limiter_new(&bad, &l), PCL_STATUS_INVALID_LIMITER_INTERVAL);
    bad.interval_ns = PCL_LIMITER_MAX_SPAN_NS + 1;
    CHECK_STATUS(pcl_limiter_new(&bad, &l), PCL_STATUS_INVALID_LIMITER_INTERVAL);
    bad = good;
    bad.burst = 0;
    CHECK_STATUS(pcl_limiter_new(&bad, &l), PCL_STATUS_INVALID_LIMITER_BURST);
    bad.rate_per_second = 1;
    bad.burst = PCL_LIMITER_MAX_SPAN_NS; /* 1 s × 2^56 overflows the span */
    CHECK_STATUS(pcl_limiter_new(&bad, &l), PCL_STATUS_INVALID_LIMITER_BURST);
    bad = good;
    bad.start = 2;
    CHECK_STATUS(pcl_limiter_new(&bad, &l), PCL_STATUS_INVALID_LIMITER_START);
    CHECK(l == NULL);
    bad = good;
    bad.size = sizeof bad - 1;
    CHECK_STATUS(pcl_limiter_new(&bad, &l), PCL_STATUS_VERSION_MISMATCH);

    CHECK(pcl_limiter_size() == PCL_LIMITER_SIZE && pcl_limiter_align() == PCL_LIMITER_ALIGN);
    CHECK_STATUS(pcl_limiter_new(NULL, &l), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_new(&good, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_init(NULL, PCL_LIMITER_SIZE, &good), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_init(limiter_mem, PCL_LIMITER_SIZE - 1, &good), PCL_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcl_limiter_init(limiter_mem + 8, PCL_LIMITER_SIZE, &good), PCL_STATUS_MISALIGNED);
    CHECK_STATUS(pcl_limiter_init(limiter_mem, PCL_LIMITER_SIZE, &good), PCL_STATUS_OK);
    const pcl_limiter *sl = (const pcl_limiter *)(void *)limiter_mem;
    uint64_t u = 0;
    pcl_limiter_reservation r;
    pcl_limiter_stats s;
    CHECK_STATUS(pcl_limiter_try_acquire(NULL, 1, 0, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_try_acquire_now(NULL, 1, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_wait_time(NULL, 1, 0, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_wait_time(sl, 1, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_wait_time_now(NULL, 1, &u), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_reserve(NULL, 1, 0, 0, &r), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_reserve(sl, 1, 0, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_cancel(NULL, &r, 0), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_cancel(sl, NULL, 0), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_reconfigure(NULL, 1, 0, 1, 0), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_snapshot(NULL, 0, &s), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_snapshot(sl, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_snapshot_now(NULL, &s), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_reserve_now(NULL, 1, 0, &r), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_reserve_now(sl, 1, 0, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_cancel_now(NULL, &r), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_cancel_now(sl, NULL), PCL_STATUS_NULL_ARGUMENT);
    pcl_limiter_free(NULL);
    /* The limiter in caller memory works: a full burst of 100 at time 0. */
    CHECK_STATUS(pcl_limiter_try_acquire(sl, 100, 0, NULL), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_try_acquire(sl, 1, 0, NULL), PCL_STATUS_RATE_LIMITED);
}

/* The inline decision of pcl_limiter_state_word's documentation, step by step. */
static pcl_status inline_acquire(const pcl_limiter_words *w, uint64_t n, uint64_t now_ns,
                                 uint64_t *retry_after_ns) {
    if (n == 0) return PCL_STATUS_OK;
    uint64_t rel = now_ns > w->origin_ns ? now_ns - w->origin_ns : 0;
    if (rel > PCL_LIMITER_MAX_RELATIVE_NOW_NS) rel = PCL_LIMITER_MAX_RELATIVE_NOW_NS;
    uint64_t *state = (uint64_t *)w->state; /* written only by the CAS below */
    uint64_t word = __atomic_load_n(state, __ATOMIC_ACQUIRE);
    for (;;) {
        uint64_t g = (word >> PCL_LIMITER_WORD_GENERATION_SHIFT) & PCL_LIMITER_WORD_GENERATION_MASK;
        uint64_t interval = __atomic_load_n(&w->slots[2 * (g & 1)], __ATOMIC_RELAXED);
        uint64_t span = __atomic_load_n(&w->slots[2 * (g & 1) + 1], __ATOMIC_RELAXED);
        uint64_t cost;
        pcl_status refusal = PCL_STATUS_EXCEEDS_CAPACITY;
        if (!__builtin_mul_overflow(n, interval, &cost) && cost <= span) {
            uint64_t tat = word & PCL_LIMITER_WORD_TAT_MASK;
            uint64_t new_tat = (tat > rel ? tat : rel) + cost;
            if (new_tat - rel <= span) {
                uint64_t next = (word & ~(uint64_t)PCL_LIMITER_WORD_TAT_MASK) | new_tat;
                if (__atomic_compare_exchange_n(state, &word, next, false, __ATOMIC_RELEASE,
                                                __ATOMIC_ACQUIRE))
                    return PCL_STATUS_OK;
                continue; /* `word` holds what the CAS found */
            }
            *retry_after_ns = new_tat - rel - span;
            refusal = PCL_STATUS_RATE_LIMITED;
        }
        uint64_t again = __atomic_load_n(state, __ATOMIC_ACQUIRE);
        if (((again ^ word) >> PCL_LIMITER_WORD_GENERATION_SHIFT & PCL_LIMITER_WORD_GENERATION_MASK) == 0)
            return refusal;
        word = again;
    }
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void test_limiter_state_word(void) {
    pcl_limiter_config cfg = pcl_limiter_config_default();
    cfg.rate_per_second = 10;
    cfg.burst = 3;
    cfg.origin_ns = 1000 * MS;
    pcl_limiter *fast = NULL, *slow = NULL;
    CHECK_STATUS(pcl_limiter_new(&cfg, &fast), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_new(&cfg, &slow), PCL_STATUS_OK);
    pcl_limiter_words w;
    CHECK_STATUS(pcl_limiter_state_word(NULL, &w), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_state_word(fast, NULL), PCL_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(pcl_limiter_state_word(fast, &w), PCL_STATUS_OK);
    CHECK(w.state != NULL && w.slots != NULL && w.origin_ns == 1000 * MS && !w.counting && !w.shadow);
    CHECK(w.slots[0] == 100 * MS && w.slots[1] == 300 * MS);
    pcl_limiter_words sw;
    CHECK_STATUS(pcl_limiter_state_word(slow, &sw), PCL_STATUS_OK);

    /* The same random decisions, reconfigurations and reservations on both: same answers. */
    uint64_t seed = 1, now = cfg.origin_ns;
    int agreed = 1, admitted = 0, refused = 0;
    for (int i = 0; i < 5000; i++) {
        uint64_t r = splitmix(&seed);
        now = r % 20 == 0 ? splitmix(&seed) >> (r >> 58) : now + splitmix(&seed) % (150 * MS);
        uint64_t n = r % 7 == 0 ? splitmix(&seed) : (r >> 8) % 4;
        if (r % 53 == 0) {
            uint64_t interval = 1 + (r >> 20) % (200 * MS), burst = 1 + (r >> 40) % 5;
            CHECK_STATUS(pcl_limiter_reconfigure(fast, 0, interval, burst, now), PCL_STATUS_OK);
            CHECK_STATUS(pcl_limiter_reconfigure(slow, 0, interval, burst, now), PCL_STATUS_OK);
        } else if (r % 31 == 0) {
            pcl_limiter_reservation a, b;
            agreed &= pcl_limiter_reserve(fast, n, now, 500 * MS, &a) ==
                      pcl_limiter_reserve(slow, n, now, 500 * MS, &b);
        } else {
            uint64_t fa = 0, sa = 0;
            pcl_status f = inline_acquire(&w, n, now, &fa);
            agreed &= f == pcl_limiter_try_acquire(slow, n, now, &sa) && fa == sa;
            admitted += f == PCL_STATUS_OK;
            refused += f == PCL_STATUS_RATE_LIMITED;
        }
        agreed &= __atomic_load_n(w.state, __ATOMIC_RELAXED) == __atomic_load_n(sw.state, __ATOMIC_RELAXED);
    }
    CHECK(agreed);
    CHECK(admitted > 500 && refused > 500);
    pcl_limiter_free(fast);
    pcl_limiter_free(slow);

    cfg.counting = true;
    CHECK_STATUS(pcl_limiter_new(&cfg, &fast), PCL_STATUS_OK);
    CHECK_STATUS(pcl_limiter_state_word(fast, &w), PCL_STATUS_OK);
    CHECK(w.counting && !w.shadow); /* decide by calling it */
    pcl_limiter_free(fast);
}

void test_limiter(void) {
    test_limiter_decisions();
    test_limiter_errors();
    test_limiter_state_word();
}
