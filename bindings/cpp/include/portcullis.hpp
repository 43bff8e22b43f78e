// portcullis.hpp: header-only C++17 wrapper over the portcullis C API (portcullis.h).
//
// - namespace portcullis; move-only RAII handles owning heap objects, and views over objects
//   placed in caller or shared memory;
// - decisions and errors are values ([[nodiscard]] Status and Result<T>), never exceptions: the
//   header works with -fno-exceptions;
// - std::chrono: steady_clock time points (steady_clock is CLOCK_MONOTONIC, the clock of
//   pcl_now_ns, on Linux with libstdc++ and libc++) and nanosecond durations, with explicit-now
//   overloads taking a steady_clock::time_point;
// - admissions that must be given back are RAII objects: a BulkheadPermit releases its permits
//   when destroyed, and a BreakerPermit that is destroyed without an outcome recorded counts as
//   ignored (pcl_breaker_ignore: nothing is counted, a half-open probe's place is freed).
#ifndef PORTCULLIS_HPP
#define PORTCULLIS_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <climits>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "portcullis.h"

namespace portcullis {

/// The result of a call: the C `pcl_status` as a scoped enum.
enum class Status : uint32_t {
    // BEGIN GENERATED STATUSES (scripts/gen-statuses.py)
    Ok = PCL_STATUS_OK,
    RejectedOpen = PCL_STATUS_REJECTED_OPEN,
    RejectedHalfOpenFull = PCL_STATUS_REJECTED_HALF_OPEN_FULL,
    RejectedForcedOpen = PCL_STATUS_REJECTED_FORCED_OPEN,
    RateLimited = PCL_STATUS_RATE_LIMITED,
    NoPermits = PCL_STATUS_NO_PERMITS,
    Expired = PCL_STATUS_EXPIRED,
    NotCounted = PCL_STATUS_NOT_COUNTED,
    RetryStopNotRetryable = PCL_STATUS_RETRY_STOP_NOT_RETRYABLE,
    RetryStopServerPushback = PCL_STATUS_RETRY_STOP_SERVER_PUSHBACK,
    RetryStopAttemptsExhausted = PCL_STATUS_RETRY_STOP_ATTEMPTS_EXHAUSTED,
    RetryStopDeadlineExceeded = PCL_STATUS_RETRY_STOP_DEADLINE_EXCEEDED,
    RetryStopBudgetExhausted = PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED,
    ReservationTooFar = PCL_STATUS_RESERVATION_TOO_FAR,
    ReconfigureInProgress = PCL_STATUS_RECONFIGURE_IN_PROGRESS,
    NotCancelled = PCL_STATUS_NOT_CANCELLED,
    HedgeMaxHedges = PCL_STATUS_HEDGE_MAX_HEDGES,
    HedgeBudgetExhausted = PCL_STATUS_HEDGE_BUDGET_EXHAUSTED,
    HedgeDeadlineTooClose = PCL_STATUS_HEDGE_DEADLINE_TOO_CLOSE,
    Empty = PCL_STATUS_EMPTY,
    NullArgument = PCL_STATUS_NULL_ARGUMENT,
    BufferTooSmall = PCL_STATUS_BUFFER_TOO_SMALL,
    Misaligned = PCL_STATUS_MISALIGNED,
    VersionMismatch = PCL_STATUS_VERSION_MISMATCH,
    InvalidArgument = PCL_STATUS_INVALID_ARGUMENT,
    OutOfMemory = PCL_STATUS_OUT_OF_MEMORY,
    ExceedsCapacity = PCL_STATUS_EXCEEDS_CAPACITY,
    OverRelease = PCL_STATUS_OVER_RELEASE,
    HeaderEmpty = PCL_STATUS_HEADER_EMPTY,
    HeaderMissingValue = PCL_STATUS_HEADER_MISSING_VALUE,
    HeaderMissingUnit = PCL_STATUS_HEADER_MISSING_UNIT,
    HeaderTooManyDigits = PCL_STATUS_HEADER_TOO_MANY_DIGITS,
    HeaderBadUnit = PCL_STATUS_HEADER_BAD_UNIT,
    HeaderNotADigit = PCL_STATUS_HEADER_NOT_A_DIGIT,
    HeaderOverflow = PCL_STATUS_HEADER_OVERFLOW,
    Panic = PCL_STATUS_PANIC,
    InvalidWindowSize = PCL_STATUS_INVALID_WINDOW_SIZE,
    InvalidWindowDuration = PCL_STATUS_INVALID_WINDOW_DURATION,
    InvalidWindowBuckets = PCL_STATUS_INVALID_WINDOW_BUCKETS,
    InvalidBreakerWindowKind = PCL_STATUS_INVALID_BREAKER_WINDOW_KIND,
    InvalidBreakerFailureRate = PCL_STATUS_INVALID_BREAKER_FAILURE_RATE,
    InvalidBreakerSlowRate = PCL_STATUS_INVALID_BREAKER_SLOW_RATE,
    InvalidBreakerMinCalls = PCL_STATUS_INVALID_BREAKER_MIN_CALLS,
    InvalidBreakerOpenDuration = PCL_STATUS_INVALID_BREAKER_OPEN_DURATION,
    InvalidBreakerMaxOpenDuration = PCL_STATUS_INVALID_BREAKER_MAX_OPEN_DURATION,
    InvalidBreakerJitter = PCL_STATUS_INVALID_BREAKER_JITTER,
    InvalidBreakerHalfOpenProbes = PCL_STATUS_INVALID_BREAKER_HALF_OPEN_PROBES,
    InvalidBreakerSuccessesToClose = PCL_STATUS_INVALID_BREAKER_SUCCESSES_TO_CLOSE,
    InvalidBreakerHalfOpenByRate = PCL_STATUS_INVALID_BREAKER_HALF_OPEN_BY_RATE,
    InvalidBreakerProbeTimeout = PCL_STATUS_INVALID_BREAKER_PROBE_TIMEOUT,
    InvalidLimiterRate = PCL_STATUS_INVALID_LIMITER_RATE,
    InvalidLimiterInterval = PCL_STATUS_INVALID_LIMITER_INTERVAL,
    InvalidLimiterBurst = PCL_STATUS_INVALID_LIMITER_BURST,
    InvalidLimiterStart = PCL_STATUS_INVALID_LIMITER_START,
    InvalidBulkheadLimit = PCL_STATUS_INVALID_BULKHEAD_LIMIT,
    InvalidAdaptiveInitial = PCL_STATUS_INVALID_ADAPTIVE_INITIAL,
    InvalidAdaptiveFloor = PCL_STATUS_INVALID_ADAPTIVE_FLOOR,
    InvalidAdaptiveCeiling = PCL_STATUS_INVALID_ADAPTIVE_CEILING,
    InvalidAdaptiveLatencyThreshold = PCL_STATUS_INVALID_ADAPTIVE_LATENCY_THRESHOLD,
    InvalidAdaptiveIncrease = PCL_STATUS_INVALID_ADAPTIVE_INCREASE,
    InvalidAdaptiveBackoff = PCL_STATUS_INVALID_ADAPTIVE_BACKOFF,
    InvalidAdaptiveQueueSize = PCL_STATUS_INVALID_ADAPTIVE_QUEUE_SIZE,
    InvalidAdaptiveSmoothing = PCL_STATUS_INVALID_ADAPTIVE_SMOOTHING,
    InvalidAdaptiveTolerance = PCL_STATUS_INVALID_ADAPTIVE_TOLERANCE,
    InvalidAdaptiveProbeInterval = PCL_STATUS_INVALID_ADAPTIVE_PROBE_INTERVAL,
    InvalidAdaptiveProbeSamples = PCL_STATUS_INVALID_ADAPTIVE_PROBE_SAMPLES,
    InvalidRetryMaxAttempts = PCL_STATUS_INVALID_RETRY_MAX_ATTEMPTS,
    InvalidRetryBackoff = PCL_STATUS_INVALID_RETRY_BACKOFF,
    InvalidRetryMultiplier = PCL_STATUS_INVALID_RETRY_MULTIPLIER,
    InvalidRetryBaseDelay = PCL_STATUS_INVALID_RETRY_BASE_DELAY,
    InvalidRetryMaxDelay = PCL_STATUS_INVALID_RETRY_MAX_DELAY,
    InvalidRetryJitter = PCL_STATUS_INVALID_RETRY_JITTER,
    InvalidRetryJitterPpm = PCL_STATUS_INVALID_RETRY_JITTER_PPM,
    InvalidRetryTotalBudget = PCL_STATUS_INVALID_RETRY_TOTAL_BUDGET,
    InvalidRetryPushbackMax = PCL_STATUS_INVALID_RETRY_PUSHBACK_MAX,
    InvalidThrottleMaxTokens = PCL_STATUS_INVALID_THROTTLE_MAX_TOKENS,
    InvalidThrottleTokenRatio = PCL_STATUS_INVALID_THROTTLE_TOKEN_RATIO,
    InvalidRatioBudgetTtl = PCL_STATUS_INVALID_RATIO_BUDGET_TTL,
    InvalidRatioBudgetMinRetries = PCL_STATUS_INVALID_RATIO_BUDGET_MIN_RETRIES,
    InvalidRatioBudgetRatio = PCL_STATUS_INVALID_RATIO_BUDGET_RATIO,
    InvalidHedgeLowPpm = PCL_STATUS_INVALID_HEDGE_LOW_PPM,
    InvalidHedgeHighPpm = PCL_STATUS_INVALID_HEDGE_HIGH_PPM,
    InvalidHedgeWeightPpm = PCL_STATUS_INVALID_HEDGE_WEIGHT_PPM,
    InvalidHedgeMaxDelay = PCL_STATUS_INVALID_HEDGE_MAX_DELAY,
    InvalidHedgeMaxHedges = PCL_STATUS_INVALID_HEDGE_MAX_HEDGES,
    InvalidHedgeRefreshInterval = PCL_STATUS_INVALID_HEDGE_REFRESH_INTERVAL,
    InvalidHedgeWindow = PCL_STATUS_INVALID_HEDGE_WINDOW,
    InvalidHedgeBudgetRatio = PCL_STATUS_INVALID_HEDGE_BUDGET_RATIO,
    InvalidHedgeBudgetBurst = PCL_STATUS_INVALID_HEDGE_BUDGET_BURST,
    InvalidHealthDegradeAfter = PCL_STATUS_INVALID_HEALTH_DEGRADE_AFTER,
    InvalidHealthRecoverAfter = PCL_STATUS_INVALID_HEALTH_RECOVER_AFTER,
    InvalidHealthCheckInterval = PCL_STATUS_INVALID_HEALTH_CHECK_INTERVAL,
    InvalidHealthInitialState = PCL_STATUS_INVALID_HEALTH_INITIAL_STATE,
    // END GENERATED STATUSES
};

/// A static description of `s` (never null).
[[nodiscard]] inline const char *to_string(Status s) noexcept {
    return pcl_status_str(static_cast<uint32_t>(s));
}

/// Whether `s` is a caller or internal error (not success, not a normal refusal).
[[nodiscard]] inline bool is_error(Status s) noexcept {
    return pcl_status_is_error(static_cast<uint32_t>(s));
}

namespace detail {
[[nodiscard]] constexpr Status from_c(pcl_status s) noexcept { return static_cast<Status>(s); }
}  // namespace detail

/// A value or the status that prevented it. No exceptions: check ok() before value().
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit by design
        : status_(Status::Ok), value_(std::move(value)), has_value_(true) {}
    Result(Status status) noexcept : status_(status) {}  // NOLINT: implicit by design
    Result(Result &&other) noexcept(std::is_nothrow_move_constructible_v<T>)
        : status_(other.status_), has_value_(other.has_value_) {
        if (has_value_) new (&value_) T(std::move(other.value_));
    }
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;
    Result &operator=(Result &&) = delete;
    ~Result() {
        if (has_value_) value_.~T();
    }

