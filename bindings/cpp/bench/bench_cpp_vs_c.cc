// The cost of the C++ wrapper over the C calls it wraps, measured in one run: each case times a
// tight loop of C calls and the same loop through the wrapper, best of several repetitions, and
// prints `name c_ns cpp_ns ratio` (nanoseconds per iteration; ratio = cpp_ns / c_ns).
//
// A benchmark, not a test: nothing is checked against a threshold. Build it optimised (the target
// is compiled with -O2) against a release build of the C library; see README.md.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "portcullis.hpp"

namespace {

uint64_t g_iterations = 10000000;  // per timed loop; the first argument overrides it
constexpr int kRepetitions = 7;             // the best one is kept

// Every loop folds the statuses and outputs it gets into a sum stored here, so the work cannot
// be optimised away (the calls cross into a separately compiled library in any case).
volatile uint64_t g_sink;

template <class Loop>
double ns_per_iteration(Loop &loop) {
    const auto start = std::chrono::steady_clock::now();
    const uint64_t sum = loop(g_iterations);
    const auto stop = std::chrono::steady_clock::now();
    g_sink = g_sink + sum;
    return std::chrono::duration<double, std::nano>(stop - start).count() / static_cast<double>(g_iterations);
}

// Alternates the two loops so that both see the same machine conditions, and keeps the best of
// each.
template <class C, class Cpp>
void compare(const char *name, C c_loop, Cpp cpp_loop) {
    double best_c = std::numeric_limits<double>::infinity(), best_cpp = best_c;
    for (int rep = 0; rep < kRepetitions; rep++) {
        best_c = std::min(best_c, ns_per_iteration(c_loop));
        best_cpp = std::min(best_cpp, ns_per_iteration(cpp_loop));
    }
    std::printf("%s %.2f %.2f %.3f\n", name, best_c, best_cpp, best_cpp / best_c);
}

template <class T>
T take(portcullis::Result<T> made, const char *what) {
    if (!made.ok()) {
        std::fprintf(stderr, "cannot create %s: %s\n", what, portcullis::to_string(made.status()));
        std::exit(1);
    }
    return std::move(made).value();
}

uint64_t code(portcullis::Status s) { return static_cast<uint64_t>(s); }

}  // namespace

int main(int argc, char **argv) {
    if (argc > 1) {
        g_iterations = std::max<uint64_t>(1, std::strtoull(argv[1], nullptr, 10));
    }
    using portcullis::Outcome;
    // A virtual clock shared by the C and C++ loops of a case, so time only moves forward.
    uint64_t clock_ns = 1;

    {
        // A closed breaker admitting and recording successes at an explicit time.
        const portcullis::Breaker b = take(portcullis::Breaker::create(), "breaker");
        const pcl_breaker *cb = b.capi();
        compare(
            "breaker_acquire_record",
            [cb, &clock_ns](uint64_t n) {
                uint64_t sum = 0;
                for (uint64_t i = 0; i < n; i++) {
                    const uint64_t t = clock_ns++;
                    pcl_breaker_permit p;
                    uint64_t retry_after = 0;
                    const pcl_status s = pcl_breaker_try_acquire(cb, t, &p, &retry_after);
                    sum += s;
                    if (s == PCL_STATUS_OK) {
                        uint32_t transition = PCL_BREAKER_TRANSITION_NONE;
                        sum += pcl_breaker_record(cb, &p, PCL_OUTCOME_SUCCESS, t, &transition);
                        sum += transition;
                    }
                }
                return sum;
            },
            [&b, &clock_ns](uint64_t n) {
                uint64_t sum = 0;
                for (uint64_t i = 0; i < n; i++) {
                    const portcullis::TimePoint t(std::chrono::nanoseconds(clock_ns++));
                    auto permit = b.try_acquire(t);
                    sum += code(permit.status());
                    if (permit.ok()) {
                        const auto r = permit.value().record(Outcome::Success, t);
                        sum += code(r.status());
                        if (r.ok()) sum += static_cast<uint64_t>(r.value().transition);
                    }
                }
                return sum;
            });
    }

    {
        // A limiter emitting one permit per nanosecond, asked for one permit per nanosecond of
        // virtual time: every decision admits.
        pcl_limiter_config cfg = pcl_limiter_config_default();
        cfg.rate_per_second = PCL_LIMITER_MAX_RATE_PER_SECOND;
        cfg.burst = 1000;
        const portcullis::RateLimiter l = take(portcullis::RateLimiter::create(cfg), "limiter");
        const pcl_limiter *cl = l.capi();
        compare(
            "limiter_try_acquire",
            [cl, &clock_ns](uint64_t n) {
                uint64_t sum = 0;
                for (uint64_t i = 0; i < n; i++) {
                    uint64_t retry_after = 0;
                    sum += pcl_limiter_try_acquire(cl, 1, clock_ns++, &retry_after);
                    sum += retry_after;
                }
                return sum;
            },
            [&l, &clock_ns](uint64_t n) {
                uint64_t sum = 0;
                for (uint64_t i = 0; i < n; i++) {
                    const auto d = l.try_acquire(1, portcullis::TimePoint(std::chrono::nanoseconds(clock_ns++)));
                    sum += code(d.status);
                    sum += static_cast<uint64_t>(d.retry_after.value_or(std::chrono::nanoseconds(0)).count());
                }
                return sum;
            });
    }

    {
        const portcullis::CountWindow w = take(portcullis::CountWindow::create(), "count window");
        const pcl_count_window *cw = w.capi();
        compare(
            "count_window_record",
            [cw](uint64_t n) {
                uint64_t sum = 0;
                for (uint64_t i = 0; i < n; i++) sum += pcl_count_window_record(cw, PCL_OUTCOME_SUCCESS);
                return sum;
            },
            [&w](uint64_t n) {
                uint64_t sum = 0;
                for (uint64_t i = 0; i < n; i++) sum += code(w.record(Outcome::Success));
                return sum;
            });
    }

    {
        // Take one permit and give it back: by hand in C, by the permit's destructor in C++.
        const portcullis::Bulkhead b = take(portcullis::Bulkhead::create(), "bulkhead");
        const pcl_bulkhead *cb = b.capi();
        compare(
            "bulkhead_acquire_release",
            [cb](uint64_t n) {
                uint64_t sum = 0;
                for (uint64_t i = 0; i < n; i++) {
                    const pcl_status s = pcl_bulkhead_try_acquire(cb, 1);
                    sum += s;
                    if (s == PCL_STATUS_OK) sum += pcl_bulkhead_release(cb, 1);
                }
                return sum;
            },
            [&b](uint64_t n) {
                uint64_t sum = 0;
                for (uint64_t i = 0; i < n; i++) {
                    const auto permit = b.try_acquire();
                    sum += code(permit.status());
                }
                return sum;
            });
    }
    return 0;
}
