/* Two processes share objects placed by pcl_X_init in a MAP_SHARED mapping. */
#define _DEFAULT_SOURCE
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

void test_shared_memory(void) {
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