    [[nodiscard]] bool ok() const noexcept { return has_value_; }
    explicit operator bool() const noexcept { return has_value_; }
    [[nodiscard]] Status status() const noexcept { return status_; }
    /// The value; only valid when ok().
    [[nodiscard]] T &value() & noexcept { return value_; }
    [[nodiscard]] const T &value() const & noexcept { return value_; }
    [[nodiscard]] T &&value() && noexcept { return std::move(value_); }

private:
    Status status_;
    union {
        T value_;
    };
    bool has_value_ = false;
};

/// Monotonic time as the C API sees it.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

/// Nanoseconds since the clock's origin, as `now_ns` arguments expect (0 before the origin).
[[nodiscard]] inline uint64_t to_ns(TimePoint t) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    return ns < 0 ? 0u : static_cast<uint64_t>(ns);
}

/// A duration in whole nanoseconds, saturating at 0 for negative durations.
template <class Rep, class Period>
[[nodiscard]] inline uint64_t to_ns(std::chrono::duration<Rep, Period> d) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    return ns < 0 ? 0u : static_cast<uint64_t>(ns);
}

/// pcl_now_ns() as a steady_clock time point.
[[nodiscard]] inline TimePoint now() noexcept {
    return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(pcl_now_ns())));
}

namespace detail {
/// Nanoseconds from the C API as a duration, saturating at the largest one.
[[nodiscard]] constexpr std::chrono::nanoseconds to_duration(uint64_t ns) noexcept {
    using Rep = std::chrono::nanoseconds::rep;
    constexpr auto max = static_cast<uint64_t>(std::numeric_limits<Rep>::max());
    return std::chrono::nanoseconds(ns > max ? std::numeric_limits<Rep>::max() : static_cast<Rep>(ns));
}
/// A `now_ns` reading from the C API as a steady_clock time point.
[[nodiscard]] inline TimePoint to_time_point(uint64_t ns) noexcept {
    return TimePoint(std::chrono::duration_cast<Clock::duration>(to_duration(ns)));
}
}  // namespace detail

/// The outcome of one call.
enum class Outcome : uint32_t {
    Success = PCL_OUTCOME_SUCCESS,
    Failure = PCL_OUTCOME_FAILURE,
    SlowSuccess = PCL_OUTCOME_SLOW_SUCCESS,
    SlowFailure = PCL_OUTCOME_SLOW_FAILURE,
};

/// What a window holds.
using WindowCounts = pcl_window_counts;

// ---------------------------------------------------------------------------------------------
// Sliding windows

namespace detail {
template <class Derived>
class CountWindowOps {
public:
    /// Records one outcome.
    [[nodiscard]] Status record(Outcome o) const noexcept {
        return from_c(pcl_count_window_record(self(), static_cast<uint32_t>(o)));
    }
    /// What the window holds now.
    [[nodiscard]] Result<WindowCounts> counts() const noexcept {
        WindowCounts c{};
        const Status s = from_c(pcl_count_window_counts(self(), &c));
        if (s != Status::Ok) return s;
        return c;
    }
    /// Empties the window.
    [[nodiscard]] Status reset() const noexcept { return from_c(pcl_count_window_reset(self())); }

private:
    const pcl_count_window *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};

template <class Derived>
class TimeWindowOps {
public:
    /// Records one outcome at `t`.
    [[nodiscard]] Status record(Outcome o, TimePoint t) const noexcept {
        return from_c(pcl_time_window_record(self(), static_cast<uint32_t>(o), to_ns(t)));
    }
    /// Records one outcome now.
    [[nodiscard]] Status record(Outcome o) const noexcept {
        return from_c(pcl_time_window_record_now(self(), static_cast<uint32_t>(o)));
    }
    /// What the window holds at `t`.
    [[nodiscard]] Result<WindowCounts> counts(TimePoint t) const noexcept {
        WindowCounts c{};
        const Status s = from_c(pcl_time_window_counts(self(), to_ns(t), &c));
        if (s != Status::Ok) return s;
        return c;
    }
    /// What the window holds now.
    [[nodiscard]] Result<WindowCounts> counts() const noexcept {
        WindowCounts c{};
        const Status s = from_c(pcl_time_window_counts_now(self(), &c));
        if (s != Status::Ok) return s;
        return c;
    }
    /// Empties the window.
    [[nodiscard]] Status reset() const noexcept { return from_c(pcl_time_window_reset(self())); }

private:
    const pcl_time_window *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};
}  // namespace detail

/// Configuration of a count window.
struct CountWindowConfig {
    uint32_t window_size = 100;

    [[nodiscard]] pcl_count_window_config to_c() const noexcept {
        pcl_count_window_config c = pcl_count_window_config_default();
        c.window_size = window_size;
        return c;
    }
};

/// Configuration of a time window.
struct TimeWindowConfig {
    std::chrono::nanoseconds duration = std::chrono::seconds(10);
    uint32_t buckets = 10;

    [[nodiscard]] pcl_time_window_config to_c() const noexcept {
        pcl_time_window_config c = pcl_time_window_config_default();
        c.window_duration_ns = to_ns(duration);
        c.window_buckets = buckets;
        return c;
    }
};

/// A view of a count window placed in caller memory (static, arena or shared); not owning.
class CountWindowView : public detail::CountWindowOps<CountWindowView> {
public:
    static constexpr std::size_t size = PCL_COUNT_WINDOW_SIZE;
    static constexpr std::size_t alignment = PCL_COUNT_WINDOW_ALIGN;

    /// Initialises a window in `mem` (at least `size` bytes, aligned to `alignment`).
    [[nodiscard]] static Result<CountWindowView> init(void *mem, std::size_t bytes,
                                                      const CountWindowConfig &config = {}) noexcept {
        const pcl_count_window_config c = config.to_c();
        const Status s = detail::from_c(pcl_count_window_init(mem, bytes, &c));
        if (s != Status::Ok) return s;
        return CountWindowView(static_cast<const pcl_count_window *>(mem));
    }
    /// A view of a window another process or component already initialised in `mem`.
    [[nodiscard]] static CountWindowView attach(const void *mem) noexcept {
        return CountWindowView(static_cast<const pcl_count_window *>(mem));
    }
    [[nodiscard]] const pcl_count_window *capi() const noexcept { return ptr_; }

private:
    explicit CountWindowView(const pcl_count_window *p) noexcept : ptr_(p) {}
    const pcl_count_window *ptr_;
};

/// A count window on the heap, owned (move-only).
class CountWindow : public detail::CountWindowOps<CountWindow> {
public:
    [[nodiscard]] static Result<CountWindow> create(const CountWindowConfig &config = {}) noexcept {
        const pcl_count_window_config c = config.to_c();
        pcl_count_window *p = nullptr;
        const Status s = detail::from_c(pcl_count_window_new(&c, &p));
        if (s != Status::Ok) return s;
        return CountWindow(p);
    }
    [[nodiscard]] const pcl_count_window *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_count_window *p) const noexcept { pcl_count_window_free(p); }
    };
    explicit CountWindow(pcl_count_window *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_count_window, Deleter> ptr_;
};

/// A view of a time window placed in caller memory; not owning.
class TimeWindowView : public detail::TimeWindowOps<TimeWindowView> {
public:
    static constexpr std::size_t size = PCL_TIME_WINDOW_SIZE;
    static constexpr std::size_t alignment = PCL_TIME_WINDOW_ALIGN;

    [[nodiscard]] static Result<TimeWindowView> init(void *mem, std::size_t bytes,
                                                     const TimeWindowConfig &config = {}) noexcept {
        const pcl_time_window_config c = config.to_c();
        const Status s = detail::from_c(pcl_time_window_init(mem, bytes, &c));
        if (s != Status::Ok) return s;
        return TimeWindowView(static_cast<const pcl_time_window *>(mem));
    }
    [[nodiscard]] static TimeWindowView attach(const void *mem) noexcept {
        return TimeWindowView(static_cast<const pcl_time_window *>(mem));
    }
    [[nodiscard]] const pcl_time_window *capi() const noexcept { return ptr_; }

private:
    explicit TimeWindowView(const pcl_time_window *p) noexcept : ptr_(p) {}
    const pcl_time_window *ptr_;
};

/// A time window on the heap, owned (move-only).
class TimeWindow : public detail::TimeWindowOps<TimeWindow> {
public:
    [[nodiscard]] static Result<TimeWindow> create(const TimeWindowConfig &config = {}) noexcept {
        const pcl_time_window_config c = config.to_c();
        pcl_time_window *p = nullptr;
        const Status s = detail::from_c(pcl_time_window_new(&c, &p));
        if (s != Status::Ok) return s;
        return TimeWindow(p);
    }
    [[nodiscard]] const pcl_time_window *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_time_window *p) const noexcept { pcl_time_window_free(p); }
    };
    explicit TimeWindow(pcl_time_window *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_time_window, Deleter> ptr_;
};

// ---------------------------------------------------------------------------------------------
// Circuit breaker

