/* Two processes share objects placed by pcl_X_init in a MAP_SHARED mapping. */
#define _DEFAULT_SOURCE
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcl_test.h"

/* Runs `child` in a forked process; returns its exit status (0 = success). */
static int in_child(void (*child)(void *), void *arg) {
    pid_t pid = fork();
    if (pid == 0) {
        child(arg);
        _exit(0);
    }
    if (pid < 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void record_failures(void *arg) {
    const pcl_count_window *w = arg;
    for (int i = 0; i < 500; i++) {
        if (pcl_count_window_record(w, PCL_OUTCOME_FAILURE) != PCL_STATUS_OK) _exit(1);
    }
}

/* One mapping shared by both processes: a breaker, a rate limiter and the child's counts. */
struct shared_objects {
    alignas(PCL_BREAKER_ALIGN) unsigned char breaker[PCL_BREAKER_SIZE];
    alignas(PCL_LIMITER_ALIGN) unsigned char limiter[PCL_LIMITER_SIZE];
    uint64_t child_admitted;
    atomic_int child_ready; /* lock-free, so usable across processes */
};

#define SHARED_MS 1000000ull

static void trip_breaker(void *arg) {
    struct shared_objects *sh = arg;
    const pcl_breaker *b = (const pcl_breaker *)(void *)sh->breaker;
    for (int i = 0; i < 3; i++) {
        pcl_breaker_permit p;
        if (pcl_breaker_try_acquire(b, 0, &p, NULL) != PCL_STATUS_OK) _exit(1);
        if (pcl_breaker_record(b, &p, PCL_OUTCOME_FAILURE, 0, NULL) != PCL_STATUS_OK) _exit(2);
    }
}

/* Tries one permit every 10 us of virtual time in [from_ms, to_ms); returns the admissions. */
static uint64_t drain(const pcl_limiter *l, uint64_t from_ms, uint64_t to_ms) {
    uint64_t admitted = 0;
    for (uint64_t t = from_ms * 100; t < to_ms * 100; t++) {
        if (pcl_limiter_try_acquire(l, 1, t * SHARED_MS / 100, NULL) == PCL_STATUS_OK) admitted++;
    }
    return admitted;
}

static void drain_first_half(void *arg) {
    struct shared_objects *sh = arg;
    sh->child_admitted = drain((const pcl_limiter *)(void *)sh->limiter, 0, 50);
}

static void test_shared_breaker_and_limiter(void) {
    struct shared_objects *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED);
    if (sh == MAP_FAILED) return;
    pcl_breaker_config bc = pcl_breaker_config_default();
    bc.consecutive_failures = 3;
    CHECK_STATUS(pcl_breaker_init(sh->breaker, sizeof sh->breaker, &bc), PCL_STATUS_OK);
    const pcl_breaker *b = (const pcl_breaker *)(void *)sh->breaker;

    /* Failures recorded in the child trip the breaker the parent sees. */
    CHECK(in_child(trip_breaker, sh) == 0);
    uint32_t state = 99;
    CHECK_STATUS(pcl_breaker_state(b, &state), PCL_STATUS_OK);
    CHECK(state == PCL_BREAKER_OPEN);
    pcl_breaker_permit p;
    CHECK_STATUS(pcl_breaker_try_acquire(b, 0, &p, NULL), PCL_STATUS_REJECTED_OPEN);

    /* One limiter, 1 permit per ms, burst 10, on a virtual clock from 0. The child takes what
     * [0, 50 ms) allows, then the parent [50, 100 ms): exactly burst + 49 and then 50. */
    pcl_limiter_config lc = pcl_limiter_config_default();
    lc.rate_per_second = 1000;
    lc.burst = 10;
    CHECK_STATUS(pcl_limiter_init(sh->limiter, sizeof sh->limiter, &lc), PCL_STATUS_OK);
    const pcl_limiter *l = (const pcl_limiter *)(void *)sh->limiter;
    CHECK(in_child(drain_first_half, sh) == 0);
    CHECK(sh->child_admitted == 10 + 49);
    CHECK(drain(l, 50, 100) == 50);

    /* Both at once over the same virtual [0, 100 ms), started together. Together they get
     * exactly burst + 99 = 109, however their calls interleave: every decision is one CAS on the
     * shared word, so the admissions are those of one caller trying at every 10 us step (the
     * bucket never idles full, since the theoretical arrival time stays above every time tried
     * so far, on the same 10 us grid), and such a caller gets burst + floor(99.99 ms / 1 ms). */
    CHECK_STATUS(pcl_limiter_init(sh->limiter, sizeof sh->limiter, &lc), PCL_STATUS_OK);
    sh->child_admitted = 0;
    atomic_store(&sh->child_ready, 0);
    pid_t pid = fork();
    if (pid == 0) {
        atomic_store(&sh->child_ready, 1);
        sh->child_admitted = drain(l, 0, 100);
        _exit(0);
    }
    CHECK(pid > 0);
    const uint64_t give_up = pcl_now_ns() + 10 * 1000 * SHARED_MS; /* never hang the suite */
    while (pid > 0 && !atomic_load(&sh->child_ready) && pcl_now_ns() < give_up) {
    }
    uint64_t parent = drain(l, 0, 100);
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    uint64_t total = parent + sh->child_admitted;
    CHECK(total == 10 + 99);
    CHECK(munmap(sh, sizeof *sh) == 0);
}

void test_shared_memory(void) {
    test_shared_breaker_and_limiter();
    void *mem = mmap(NULL, PCL_COUNT_WINDOW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(mem != MAP_FAILED);
    if (mem == MAP_FAILED) return;
    pcl_count_window_config cfg = pcl_count_window_config_default();
    cfg.window_size = PCL_COUNT_WINDOW_MAX_SIZE;
    CHECK_STATUS(pcl_count_window_init(mem, PCL_COUNT_WINDOW_SIZE, &cfg), PCL_STATUS_OK);
    const pcl_count_window *w = mem;

    /* The child's failures are visible to the parent. */
    CHECK(in_child(record_failures, mem) == 0);
    pcl_window_counts c;
    CHECK_STATUS(pcl_count_window_counts(w, &c), PCL_STATUS_OK);
    CHECK(c.calls == 500 && c.failures == 500);

    /* Both processes at once: once both are done the counts are exact (1000 calls <= 1024). */
    CHECK_STATUS(pcl_count_window_reset(w), PCL_STATUS_OK);
    pid_t pid = fork();
    if (pid == 0) {
        record_failures(mem);
        _exit(0);
    }
    CHECK(pid > 0);
    for (int i = 0; i < 500; i++) {
        CHECK_STATUS(pcl_count_window_record(w, PCL_OUTCOME_SUCCESS), PCL_STATUS_OK);
    }
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_STATUS(pcl_count_window_counts(w, &c), PCL_STATUS_OK);
    CHECK(c.calls == 1000 && c.failures == 500);
    CHECK(munmap(mem, PCL_COUNT_WINDOW_SIZE) == 0);
}