/// The state of a breaker.
enum class BreakerState : uint32_t {
    Closed = PCL_BREAKER_CLOSED,
    Open = PCL_BREAKER_OPEN,
    HalfOpen = PCL_BREAKER_HALF_OPEN,
    ForcedOpen = PCL_BREAKER_FORCED_OPEN,
    Disabled = PCL_BREAKER_DISABLED,
    MetricsOnly = PCL_BREAKER_METRICS_ONLY,
};

/// A state change a breaker decision made.
enum class BreakerTransition : uint32_t {
    None = PCL_BREAKER_TRANSITION_NONE,
    Opened = PCL_BREAKER_TRANSITION_OPENED,
    HalfOpened = PCL_BREAKER_TRANSITION_HALF_OPENED,
    Closed = PCL_BREAKER_TRANSITION_CLOSED,
};

/// How a call was admitted.
enum class BreakerPermitKind : uint32_t {
    Tracked = PCL_BREAKER_PERMIT_TRACKED,      ///< closed or metrics-only: the outcome is recorded
    Probe = PCL_BREAKER_PERMIT_PROBE,          ///< a half-open probe: the outcome closes or reopens
    Untracked = PCL_BREAKER_PERMIT_UNTRACKED,  ///< disabled: the outcome is not recorded
    Shadow = PCL_BREAKER_PERMIT_SHADOW,        ///< shadow mode, against the decision: not recorded
};

/// A breaker's state and counters at one moment (`PCL_BREAKER_NO_RATE` for a rate of an empty
/// window, `PCL_BREAKER_NOT_OPEN` for `open_remaining_ns` outside the open state).
using BreakerStats = pcl_breaker_stats;

/// The effect of recording an outcome.
struct BreakerRecorded {
    /// false: the outcome did not count (`Status::NotCounted` in C: the breaker moved to another
    /// generation since the admission, or the permit was untracked or shadow).
    bool counted;
    /// The state change the record caused.
    BreakerTransition transition;
};

namespace detail {
template <class Derived>
class BreakerOps;
}  // namespace detail

/// A call admitted by a breaker. Record its outcome once with record(); a permit destroyed (or
/// assigned over) without an outcome calls `pcl_breaker_ignore`: an unrecorded permit counts as
/// ignored (nothing is counted; a half-open probe's place is freed at once instead of being held
/// until the probe timeout). Move-only; holds a pointer to the breaker, which must outlive it.
class [[nodiscard]] BreakerPermit {
public:
    BreakerPermit(BreakerPermit &&other) noexcept
        : breaker_(std::exchange(other.breaker_, nullptr)), permit_(other.permit_) {}
    BreakerPermit &operator=(BreakerPermit &&other) noexcept {
        if (this != &other) {
            (void)ignore();
            breaker_ = std::exchange(other.breaker_, nullptr);
            permit_ = other.permit_;
        }
        return *this;
    }
    BreakerPermit(const BreakerPermit &) = delete;
    BreakerPermit &operator=(const BreakerPermit &) = delete;
    ~BreakerPermit() { (void)ignore(); }

    /// Whether the permit still waits for its outcome (false once recorded, ignored or moved from).
    [[nodiscard]] bool pending() const noexcept { return breaker_ != nullptr; }
    [[nodiscard]] BreakerPermitKind kind() const noexcept { return static_cast<BreakerPermitKind>(permit_.kind); }
    /// The state change the admission made (`HalfOpened` for the first probe of a period).
    [[nodiscard]] BreakerTransition admission_transition() const noexcept {
        return static_cast<BreakerTransition>(permit_.transition);
    }
    /// Shadow permits: the refusal an enforcing breaker would have returned; otherwise Ok.
    [[nodiscard]] Status shadow_rejection() const noexcept { return static_cast<Status>(permit_.shadow_rejection); }
    [[nodiscard]] uint32_t generation() const noexcept { return permit_.generation; }

    /// Records the call's outcome observed at `t`, once: afterwards the permit is no longer
    /// pending and a second record answers `Status::NullArgument`. An unknown outcome is
    /// `Status::InvalidArgument` with nothing recorded, and the permit stays pending.
    [[nodiscard]] Result<BreakerRecorded> record(Outcome o, TimePoint t) noexcept {
        uint32_t tr = PCL_BREAKER_TRANSITION_NONE;
        const Status s = detail::from_c(pcl_breaker_record(breaker_, &permit_, static_cast<uint32_t>(o), to_ns(t), &tr));
        return finish(s, tr);
    }
    /// Records the call's outcome observed now, once.
    [[nodiscard]] Result<BreakerRecorded> record(Outcome o) noexcept {
        uint32_t tr = PCL_BREAKER_TRANSITION_NONE;
        const Status s = detail::from_c(pcl_breaker_record_now(breaker_, &permit_, static_cast<uint32_t>(o), &tr));
        return finish(s, tr);
    }
    /// Releases the call without an outcome now (what the destructor does); later calls do nothing.
    Status ignore() noexcept {
        if (breaker_ == nullptr) return Status::Ok;
        const pcl_breaker *b = std::exchange(breaker_, nullptr);
        return detail::from_c(pcl_breaker_ignore(b, &permit_));
    }
    /// The plain C permit.
    [[nodiscard]] const pcl_breaker_permit &capi() const noexcept { return permit_; }

private:
    template <class>
    friend class detail::BreakerOps;
    BreakerPermit(const pcl_breaker *b, const pcl_breaker_permit &p) noexcept : breaker_(b), permit_(p) {}
    Result<BreakerRecorded> finish(Status s, uint32_t tr) noexcept {
        if (s == Status::InvalidArgument) return s;  // nothing recorded: still pending
        breaker_ = nullptr;                          // recorded (or answered for good): once
        if (s == Status::Ok || s == Status::NotCounted)
            return BreakerRecorded{s == Status::Ok, static_cast<BreakerTransition>(tr)};
        return s;
    }
    const pcl_breaker *breaker_;
    pcl_breaker_permit permit_;
};

/// The answer of a breaker's try_acquire: a Result<BreakerPermit> that also says, on
/// `Status::RejectedOpen`, how long until the open period ends.
class [[nodiscard]] BreakerAdmission : public Result<BreakerPermit> {
public:
    /// On `Status::RejectedOpen`: the time until the open period ends. Empty otherwise (admitted,
    /// `RejectedHalfOpenFull`, or `RejectedForcedOpen`, which has no known end).
    [[nodiscard]] std::optional<std::chrono::nanoseconds> retry_after() const noexcept { return retry_after_; }

private:
    template <class>
    friend class detail::BreakerOps;
    explicit BreakerAdmission(BreakerPermit permit) noexcept : Result<BreakerPermit>(std::move(permit)) {}
    BreakerAdmission(Status s, std::optional<std::chrono::nanoseconds> retry_after) noexcept
        : Result<BreakerPermit>(s), retry_after_(retry_after) {}
    std::optional<std::chrono::nanoseconds> retry_after_;
};

namespace detail {
template <class Derived>
class BreakerOps {
public:
    /// Asks to make a call at `t`. Admitted: the permit (record its outcome, or it counts as
    /// ignored). Refused: `RejectedOpen` (with retry_after()), `RejectedHalfOpenFull` or
    /// `RejectedForcedOpen`. In shadow mode refusals are admitted with a Shadow permit.
    [[nodiscard]] BreakerAdmission try_acquire(TimePoint t) const noexcept {
        pcl_breaker_permit p{};
        uint64_t after = 0;
        const Status s = from_c(pcl_breaker_try_acquire(self(), to_ns(t), &p, &after));
        return admit(s, p, after);
    }
    /// Asks to make a call now.
    [[nodiscard]] BreakerAdmission try_acquire() const noexcept {
        pcl_breaker_permit p{};
        uint64_t after = 0;
        const Status s = from_c(pcl_breaker_try_acquire_now(self(), &p, &after));
        return admit(s, p, after);
    }
    /// The stored state (one load).
    [[nodiscard]] Result<BreakerState> state() const noexcept {
        uint32_t st = 0;
        const Status s = from_c(pcl_breaker_state(self(), &st));
        if (s != Status::Ok) return s;
        return static_cast<BreakerState>(st);
    }
    /// The state and counters at `t`.
    [[nodiscard]] Result<BreakerStats> stats(TimePoint t) const noexcept {
        BreakerStats st{};
        const Status s = from_c(pcl_breaker_snapshot(self(), to_ns(t), &st));
        if (s != Status::Ok) return s;
        return st;
    }
    /// The state and counters now.
    [[nodiscard]] Result<BreakerStats> stats() const noexcept {
        BreakerStats st{};
        const Status s = from_c(pcl_breaker_snapshot_now(self(), &st));
        if (s != Status::Ok) return s;
        return st;
    }
    // Operator calls: each answers the state it replaced.

    /// Forces the breaker open until another operator call (permits out become stale).
    [[nodiscard]] Result<BreakerState> force_open() const noexcept { return op(pcl_breaker_force_open); }
    /// Closes the breaker, emptying the window and the failure count.
    [[nodiscard]] Result<BreakerState> force_close() const noexcept { return op(pcl_breaker_force_close); }
    /// Admits every call and records nothing.
    [[nodiscard]] Result<BreakerState> disable() const noexcept { return op(pcl_breaker_disable); }
    /// Admits and records every call, never trips (empties the window).
    [[nodiscard]] Result<BreakerState> metrics_only() const noexcept { return op(pcl_breaker_metrics_only); }
    /// Closes the breaker and clears everything it counted.
    [[nodiscard]] Result<BreakerState> reset() const noexcept { return op(pcl_breaker_reset); }

private:
    const pcl_breaker *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
    BreakerAdmission admit(Status s, const pcl_breaker_permit &p, uint64_t after) const noexcept {
        if (s == Status::Ok) return BreakerAdmission(BreakerPermit(self(), p));
        if (s == Status::RejectedOpen) return BreakerAdmission(s, to_duration(after));
        return BreakerAdmission(s, std::nullopt);
    }
    Result<BreakerState> op(pcl_status (*f)(const pcl_breaker *, uint32_t *)) const noexcept {
        uint32_t previous = 0;
        const Status s = from_c(f(self(), &previous));
        if (s != Status::Ok) return s;
        return static_cast<BreakerState>(previous);
    }
};
}  // namespace detail

/// A view of a breaker placed in caller or shared memory; not owning.
class BreakerView : public detail::BreakerOps<BreakerView> {
public:
    static constexpr std::size_t size = PCL_BREAKER_SIZE;
    static constexpr std::size_t alignment = PCL_BREAKER_ALIGN;

    [[nodiscard]] static Result<BreakerView> init(void *mem, std::size_t bytes,
                                                  const pcl_breaker_config &config = pcl_breaker_config_default()) noexcept {
        const Status s = detail::from_c(pcl_breaker_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return BreakerView(static_cast<const pcl_breaker *>(mem));
    }
    [[nodiscard]] static BreakerView attach(const void *mem) noexcept {
        return BreakerView(static_cast<const pcl_breaker *>(mem));
    }
    [[nodiscard]] const pcl_breaker *capi() const noexcept { return ptr_; }

private:
    explicit BreakerView(const pcl_breaker *p) noexcept : ptr_(p) {}
    const pcl_breaker *ptr_;
};

/// A circuit breaker on the heap, owned (move-only). Configure it through the C struct (start
/// from `pcl_breaker_config_default()`).
class Breaker : public detail::BreakerOps<Breaker> {
public:
    [[nodiscard]] static Result<Breaker> create(const pcl_breaker_config &config = pcl_breaker_config_default()) noexcept {
        pcl_breaker *p = nullptr;
        const Status s = detail::from_c(pcl_breaker_new(&config, &p));
        if (s != Status::Ok) return s;
        return Breaker(p);
    }
    [[nodiscard]] const pcl_breaker *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_breaker *p) const noexcept { pcl_breaker_free(p); }
    };
    explicit Breaker(pcl_breaker *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_breaker, Deleter> ptr_;
};

// ---------------------------------------------------------------------------------------------
// Rate limiter

/// A limiter's state at one moment (`PCL_LIMITER_NOT_COUNTED` counters when counting is off).
using LimiterStats = pcl_limiter_stats;

/// The answer of a rate limiter's try_acquire.
struct [[nodiscard]] LimiterDecision {
    /// `Ok`, `RateLimited` (nothing taken), `ExceedsCapacity` (above the burst: never admissible)
    /// or an error.
    Status status;
    /// On `RateLimited`: how long until the same request fits, if nothing else is taken
    /// meanwhile. Empty otherwise.
    std::optional<std::chrono::nanoseconds> retry_after;

    [[nodiscard]] bool ok() const noexcept { return status == Status::Ok; }
    explicit operator bool() const noexcept { return ok(); }
};

namespace detail {
template <class Derived>
class RateLimiterOps;
}  // namespace detail

/// Permits reserved by a rate limiter, as plain data (copyable): use them from ready_at(), or
/// give them back with the limiter's cancel(), at most once.
class LimiterReservation {
public:
    [[nodiscard]] uint64_t permits() const noexcept { return r_.permits; }
    /// From when the permits may be used.
    [[nodiscard]] TimePoint ready_at() const noexcept { return detail::to_time_point(r_.ready_at_ns); }
    /// How long from `t` until the permits may be used (zero: now).
    [[nodiscard]] std::chrono::nanoseconds wait(TimePoint t) const noexcept {
        const uint64_t at = to_ns(t);
        return detail::to_duration(r_.ready_at_ns > at ? r_.ready_at_ns - at : 0);
    }
    [[nodiscard]] const pcl_limiter_reservation &capi() const noexcept { return r_; }

private:
    template <class>
    friend class detail::RateLimiterOps;
    explicit LimiterReservation(const pcl_limiter_reservation &r) noexcept : r_(r) {}
    pcl_limiter_reservation r_;
};

namespace detail {
template <class Derived>
class RateLimiterOps {
public:
    /// Takes `n` permits at `t`, all or nothing (`n == 0` is always admitted).
    [[nodiscard]] LimiterDecision try_acquire(uint64_t n, TimePoint t) const noexcept {
        uint64_t after = 0;
        const Status s = from_c(pcl_limiter_try_acquire(self(), n, to_ns(t), &after));
        return decision(s, after);
    }
    /// Takes `n` permits now.
    [[nodiscard]] LimiterDecision try_acquire(uint64_t n = 1) const noexcept {
        uint64_t after = 0;
        const Status s = from_c(pcl_limiter_try_acquire_now(self(), n, &after));
        return decision(s, after);
    }
    /// How long from `t` until `n` permits fit (zero: now); takes nothing.
    [[nodiscard]] Result<std::chrono::nanoseconds> wait_time(uint64_t n, TimePoint t) const noexcept {
        uint64_t wait = 0;
        const Status s = from_c(pcl_limiter_wait_time(self(), n, to_ns(t), &wait));
        if (s != Status::Ok) return s;
        return to_duration(wait);
    }
    /// How long from now until `n` permits fit.
    [[nodiscard]] Result<std::chrono::nanoseconds> wait_time(uint64_t n = 1) const noexcept {
        uint64_t wait = 0;
        const Status s = from_c(pcl_limiter_wait_time_now(self(), n, &wait));
        if (s != Status::Ok) return s;
        return to_duration(wait);
    }
    /// Reserves `n` permits at `t` for the earliest time they fit, if at most `max_wait` away
    /// (`ReservationTooFar` otherwise, nothing taken).
    [[nodiscard]] Result<LimiterReservation> reserve(uint64_t n, std::chrono::nanoseconds max_wait, TimePoint t) const noexcept {
        pcl_limiter_reservation r{};
        const Status s = from_c(pcl_limiter_reserve(self(), n, to_ns(t), to_ns(max_wait), &r));
        if (s != Status::Ok) return s;
        return LimiterReservation(r);
    }
    /// Reserves `n` permits now.
    [[nodiscard]] Result<LimiterReservation> reserve(uint64_t n, std::chrono::nanoseconds max_wait) const noexcept {
        pcl_limiter_reservation r{};
        const Status s = from_c(pcl_limiter_reserve_now(self(), n, to_ns(max_wait), &r));
        if (s != Status::Ok) return s;
        return LimiterReservation(r);
    }
    /// Gives the permits of `r` back at `t`, all or nothing: `Ok` or `NotCancelled` (something
    /// was taken after them, the limiter was reconfigured, or they are valid already).
    [[nodiscard]] Status cancel(const LimiterReservation &r, TimePoint t) const noexcept {
        return from_c(pcl_limiter_cancel(self(), &r.capi(), to_ns(t)));
    }
    /// Gives the permits of `r` back now.
    [[nodiscard]] Status cancel(const LimiterReservation &r) const noexcept {
        return from_c(pcl_limiter_cancel_now(self(), &r.capi()));
    }
    /// Replaces the rate (`rate_per_second` when non-zero, else one permit every `interval`) and
    /// the burst at `t`, keeping the fill level.
    [[nodiscard]] Status reconfigure(uint64_t rate_per_second, std::chrono::nanoseconds interval, uint64_t burst,
                                     TimePoint t) const noexcept {
        return from_c(pcl_limiter_reconfigure(self(), rate_per_second, to_ns(interval), burst, to_ns(t)));
    }
    /// Replaces the rate and the burst now.
    [[nodiscard]] Status reconfigure(uint64_t rate_per_second, std::chrono::nanoseconds interval,
                                     uint64_t burst) const noexcept {
        return reconfigure(rate_per_second, interval, burst, now());
    }
    /// The state at `t`.
    [[nodiscard]] Result<LimiterStats> stats(TimePoint t) const noexcept {
        LimiterStats st{};
        const Status s = from_c(pcl_limiter_snapshot(self(), to_ns(t), &st));
        if (s != Status::Ok) return s;
        return st;
    }
    /// The state now.
    [[nodiscard]] Result<LimiterStats> stats() const noexcept {
        LimiterStats st{};
        const Status s = from_c(pcl_limiter_snapshot_now(self(), &st));
        if (s != Status::Ok) return s;
        return st;
    }

private:
    const pcl_limiter *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
    static LimiterDecision decision(Status s, uint64_t after) noexcept {
        if (s == Status::RateLimited) return LimiterDecision{s, to_duration(after)};
        return LimiterDecision{s, std::nullopt};
    }
};
}  // namespace detail

/// A view of a rate limiter placed in caller or shared memory; not owning.
class RateLimiterView : public detail::RateLimiterOps<RateLimiterView> {
public:
    static constexpr std::size_t size = PCL_LIMITER_SIZE;
    static constexpr std::size_t alignment = PCL_LIMITER_ALIGN;

    [[nodiscard]] static Result<RateLimiterView> init(void *mem, std::size_t bytes,
                                                      const pcl_limiter_config &config = pcl_limiter_config_default()) noexcept {
        const Status s = detail::from_c(pcl_limiter_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return RateLimiterView(static_cast<const pcl_limiter *>(mem));
    }
    [[nodiscard]] static RateLimiterView attach(const void *mem) noexcept {
        return RateLimiterView(static_cast<const pcl_limiter *>(mem));
    }
    [[nodiscard]] const pcl_limiter *capi() const noexcept { return ptr_; }

private:
    explicit RateLimiterView(const pcl_limiter *p) noexcept : ptr_(p) {}
    const pcl_limiter *ptr_;
};

/// A GCRA rate limiter on the heap, owned (move-only). Configure it through the C struct (start
/// from `pcl_limiter_config_default()`; its `origin_ns` is a `to_ns(TimePoint)` reading).
class RateLimiter : public detail::RateLimiterOps<RateLimiter> {
public:
    [[nodiscard]] static Result<RateLimiter> create(const pcl_limiter_config &config = pcl_limiter_config_default()) noexcept {
        pcl_limiter *p = nullptr;
        const Status s = detail::from_c(pcl_limiter_new(&config, &p));
        if (s != Status::Ok) return s;
        return RateLimiter(p);
    }
    [[nodiscard]] const pcl_limiter *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_limiter *p) const noexcept { pcl_limiter_free(p); }
    };
    explicit RateLimiter(pcl_limiter *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_limiter, Deleter> ptr_;
};

// ---------------------------------------------------------------------------------------------
// Bulkhead

/// Configuration of a bulkhead.
struct BulkheadConfig {
    uint32_t limit = 10;
    bool shadow = false;
    /// false: a refusal is decided on one load and writes nothing (not counted); see
    /// docs/semantics/bulkhead.md.
    bool count_refusals = true;

    [[nodiscard]] pcl_bulkhead_config to_c() const noexcept {
        pcl_bulkhead_config c = pcl_bulkhead_config_default();
        c.limit = limit;
        c.shadow = shadow;
        c.count_refusals = count_refusals;
        return c;
    }
};

/// Counters of a bulkhead.
using BulkheadStats = pcl_bulkhead_stats;

namespace detail {
template <class Derived>
class BulkheadOps;
}  // namespace detail

/// Permits taken from a bulkhead, given back when the object is destroyed (or by release()).
/// Move-only. Holds a pointer to the bulkhead, which must outlive it.
class [[nodiscard]] BulkheadPermit {
public:
    BulkheadPermit(BulkheadPermit &&other) noexcept
        : bulkhead_(std::exchange(other.bulkhead_, nullptr)), n_(other.n_) {}
    BulkheadPermit &operator=(BulkheadPermit &&other) noexcept {
        if (this != &other) {
            (void)release();
            bulkhead_ = std::exchange(other.bulkhead_, nullptr);
            n_ = other.n_;
        }
        return *this;
    }
    BulkheadPermit(const BulkheadPermit &) = delete;
    BulkheadPermit &operator=(const BulkheadPermit &) = delete;
    ~BulkheadPermit() { (void)release(); }

    /// The number of permits held (0 once released).
    [[nodiscard]] uint32_t permits() const noexcept { return bulkhead_ != nullptr ? n_ : 0; }
    /// Gives the permits back now; later calls (and the destructor) do nothing.
    Status release() noexcept {
        if (bulkhead_ == nullptr) return Status::Ok;
        const pcl_bulkhead *b = std::exchange(bulkhead_, nullptr);
        return detail::from_c(pcl_bulkhead_release(b, n_));
    }

private:
    template <class>
    friend class detail::BulkheadOps;
    BulkheadPermit(const pcl_bulkhead *b, uint32_t n) noexcept : bulkhead_(b), n_(n) {}
    const pcl_bulkhead *bulkhead_;
    uint32_t n_;
};

namespace detail {
template <class Derived>
class BulkheadOps {
public:
    /// Takes `n` permits, all or nothing; the permit gives them back when destroyed.
    [[nodiscard]] Result<BulkheadPermit> try_acquire(uint32_t n = 1) const noexcept {
        const Status s = from_c(pcl_bulkhead_try_acquire(self(), n));
        if (s != Status::Ok) return s;
        return BulkheadPermit(self(), n);
    }
    /// Takes `n` permits, waiting up to `timeout`.
    template <class Rep, class Period>
    [[nodiscard]] Result<BulkheadPermit> acquire_for(uint32_t n, std::chrono::duration<Rep, Period> timeout) const noexcept {
        const Status s = from_c(pcl_bulkhead_acquire_timeout(self(), n, to_ns(timeout)));
        if (s != Status::Ok) return s;
        return BulkheadPermit(self(), n);
    }
    /// Changes the limit (permits out above it stay out until released).
    [[nodiscard]] Status resize(uint32_t limit) const noexcept {
        return detail::from_c(pcl_bulkhead_resize(self(), limit));
    }
    /// Turns shadow mode on or off.
    [[nodiscard]] Status set_shadow(bool on) const noexcept {
        return detail::from_c(pcl_bulkhead_set_shadow(self(), on));
    }
    /// The counters.
    [[nodiscard]] Result<BulkheadStats> stats() const noexcept {
        BulkheadStats st{};
        const Status s = detail::from_c(pcl_bulkhead_snapshot(self(), &st));
        if (s != Status::Ok) return s;
        return st;
    }

private:
    const pcl_bulkhead *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};
}  // namespace detail

/// A view of a bulkhead placed in caller or shared memory; not owning.
class BulkheadView : public detail::BulkheadOps<BulkheadView> {
public:
    static constexpr std::size_t size = PCL_BULKHEAD_SIZE;
    static constexpr std::size_t alignment = PCL_BULKHEAD_ALIGN;

    [[nodiscard]] static Result<BulkheadView> init(void *mem, std::size_t bytes, const BulkheadConfig &config = {}) noexcept {
        const pcl_bulkhead_config c = config.to_c();
        const Status s = detail::from_c(pcl_bulkhead_init(mem, bytes, &c));
        if (s != Status::Ok) return s;
        return BulkheadView(static_cast<const pcl_bulkhead *>(mem));
    }
    [[nodiscard]] static BulkheadView attach(const void *mem) noexcept {
        return BulkheadView(static_cast<const pcl_bulkhead *>(mem));
    }
    [[nodiscard]] const pcl_bulkhead *capi() const noexcept { return ptr_; }

private:
    explicit BulkheadView(const pcl_bulkhead *p) noexcept : ptr_(p) {}
    const pcl_bulkhead *ptr_;
};

/// A bulkhead on the heap, owned (move-only).
class Bulkhead : public detail::BulkheadOps<Bulkhead> {
public:
    [[nodiscard]] static Result<Bulkhead> create(const BulkheadConfig &config = {}) noexcept {
        const pcl_bulkhead_config c = config.to_c();
        pcl_bulkhead *p = nullptr;
        const Status s = detail::from_c(pcl_bulkhead_new(&c, &p));
        if (s != Status::Ok) return s;
        return Bulkhead(p);
    }
    [[nodiscard]] const pcl_bulkhead *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_bulkhead *p) const noexcept { pcl_bulkhead_free(p); }
    };
    explicit Bulkhead(pcl_bulkhead *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_bulkhead, Deleter> ptr_;
};

// ---------------------------------------------------------------------------------------------
// Adaptive concurrency limits

namespace detail {
struct AimdApi {
    using type = pcl_aimd;
    static pcl_status record(const pcl_aimd *a, uint64_t rtt, uint32_t in_flight, bool dropped, bool *changed) noexcept {
        return pcl_aimd_record(a, rtt, in_flight, dropped, changed);
    }
    static pcl_status feed(const pcl_aimd *a, const pcl_bulkhead *b, uint64_t rtt, uint32_t in_flight, bool dropped,
                           uint32_t *limit) noexcept {
        return pcl_aimd_feed(a, b, rtt, in_flight, dropped, limit);
    }
    static pcl_status limit(const pcl_aimd *a, uint32_t *limit) noexcept { return pcl_aimd_limit(a, limit); }
};

struct GradientApi {
    using type = pcl_gradient;
    static pcl_status record(const pcl_gradient *g, uint64_t rtt, uint32_t in_flight, bool dropped, bool *changed) noexcept {
        return pcl_gradient_record(g, rtt, in_flight, dropped, changed);
    }
    static pcl_status feed(const pcl_gradient *g, const pcl_bulkhead *b, uint64_t rtt, uint32_t in_flight, bool dropped,
                           uint32_t *limit) noexcept {
        return pcl_gradient_feed(g, b, rtt, in_flight, dropped, limit);
    }
    static pcl_status limit(const pcl_gradient *g, uint32_t *limit) noexcept { return pcl_gradient_limit(g, limit); }
};

template <class Derived, class Api>
class AdaptiveOps {
public:
    /// Learns from one call: its round-trip time, the calls in flight when it was admitted
    /// (itself included), and whether it was dropped. Answers whether the limit changed.
    template <class Rep, class Period>
    [[nodiscard]] Result<bool> record(std::chrono::duration<Rep, Period> rtt, uint32_t in_flight,
                                      bool dropped = false) const noexcept {
        bool changed = false;
        const Status s = from_c(Api::record(self(), to_ns(rtt), in_flight, dropped, &changed));
        if (s != Status::Ok) return s;
        return changed;
    }
    /// As record(), then resizes `bulkhead` (a Bulkhead or a BulkheadView) to the limit if the
    /// sample changed it. Answers the limit now.
    template <class B, class Rep, class Period>
    [[nodiscard]] Result<uint32_t> feed(const BulkheadOps<B> &bulkhead, std::chrono::duration<Rep, Period> rtt,
                                        uint32_t in_flight, bool dropped = false) const noexcept {
        uint32_t limit = 0;
        const pcl_bulkhead *b = static_cast<const B &>(bulkhead).capi();
        const Status s = from_c(Api::feed(self(), b, to_ns(rtt), in_flight, dropped, &limit));
        if (s != Status::Ok) return s;
        return limit;
    }
    /// The limit now.
    [[nodiscard]] Result<uint32_t> limit() const noexcept {
        uint32_t l = 0;
        const Status s = from_c(Api::limit(self(), &l));
        if (s != Status::Ok) return s;
        return l;
    }

private:
    const typename Api::type *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};
}  // namespace detail

/// A view of an AIMD limit placed in caller or shared memory; not owning.
class AimdLimitView : public detail::AdaptiveOps<AimdLimitView, detail::AimdApi> {
public:
    static constexpr std::size_t size = PCL_AIMD_SIZE;
    static constexpr std::size_t alignment = PCL_AIMD_ALIGN;

    [[nodiscard]] static Result<AimdLimitView> init(void *mem, std::size_t bytes,
                                                    const pcl_aimd_config &config = pcl_aimd_config_default()) noexcept {
        const Status s = detail::from_c(pcl_aimd_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return AimdLimitView(static_cast<const pcl_aimd *>(mem));
    }
    [[nodiscard]] static AimdLimitView attach(const void *mem) noexcept {
        return AimdLimitView(static_cast<const pcl_aimd *>(mem));
    }
    [[nodiscard]] const pcl_aimd *capi() const noexcept { return ptr_; }

private:
    explicit AimdLimitView(const pcl_aimd *p) noexcept : ptr_(p) {}
    const pcl_aimd *ptr_;
};

/// An AIMD concurrency limit on the heap, owned (move-only). Configure it through the C struct
/// (start from `pcl_aimd_config_default()`).
class AimdLimit : public detail::AdaptiveOps<AimdLimit, detail::AimdApi> {
public:
    [[nodiscard]] static Result<AimdLimit> create(const pcl_aimd_config &config = pcl_aimd_config_default()) noexcept {
        pcl_aimd *p = nullptr;
        const Status s = detail::from_c(pcl_aimd_new(&config, &p));
        if (s != Status::Ok) return s;
        return AimdLimit(p);
    }
    [[nodiscard]] const pcl_aimd *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_aimd *p) const noexcept { pcl_aimd_free(p); }
    };
    explicit AimdLimit(pcl_aimd *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_aimd, Deleter> ptr_;
};

/// A view of a gradient limit placed in caller or shared memory; not owning.
class GradientLimitView : public detail::AdaptiveOps<GradientLimitView, detail::GradientApi> {
public:
    static constexpr std::size_t size = PCL_GRADIENT_SIZE;
    static constexpr std::size_t alignment = PCL_GRADIENT_ALIGN;

    [[nodiscard]] static Result<GradientLimitView> init(
        void *mem, std::size_t bytes, const pcl_gradient_config &config = pcl_gradient_config_default()) noexcept {
        const Status s = detail::from_c(pcl_gradient_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return GradientLimitView(static_cast<const pcl_gradient *>(mem));
    }
    [[nodiscard]] static GradientLimitView attach(const void *mem) noexcept {
        return GradientLimitView(static_cast<const pcl_gradient *>(mem));
    }
    [[nodiscard]] const pcl_gradient *capi() const noexcept { return ptr_; }

private:
    explicit GradientLimitView(const pcl_gradient *p) noexcept : ptr_(p) {}
    const pcl_gradient *ptr_;
};

/// A gradient concurrency limit on the heap, owned (move-only). Configure it through the C
/// struct (start from `pcl_gradient_config_default()`).
class GradientLimit : public detail::AdaptiveOps<GradientLimit, detail::GradientApi> {
public:
    [[nodiscard]] static Result<GradientLimit> create(
        const pcl_gradient_config &config = pcl_gradient_config_default()) noexcept {
        pcl_gradient *p = nullptr;
        const Status s = detail::from_c(pcl_gradient_new(&config, &p));
        if (s != Status::Ok) return s;
        return GradientLimit(p);
    }
    [[nodiscard]] const pcl_gradient *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_gradient *p) const noexcept { pcl_gradient_free(p); }
    };
    explicit GradientLimit(pcl_gradient *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_gradient, Deleter> ptr_;
};

// ---------------------------------------------------------------------------------------------
// Health

/// Health states, best first.
enum class HealthState : uint32_t {
    Healthy = PCL_HEALTH_HEALTHY,
    Degraded = PCL_HEALTH_DEGRADED,
    Unhealthy = PCL_HEALTH_UNHEALTHY,
    Critical = PCL_HEALTH_CRITICAL,
};

/// The effect of one check result.
struct HealthTransition {
    HealthState from;
    HealthState to;
    [[nodiscard]] bool changed() const noexcept { return from != to; }
};

namespace detail {
template <class Derived>
class HealthOps {
public:
    /// Records one check result at `t`.
    [[nodiscard]] Result<HealthTransition> record(bool success, TimePoint t) const noexcept {
        pcl_health_transition tr{};
        const Status s = from_c(pcl_health_record(self(), success, to_ns(t), &tr));
        if (s != Status::Ok) return s;
        return HealthTransition{static_cast<HealthState>(tr.from), static_cast<HealthState>(tr.to)};
    }
    /// Records one check result now.
    [[nodiscard]] Result<HealthTransition> record(bool success) const noexcept { return record(success, now()); }
    /// The current state.
    [[nodiscard]] Result<HealthState> state() const noexcept {
        uint32_t st = 0;
        const Status s = from_c(pcl_health_state(self(), &st));
        if (s != Status::Ok) return s;
        return static_cast<HealthState>(st);
    }
    /// How long until the next check is due at `t` (zero: now).
    [[nodiscard]] Result<std::chrono::nanoseconds> next_check(TimePoint t) const noexcept {
        uint64_t due = 0;
        const Status s = from_c(pcl_health_next_check(self(), to_ns(t), &due));
        if (s != Status::Ok) return s;
        return to_duration(due);
    }
    [[nodiscard]] Status reset() const noexcept { return from_c(pcl_health_reset(self())); }

private:
    const pcl_health *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};
}  // namespace detail

/// A view of a health state machine placed in caller or shared memory; not owning.
class HealthMachineView : public detail::HealthOps<HealthMachineView> {
public:
    static constexpr std::size_t size = PCL_HEALTH_SIZE;
    static constexpr std::size_t alignment = PCL_HEALTH_ALIGN;

    [[nodiscard]] static Result<HealthMachineView> init(void *mem, std::size_t bytes,
                                                        const pcl_health_config &config = pcl_health_config_default()) noexcept {
        const Status s = detail::from_c(pcl_health_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return HealthMachineView(static_cast<const pcl_health *>(mem));
    }
    [[nodiscard]] static HealthMachineView attach(const void *mem) noexcept {
        return HealthMachineView(static_cast<const pcl_health *>(mem));
    }
    [[nodiscard]] const pcl_health *capi() const noexcept { return ptr_; }

private:
    explicit HealthMachineView(const pcl_health *p) noexcept : ptr_(p) {}
    const pcl_health *ptr_;
};

/// A health state machine with hysteresis on the heap, owned (move-only). Configure it through
/// the C struct (start from `pcl_health_config_default()`).
class HealthMachine : public detail::HealthOps<HealthMachine> {
public:
    [[nodiscard]] static Result<HealthMachine> create(const pcl_health_config &config = pcl_health_config_default()) noexcept {
        pcl_health *p = nullptr;
        const Status s = detail::from_c(pcl_health_new(&config, &p));
        if (s != Status::Ok) return s;
        return HealthMachine(p);
    }
    [[nodiscard]] const pcl_health *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_health *p) const noexcept { pcl_health_free(p); }
    };
    explicit HealthMachine(pcl_health *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_health, Deleter> ptr_;
};

// ---------------------------------------------------------------------------------------------
// Deadlines

/// An absolute deadline on the steady clock. `Deadline::never()` never expires.
class Deadline {
public:
    explicit constexpr Deadline(uint64_t at_ns) noexcept : at_(at_ns) {}
    explicit Deadline(TimePoint at) noexcept : at_(to_ns(at)) {}
    [[nodiscard]] static constexpr Deadline never() noexcept { return Deadline(PCL_DEADLINE_NEVER); }
    /// `timeout` from `t`.
    template <class Rep, class Period>
    [[nodiscard]] static Deadline after(std::chrono::duration<Rep, Period> timeout, TimePoint t = now()) noexcept {
        const uint64_t base = to_ns(t), d = to_ns(timeout);
        return Deadline(d > PCL_DEADLINE_NEVER - base ? PCL_DEADLINE_NEVER : base + d);
    }
    [[nodiscard]] constexpr uint64_t ns() const noexcept { return at_; }
    /// Time left at `t`; `Status::Expired` at or after the deadline (never a negative duration).
    [[nodiscard]] Result<std::chrono::nanoseconds> remaining(TimePoint t = now()) const noexcept {
        uint64_t left = 0;
        const Status s = detail::from_c(pcl_deadline_remaining(at_, to_ns(t), &left));
        if (s != Status::Ok) return s;
        return std::chrono::nanoseconds(left > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(left));
    }
    /// The deadline for a downstream call that leaves `reserve` for the response.
    template <class Rep, class Period>
    [[nodiscard]] Deadline child(std::chrono::duration<Rep, Period> reserve) const noexcept {
        return Deadline(pcl_deadline_child(at_, to_ns(reserve)));
    }
    /// Whether a retry after `delay` still leaves `min_attempt` before the deadline.
    template <class R1, class P1, class R2, class P2>
    [[nodiscard]] bool retry_allowed(std::chrono::duration<R1, P1> delay, std::chrono::duration<R2, P2> min_attempt,
                                     TimePoint t = now()) const noexcept {
        return pcl_deadline_retry_allowed(at_, to_ns(t), to_ns(delay), to_ns(min_attempt)) == PCL_STATUS_OK;
    }

private:
    uint64_t at_;
};

// ---------------------------------------------------------------------------------------------
// Retries

/// How an attempt failed.
enum class RetryClass : uint32_t {
    Retryable = PCL_RETRY_RETRYABLE,             ///< transient: retry after the policy's delay
    NotRetryable = PCL_RETRY_NOT_RETRYABLE,      ///< retrying cannot help: stop
    RetryableAfter = PCL_RETRY_RETRYABLE_AFTER,  ///< the server asked for a retry after `pushback`
    StopRetrying = PCL_RETRY_STOP_RETRYING,      ///< the server asked not to retry: stop
};

/// The failure of one attempt: its class and, for `RetryableAfter`, the server's push-back.
struct RetryError {
    RetryClass error_class = RetryClass::Retryable;
    std::chrono::nanoseconds pushback{0};

    [[nodiscard]] static constexpr RetryError retryable() noexcept { return {RetryClass::Retryable, {}}; }
    [[nodiscard]] static constexpr RetryError not_retryable() noexcept { return {RetryClass::NotRetryable, {}}; }
    [[nodiscard]] static constexpr RetryError stop_retrying() noexcept { return {RetryClass::StopRetrying, {}}; }
    [[nodiscard]] static constexpr RetryError retryable_after(std::chrono::nanoseconds pushback) noexcept {
        return {RetryClass::RetryableAfter, pushback};
    }
    /// What a gRPC `grpc-retry-pushback-ms` value means (negative: stop retrying).
    [[nodiscard]] static RetryError from_pushback_ms(int64_t ms) noexcept {
        uint32_t cls = PCL_RETRY_STOP_RETRYING;
        uint64_t pushback = 0;
        if (pcl_retry_class_from_pushback_ms(ms, &cls, &pushback) != PCL_STATUS_OK) return stop_retrying();
        return {static_cast<RetryClass>(cls), detail::to_duration(pushback)};
    }
};

/// The state of one call (attempts, place in the schedule, deadline, jitter generator), as
/// plain data: copy it freely. Get a meaningful one from a policy's start(); any contents are
/// valid (a default-constructed state is safe to use, just not useful).
class RetryState {
public:
    RetryState() noexcept : s_{} {}
    /// Attempts made so far, the first included.
    [[nodiscard]] uint32_t attempts() const noexcept {
        uint32_t n = 0;
        return pcl_retry_state_attempts(&s_, &n) == PCL_STATUS_OK ? n : 0;
    }
    [[nodiscard]] const pcl_retry_state &capi() const noexcept { return s_; }
    [[nodiscard]] pcl_retry_state &capi() noexcept { return s_; }

private:
    pcl_retry_state s_;
};

/// The answer of a retry policy's decide().
struct [[nodiscard]] RetryDecision {
    /// `Ok` (retry after `delay`; the state moved to the next attempt), a `RetryStop*` refusal
    /// (state unchanged: report the last failure) or an error.
    Status status;
    /// The delay before the retry; zero unless ok().
    std::chrono::nanoseconds delay;

    [[nodiscard]] bool ok() const noexcept { return status == Status::Ok; }
    explicit operator bool() const noexcept { return ok(); }
};

namespace detail {
template <class Derived>
class RetryThrottleOps {
public:
    /// Records a failed attempt (takes a token): `Ok` while a retry is allowed, else
    /// `RetryStopBudgetExhausted`.
    [[nodiscard]] Status record_failure() const noexcept { return from_c(pcl_retry_throttle_record_failure(self())); }
    /// Records a successful attempt (adds a fraction of a token).
    [[nodiscard]] Status record_success() const noexcept { return from_c(pcl_retry_throttle_record_success(self())); }
    /// Whether a retry is allowed now (`Ok`) or not (`RetryStopBudgetExhausted`), recording nothing.
    [[nodiscard]] Status check() const noexcept { return from_c(pcl_retry_throttle_check(self(), nullptr)); }
    /// The token count in thousandths.
    [[nodiscard]] Result<uint64_t> milli_tokens() const noexcept {
        uint64_t milli = 0;
        const Status s = from_c(pcl_retry_throttle_check(self(), &milli));
        if (s != Status::Ok && s != Status::RetryStopBudgetExhausted) return s;
        return milli;
    }

private:
    const pcl_retry_throttle *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};

template <class Derived>
class RetryRatioBudgetOps {
public:
    /// Records a new request (not a retry) at `t`: deposits a fraction of a retry.
    [[nodiscard]] Status record_request(TimePoint t) const noexcept {
        return from_c(pcl_retry_ratio_budget_record_request(self(), to_ns(t)));
    }
    /// Records a new request now.
    [[nodiscard]] Status record_request() const noexcept {
        return from_c(pcl_retry_ratio_budget_record_request_now(self()));
    }
    /// Withdraws one retry at `t`: `Ok` (allowed) or `RetryStopBudgetExhausted` (nothing taken).
    [[nodiscard]] Status try_withdraw(TimePoint t) const noexcept {
        return from_c(pcl_retry_ratio_budget_try_withdraw(self(), to_ns(t)));
    }
    /// Withdraws one retry now.
    [[nodiscard]] Status try_withdraw() const noexcept { return from_c(pcl_retry_ratio_budget_try_withdraw_now(self())); }
    /// Whole retries the balance allows at `t`.
    [[nodiscard]] Result<uint64_t> balance(TimePoint t) const noexcept {
        uint64_t n = 0;
        const Status s = from_c(pcl_retry_ratio_budget_balance(self(), to_ns(t), &n));
        if (s != Status::Ok) return s;
        return n;
    }
    /// Whole retries the balance allows now.
    [[nodiscard]] Result<uint64_t> balance() const noexcept {
        uint64_t n = 0;
        const Status s = from_c(pcl_retry_ratio_budget_balance_now(self(), &n));
        if (s != Status::Ok) return s;
        return n;
    }

private:
    const pcl_retry_ratio_budget *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};

template <class Derived>
class RetryPolicyOps {
public:
    /// The state of a call whose first attempt starts at `t`. Retries stop at the earlier of
    /// `deadline` and the policy's total budget; the same `seed` replays the same delays.
    [[nodiscard]] Result<RetryState> start(uint64_t seed, Deadline deadline, TimePoint t) const noexcept {
        RetryState st;
        const Status s = from_c(pcl_retry_state_init(self(), to_ns(t), deadline.ns(), seed, &st.capi()));
        if (s != Status::Ok) return s;
        return st;
    }
    /// The state of a call whose first attempt starts now.
    [[nodiscard]] Result<RetryState> start(uint64_t seed, Deadline deadline = Deadline::never()) const noexcept {
        RetryState st;
        const Status s = from_c(pcl_retry_state_init_now(self(), deadline.ns(), seed, &st.capi()));
        if (s != Status::Ok) return s;
        return st;
    }
    /// Decides whether to retry after an attempt that failed with `error` at `t`.
    [[nodiscard]] RetryDecision decide(RetryState &state, RetryError error, TimePoint t) const noexcept {
        uint64_t delay = 0;
        const Status s = from_c(pcl_retry_decide(self(), &state.capi(), code(error), to_ns(error.pushback), to_ns(t), &delay));
        return decision(s, delay);
    }
    /// Decides whether to retry after an attempt that failed now.
    [[nodiscard]] RetryDecision decide(RetryState &state, RetryError error) const noexcept {
        uint64_t delay = 0;
        const Status s = from_c(pcl_retry_decide_now(self(), &state.capi(), code(error), to_ns(error.pushback), &delay));
        return decision(s, delay);
    }
    /// As decide(), then consults a retry throttle (a RetryThrottle or a view): a failure that
    /// counts takes a token (do not also call its record_failure()), and a retry the policy
    /// allows is refused with `RetryStopBudgetExhausted` (state unchanged) when it is at or
    /// below half.
    template <class T>
    [[nodiscard]] RetryDecision decide(RetryState &state, RetryError error, const RetryThrottleOps<T> &throttle,
                                       TimePoint t) const noexcept {
        uint64_t delay = 0;
        const pcl_retry_throttle *th = static_cast<const T &>(throttle).capi();
        const Status s = from_c(
            pcl_retry_decide_throttled(self(), &state.capi(), code(error), to_ns(error.pushback), to_ns(t), th, &delay));
        return decision(s, delay);
    }
    template <class T>
    [[nodiscard]] RetryDecision decide(RetryState &state, RetryError error, const RetryThrottleOps<T> &throttle) const noexcept {
        uint64_t delay = 0;
        const pcl_retry_throttle *th = static_cast<const T &>(throttle).capi();
        const Status s = from_c(
            pcl_retry_decide_throttled_now(self(), &state.capi(), code(error), to_ns(error.pushback), th, &delay));
        return decision(s, delay);
    }
    /// As decide(), then withdraws one retry from a ratio budget (a RetryRatioBudget or a view)
    /// when the policy allows one (`RetryStopBudgetExhausted`, state unchanged, when it cannot).
    template <class B>
    [[nodiscard]] RetryDecision decide(RetryState &state, RetryError error, const RetryRatioBudgetOps<B> &budget,
                                       TimePoint t) const noexcept {
        uint64_t delay = 0;
        const pcl_retry_ratio_budget *rb = static_cast<const B &>(budget).capi();
        const Status s = from_c(
            pcl_retry_decide_budgeted(self(), &state.capi(), code(error), to_ns(error.pushback), to_ns(t), rb, &delay));
        return decision(s, delay);
    }
    template <class B>
    [[nodiscard]] RetryDecision decide(RetryState &state, RetryError error, const RetryRatioBudgetOps<B> &budget) const noexcept {
        uint64_t delay = 0;
        const pcl_retry_ratio_budget *rb = static_cast<const B &>(budget).capi();
        const Status s = from_c(
            pcl_retry_decide_budgeted_now(self(), &state.capi(), code(error), to_ns(error.pushback), rb, &delay));
        return decision(s, delay);
    }

private:
    const pcl_retry_policy *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
    static uint32_t code(RetryError e) noexcept { return static_cast<uint32_t>(e.error_class); }
    static RetryDecision decision(Status s, uint64_t delay) noexcept {
        return RetryDecision{s, s == Status::Ok ? to_duration(delay) : std::chrono::nanoseconds(0)};
    }
};
}  // namespace detail

/// A view of a retry policy placed in caller or shared memory; not owning.
class RetryPolicyView : public detail::RetryPolicyOps<RetryPolicyView> {
public:
    static constexpr std::size_t size = PCL_RETRY_POLICY_SIZE;
    static constexpr std::size_t alignment = PCL_RETRY_POLICY_ALIGN;

    [[nodiscard]] static Result<RetryPolicyView> init(void *mem, std::size_t bytes,
                                                      const pcl_retry_config &config = pcl_retry_config_default()) noexcept {
        const Status s = detail::from_c(pcl_retry_policy_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return RetryPolicyView(static_cast<const pcl_retry_policy *>(mem));
    }
    [[nodiscard]] static RetryPolicyView attach(const void *mem) noexcept {
        return RetryPolicyView(static_cast<const pcl_retry_policy *>(mem));
    }
    [[nodiscard]] const pcl_retry_policy *capi() const noexcept { return ptr_; }

private:
    explicit RetryPolicyView(const pcl_retry_policy *p) noexcept : ptr_(p) {}
    const pcl_retry_policy *ptr_;
};

/// A validated, immutable retry policy on the heap, owned (move-only), shared by calls that
/// each keep a RetryState. Configure it through the C struct (start from
/// `pcl_retry_config_default()`).
class RetryPolicy : public detail::RetryPolicyOps<RetryPolicy> {
public:
    [[nodiscard]] static Result<RetryPolicy> create(const pcl_retry_config &config = pcl_retry_config_default()) noexcept {
        pcl_retry_policy *p = nullptr;
        const Status s = detail::from_c(pcl_retry_policy_new(&config, &p));
        if (s != Status::Ok) return s;
        return RetryPolicy(p);
    }
    [[nodiscard]] const pcl_retry_policy *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_retry_policy *p) const noexcept { pcl_retry_policy_free(p); }
    };
    explicit RetryPolicy(pcl_retry_policy *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_retry_policy, Deleter> ptr_;
};

/// A view of a retry throttle placed in caller or shared memory; not owning.
class RetryThrottleView : public detail::RetryThrottleOps<RetryThrottleView> {
public:
    static constexpr std::size_t size = PCL_RETRY_THROTTLE_SIZE;
    static constexpr std::size_t alignment = PCL_RETRY_THROTTLE_ALIGN;

    [[nodiscard]] static Result<RetryThrottleView> init(
        void *mem, std::size_t bytes, const pcl_retry_throttle_config &config = pcl_retry_throttle_config_default()) noexcept {
        const Status s = detail::from_c(pcl_retry_throttle_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return RetryThrottleView(static_cast<const pcl_retry_throttle *>(mem));
    }
    [[nodiscard]] static RetryThrottleView attach(const void *mem) noexcept {
        return RetryThrottleView(static_cast<const pcl_retry_throttle *>(mem));
    }
    [[nodiscard]] const pcl_retry_throttle *capi() const noexcept { return ptr_; }

private:
    explicit RetryThrottleView(const pcl_retry_throttle *p) noexcept : ptr_(p) {}
    const pcl_retry_throttle *ptr_;
};

/// gRPC retry throttling (gRFC A6) on the heap, owned (move-only); starts full. Configure it
/// through the C struct (start from `pcl_retry_throttle_config_default()`).
class RetryThrottle : public detail::RetryThrottleOps<RetryThrottle> {
public:
    [[nodiscard]] static Result<RetryThrottle> create(
        const pcl_retry_throttle_config &config = pcl_retry_throttle_config_default()) noexcept {
        pcl_retry_throttle *p = nullptr;
        const Status s = detail::from_c(pcl_retry_throttle_new(&config, &p));
        if (s != Status::Ok) return s;
        return RetryThrottle(p);
    }
    [[nodiscard]] const pcl_retry_throttle *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_retry_throttle *p) const noexcept { pcl_retry_throttle_free(p); }
    };
    explicit RetryThrottle(pcl_retry_throttle *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_retry_throttle, Deleter> ptr_;
};

/// A view of a ratio retry budget placed in caller or shared memory; not owning.
class RetryRatioBudgetView : public detail::RetryRatioBudgetOps<RetryRatioBudgetView> {
public:
    static constexpr std::size_t size = PCL_RETRY_RATIO_BUDGET_SIZE;
    static constexpr std::size_t alignment = PCL_RETRY_RATIO_BUDGET_ALIGN;

    [[nodiscard]] static Result<RetryRatioBudgetView> init(
        void *mem, std::size_t bytes,
        const pcl_retry_ratio_budget_config &config = pcl_retry_ratio_budget_config_default()) noexcept {
        const Status s = detail::from_c(pcl_retry_ratio_budget_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return RetryRatioBudgetView(static_cast<const pcl_retry_ratio_budget *>(mem));
    }
    [[nodiscard]] static RetryRatioBudgetView attach(const void *mem) noexcept {
        return RetryRatioBudgetView(static_cast<const pcl_retry_ratio_budget *>(mem));
    }
    [[nodiscard]] const pcl_retry_ratio_budget *capi() const noexcept { return ptr_; }

private:
    explicit RetryRatioBudgetView(const pcl_retry_ratio_budget *p) noexcept : ptr_(p) {}
    const pcl_retry_ratio_budget *ptr_;
};

/// A Finagle-style ratio retry budget on the heap, owned (move-only). Configure it through the C
/// struct (start from `pcl_retry_ratio_budget_config_default()`).
class RetryRatioBudget : public detail::RetryRatioBudgetOps<RetryRatioBudget> {
public:
    [[nodiscard]] static Result<RetryRatioBudget> create(
        const pcl_retry_ratio_budget_config &config = pcl_retry_ratio_budget_config_default()) noexcept {
        pcl_retry_ratio_budget *p = nullptr;
        const Status s = detail::from_c(pcl_retry_ratio_budget_new(&config, &p));
        if (s != Status::Ok) return s;
        return RetryRatioBudget(p);
    }
    [[nodiscard]] const pcl_retry_ratio_budget *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_retry_ratio_budget *p) const noexcept { pcl_retry_ratio_budget_free(p); }
    };
    explicit RetryRatioBudget(pcl_retry_ratio_budget *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_retry_ratio_budget, Deleter> ptr_;
};

// ---------------------------------------------------------------------------------------------
// Latency histogram

namespace detail {
template <class Derived>
class HistogramOps {
public:
    /// Records one latency (negative durations as 0). Wait-free.
    template <class Rep, class Period>
    [[nodiscard]] Status record(std::chrono::duration<Rep, Period> latency) const noexcept {
        return from_c(pcl_histogram_record(self(), to_ns(latency)));
    }
    /// The `ppm`-th percentile (990000 is p99; above 1000000 reads as the maximum), nearest
    /// rank, within `PCL_HISTOGRAM_RELATIVE_ERROR_PPM`; `Status::Empty` before any sample.
    [[nodiscard]] Result<std::chrono::nanoseconds> percentile(uint32_t ppm) const noexcept {
        uint64_t v = 0;
        const Status s = from_c(pcl_histogram_percentile(self(), ppm, &v));
        if (s != Status::Ok) return s;
        return to_duration(v);
    }
    /// The number of latencies recorded.
    [[nodiscard]] Result<uint64_t> count() const noexcept {
        uint64_t n = 0;
        const Status s = from_c(pcl_histogram_count(self(), &n));
        if (s != Status::Ok) return s;
        return n;
    }
    /// Empties the histogram (a record racing with it may survive).
    [[nodiscard]] Status reset() const noexcept { return from_c(pcl_histogram_reset(self())); }

private:
    const pcl_histogram *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};
}  // namespace detail

/// A view of a histogram placed in caller or shared memory; not owning.
class HistogramView : public detail::HistogramOps<HistogramView> {
public:
    static constexpr std::size_t size = PCL_HISTOGRAM_SIZE;
    static constexpr std::size_t alignment = PCL_HISTOGRAM_ALIGN;

    /// Initialises an empty histogram in `mem` (a histogram has no configuration).
    [[nodiscard]] static Result<HistogramView> init(void *mem, std::size_t bytes) noexcept {
        const Status s = detail::from_c(pcl_histogram_init(mem, bytes));
        if (s != Status::Ok) return s;
        return HistogramView(static_cast<const pcl_histogram *>(mem));
    }
    [[nodiscard]] static HistogramView attach(const void *mem) noexcept {
        return HistogramView(static_cast<const pcl_histogram *>(mem));
    }
    [[nodiscard]] const pcl_histogram *capi() const noexcept { return ptr_; }

private:
    explicit HistogramView(const pcl_histogram *p) noexcept : ptr_(p) {}
    const pcl_histogram *ptr_;
};

/// A lock-free log-linear latency histogram on the heap, owned (move-only).
class Histogram : public detail::HistogramOps<Histogram> {
public:
    [[nodiscard]] static Result<Histogram> create() noexcept {
        pcl_histogram *p = nullptr;
        const Status s = detail::from_c(pcl_histogram_new(&p));
        if (s != Status::Ok) return s;
        return Histogram(p);
    }
    [[nodiscard]] const pcl_histogram *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_histogram *p) const noexcept { pcl_histogram_free(p); }
    };
    explicit Histogram(pcl_histogram *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_histogram, Deleter> ptr_;
};

// ---------------------------------------------------------------------------------------------
// Hedging

namespace detail {
template <class Derived>
class HedgePolicyOps {
public:
    /// Counts one call in the hedge budget: once per call, before its first hedge.
    [[nodiscard]] Status on_call() const noexcept { return from_c(pcl_hedge_policy_on_call(self())); }
    /// Records the latency of a request that answered, observed at `t`.
    template <class Rep, class Period>
    [[nodiscard]] Status record_latency(std::chrono::duration<Rep, Period> latency, TimePoint t) const noexcept {
        return from_c(pcl_hedge_policy_record_latency(self(), to_ns(latency), to_ns(t)));
    }
    /// Records the latency of a request that answered, observed now.
    template <class Rep, class Period>
    [[nodiscard]] Status record_latency(std::chrono::duration<Rep, Period> latency) const noexcept {
        return from_c(pcl_hedge_policy_record_latency_now(self(), to_ns(latency)));
    }
    /// At `t`, for a call that has sent `hedges_sent` hedges: the delay after which to send the
    /// next one if no answer has arrived (then confirm it with try_launch()), or
    /// `HedgeMaxHedges`, `HedgeBudgetExhausted`, `HedgeDeadlineTooClose`.
    [[nodiscard]] Result<std::chrono::nanoseconds> decide(uint32_t hedges_sent, Deadline deadline, TimePoint t) const noexcept {
        uint64_t delay = 0;
        const Status s = from_c(pcl_hedge_policy_decide(self(), hedges_sent, to_ns(t), deadline.ns(), &delay));
        if (s != Status::Ok) return s;
        return to_duration(delay);
    }
    /// As decide(), now.
    [[nodiscard]] Result<std::chrono::nanoseconds> decide(uint32_t hedges_sent,
                                                          Deadline deadline = Deadline::never()) const noexcept {
        uint64_t delay = 0;
        const Status s = from_c(pcl_hedge_policy_decide_now(self(), hedges_sent, deadline.ns(), &delay));
        if (s != Status::Ok) return s;
        return to_duration(delay);
    }
    /// Confirms hedge number `hedges_sent + 1` once its delay has elapsed, withdrawing it from
    /// the budget: `Ok` (send it), `HedgeMaxHedges` or `HedgeBudgetExhausted`.
    [[nodiscard]] Status try_launch(uint32_t hedges_sent) const noexcept {
        return from_c(pcl_hedge_policy_try_launch(self(), hedges_sent));
    }

private:
    const pcl_hedge_policy *self() const noexcept { return static_cast<const Derived *>(this)->capi(); }
};
}  // namespace detail

/// A view of a hedging policy placed in caller or shared memory; not owning.
class HedgePolicyView : public detail::HedgePolicyOps<HedgePolicyView> {
public:
    static constexpr std::size_t size = PCL_HEDGE_POLICY_SIZE;
    static constexpr std::size_t alignment = PCL_HEDGE_POLICY_ALIGN;

    [[nodiscard]] static Result<HedgePolicyView> init(void *mem, std::size_t bytes,
                                                      const pcl_hedge_config &config = pcl_hedge_config_default()) noexcept {
        const Status s = detail::from_c(pcl_hedge_policy_init(mem, bytes, &config));
        if (s != Status::Ok) return s;
        return HedgePolicyView(static_cast<const pcl_hedge_policy *>(mem));
    }
    [[nodiscard]] static HedgePolicyView attach(const void *mem) noexcept {
        return HedgePolicyView(static_cast<const pcl_hedge_policy *>(mem));
    }
    [[nodiscard]] const pcl_hedge_policy *capi() const noexcept { return ptr_; }

private:
    explicit HedgePolicyView(const pcl_hedge_policy *p) noexcept : ptr_(p) {}
    const pcl_hedge_policy *ptr_;
};

/// A hedging policy on the heap, owned (move-only). Configure it through the C struct (start
/// from `pcl_hedge_config_default()`).
class HedgePolicy : public detail::HedgePolicyOps<HedgePolicy> {
public:
    [[nodiscard]] static Result<HedgePolicy> create(const pcl_hedge_config &config = pcl_hedge_config_default()) noexcept {
        pcl_hedge_policy *p = nullptr;
        const Status s = detail::from_c(pcl_hedge_policy_new(&config, &p));
        if (s != Status::Ok) return s;
        return HedgePolicy(p);
    }
    [[nodiscard]] const pcl_hedge_policy *capi() const noexcept { return ptr_.get(); }

private:
    struct Deleter {
        void operator()(pcl_hedge_policy *p) const noexcept { pcl_hedge_policy_free(p); }
    };
    explicit HedgePolicy(pcl_hedge_policy *p) noexcept : ptr_(p) {}
    std::unique_ptr<pcl_hedge_policy, Deleter> ptr_;
};

/// pcl_version() against the header's macros: false means the library and header differ.
[[nodiscard]] inline bool version_matches() noexcept {
    return pcl_version() == PCL_VERSION_MAJOR * 10000u + PCL_VERSION_MINOR * 100u + PCL_VERSION_PATCH;
}

}  // namespace portcullis

#endif  // PORTCULLIS_HPP
