//! `pcl_status`: the one result type of every C function that can fail or refuse.

use core::ffi::c_char;

/// The result of a C call: success, a normal refusal, a caller error, or an internal error.
///
/// Numbers are fixed forever and never reused: `0` is success; `1..=99` are normal refusals
/// (answers, not errors); `100..=199` are caller errors; `200..=299` are internal errors;
/// `1000..=1999` name the invalid field of a config (one status per field, grouped by object). A status
/// received from C is read as a plain `uint32_t` (`pcl_status_str`, `pcl_status_is_error`), so an
/// unknown number is never undefined behaviour.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types, reason = "C naming: the type is pcl_status in the header")]
pub enum pcl_status {
    /// Success, or "admitted".
    Ok = 0,

    /// Refused: the circuit breaker is open.
    RejectedOpen = 1,
    /// Refused: the circuit breaker is half-open and all its probes are out.
    RejectedHalfOpenFull = 2,
    /// Refused: the circuit breaker was forced open by an operator.
    RejectedForcedOpen = 3,
    /// Refused: the rate limit allows no permit now.
    RateLimited = 4,
    /// Refused: the bulkhead has no free permit.
    NoPermits = 5,
    /// Refused: the deadline has passed (or leaves no time for what was asked).
    Expired = 6,
    /// Not counted: the outcome was older than the window (a clock that went backwards, or a
    /// record that arrived after its bucket expired), or a breaker permit whose generation has
    /// ended (or that was admitted untracked or by shadow mode).
    NotCounted = 7,
    /// Retry stopped: the error is not retryable.
    RetryStopNotRetryable = 8,
    /// Retry stopped: the server asked not to retry (a negative push-back).
    RetryStopServerPushback = 9,
    /// Retry stopped: `max_attempts` attempts have been made.
    RetryStopAttemptsExhausted = 10,
    /// Retry stopped: the total budget or deadline leaves no time for a retry (or less than the
    /// server's push-back asked for).
    RetryStopDeadlineExceeded = 11,
    /// Retry stopped: the shared retry budget (throttle or ratio budget) refused the retry.
    RetryStopBudgetExhausted = 12,
    /// Refused: a rate-limiter reservation would become valid later than the wait allowed.
    ReservationTooFar = 13,
    /// Refused: another reconfiguration of the same object is in progress; nothing changed.
    ReconfigureInProgress = 14,
    /// Not cancelled: the reservation's permits were not given back (something was taken after
    /// it, the limiter was reconfigured, or the permits are already valid).
    NotCancelled = 15,
    /// No hedge: the call has already sent `max_hedges` hedges.
    HedgeMaxHedges = 16,
    /// No hedge: the hedge budget holds less than one hedge.
    HedgeBudgetExhausted = 17,
    /// No hedge: it would leave at or after the call's deadline.
    HedgeDeadlineTooClose = 18,
    /// No answer: the histogram holds no sample.
    Empty = 19,

    /// A pointer argument was NULL.
    NullArgument = 100,
    /// A caller-provided buffer or memory block is smaller than required.
    BufferTooSmall = 101,
    /// Caller-provided memory is not aligned as the object requires.
    Misaligned = 102,
    /// A config struct's `size` field is smaller than the first version of that struct, or larger
    /// than this library knows with non-zero bytes past what it knows (built against a newer
    /// header).
    VersionMismatch = 103,
    /// An integer argument that stands for an enumeration has no meaning (for example an outcome
    /// other than the `PCL_OUTCOME_*` values).
    InvalidArgument = 104,
    /// The heap allocation of a `_new` function failed.
    OutOfMemory = 105,
    /// More permits were requested than the object can ever grant at its current configuration
    /// (above a bulkhead's limit, or above a rate limiter's burst).
    ExceedsCapacity = 106,
    /// More bulkhead permits were released than were out; nothing was released.
    OverRelease = 107,
    /// A timeout header value is empty.
    HeaderEmpty = 110,
    /// A `grpc-timeout` value has a unit but no digits.
    HeaderMissingValue = 111,
    /// A `grpc-timeout` value has no unit.
    HeaderMissingUnit = 112,
    /// A `grpc-timeout` value has more than 8 digits.
    HeaderTooManyDigits = 113,
    /// A `grpc-timeout` unit is not one of `H M S m u n`.
    HeaderBadUnit = 114,
    /// A timeout header value has a byte that should be an ASCII digit and is not.
    HeaderNotADigit = 115,
    /// A timeout header value does not fit in 64 bits of nanoseconds.
    HeaderOverflow = 116,

    /// Internal error: a Rust panic was caught at the boundary (a bug in the library; the object
    /// is still consistent, as its state lives in atomic words a panic cannot half-write).
    Panic = 200,

    /// Invalid config: `window_size` is 0 or above the object's capacity.
    InvalidWindowSize = 1000,
    /// Invalid config: `window_duration_ns` is 0, or not a multiple of `window_buckets`.
    InvalidWindowDuration = 1001,
    /// Invalid config: `window_buckets` is 0 or above the object's capacity.
    InvalidWindowBuckets = 1002,
    /// Invalid config: a breaker `window_kind` that is not a `PCL_BREAKER_WINDOW_*` value.
    InvalidBreakerWindowKind = 1010,
    /// Invalid config: a breaker `failure_rate_ppm` above 1000000.
    InvalidBreakerFailureRate = 1011,
    /// Invalid config: a breaker `slow_rate_ppm` above 1000000.
    InvalidBreakerSlowRate = 1012,
    /// Invalid config: a breaker `min_calls` of 0 with a rate rule on, or above the count
    /// window's size.
    InvalidBreakerMinCalls = 1013,
    /// Invalid config: a breaker `open_duration_ns` of 0.
    InvalidBreakerOpenDuration = 1014,
    /// Invalid config: a breaker `max_open_duration_ns` below `open_duration_ns`, or too large
    /// with its jitter to fit in 64 bits.
    InvalidBreakerMaxOpenDuration = 1015,
    /// Invalid config: a breaker `jitter_ppm` above 1000000.
    InvalidBreakerJitter = 1016,
    /// Invalid config: a breaker `half_open_probes` of 0 or above `PCL_BREAKER_MAX_PROBES`.
    InvalidBreakerHalfOpenProbes = 1017,
    /// Invalid config: a breaker `successes_to_close` of 0 or above `half_open_probes`.
    InvalidBreakerSuccessesToClose = 1018,
    /// Invalid config: a breaker `half_open_by_rate` without a rate rule.
    InvalidBreakerHalfOpenByRate = 1019,
    /// Invalid config: a breaker `probe_timeout_ns` of 0.
    InvalidBreakerProbeTimeout = 1020,
    /// Invalid config: a limiter `rate_per_second` above `PCL_LIMITER_MAX_RATE_PER_SECOND`.
    InvalidLimiterRate = 1050,
    /// Invalid config: a limiter `interval_ns` of 0 (with `rate_per_second` 0) or above
    /// `PCL_LIMITER_MAX_SPAN_NS`.
    InvalidLimiterInterval = 1051,
    /// Invalid config: a limiter `burst` of 0, or whose refill span (`interval × burst`) exceeds
    /// `PCL_LIMITER_MAX_SPAN_NS`.
    InvalidLimiterBurst = 1052,
    /// Invalid config: a limiter `start` that is not a `PCL_LIMITER_START_*` value.
    InvalidLimiterStart = 1053,
    /// Invalid config: a bulkhead `limit` above `PCL_BULKHEAD_MAX_LIMIT`.
    InvalidBulkheadLimit = 1070,
    /// Invalid config: an adaptive `initial` outside `floor..=ceiling`.
    InvalidAdaptiveInitial = 1090,
    /// Invalid config: an adaptive `floor` of 0 or above `ceiling`.
    InvalidAdaptiveFloor = 1091,
    /// Invalid config: an adaptive `ceiling` of 0 or above `PCL_ADAPTIVE_MAX_CEILING`.
    InvalidAdaptiveCeiling = 1092,
    /// Invalid config: an AIMD `latency_threshold_ns` of 0.
    InvalidAdaptiveLatencyThreshold = 1093,
    /// Invalid config: an AIMD `increase` of 0 or above `ceiling`.
    InvalidAdaptiveIncrease = 1094,
    /// Invalid config: an AIMD `backoff_permille` outside `500..=999`.
    InvalidAdaptiveBackoff = 1095,
    /// Invalid config: a gradient `queue_size` above `ceiling`.
    InvalidAdaptiveQueueSize = 1096,
    /// Invalid config: a gradient `smoothing_permille` outside `1..=1000`.
    InvalidAdaptiveSmoothing = 1097,
    /// Invalid config: a gradient `tolerance_permille` outside `1000..=10000`.
    InvalidAdaptiveTolerance = 1098,
    /// Invalid config: a gradient `probe_interval` above 2^27 - 1.
    InvalidAdaptiveProbeInterval = 1099,
    /// Invalid config: a gradient `probe_samples` of 0 or above 2^27 - 1.
    InvalidAdaptiveProbeSamples = 1100,
    /// Invalid config: a retry `max_attempts` of 0.
    InvalidRetryMaxAttempts = 1110,
    /// Invalid config: a retry `backoff` that is not a `PCL_RETRY_BACKOFF_*` value.
    InvalidRetryBackoff = 1111,
    /// Invalid config: a retry `multiplier_permille` below 1000 with exponential backoff.
    InvalidRetryMultiplier = 1112,
    /// Invalid config: a retry `base_delay_ns` of 0 with a growing backoff or decorrelated
    /// jitter.
    InvalidRetryBaseDelay = 1113,
    /// Invalid config: a retry `max_delay_ns` below `base_delay_ns`.
    InvalidRetryMaxDelay = 1114,
    /// Invalid config: a retry `jitter` that is not a `PCL_RETRY_JITTER_*` value.
    InvalidRetryJitter = 1115,
    /// Invalid config: a retry `jitter_ppm` above 1000000 with proportional jitter.
    InvalidRetryJitterPpm = 1116,
    /// Invalid config: a retry `total_budget_ns` of 0.
    InvalidRetryTotalBudget = 1117,
    /// Invalid config: a retry `pushback_max_ns` below `pushback_min_ns`.
    InvalidRetryPushbackMax = 1118,
    /// Invalid config: a retry throttle `max_tokens` of 0.
    InvalidThrottleMaxTokens = 1130,
    /// Invalid config: a retry throttle `token_ratio_milli` of 0.
    InvalidThrottleTokenRatio = 1131,
    /// Invalid config: a ratio budget `ttl_ns` of 0 or not a multiple of its bucket count.
    InvalidRatioBudgetTtl = 1135,
    /// Invalid config: a ratio budget `min_retries_per_sec` too large for its `ttl_ns`.
    InvalidRatioBudgetMinRetries = 1136,
    /// Invalid config: a ratio budget `retry_ratio_permille` above 10000.
    InvalidRatioBudgetRatio = 1137,
    /// Invalid config: a hedge `low_ppm` above 1000000.
    InvalidHedgeLowPpm = 1150,
    /// Invalid config: a hedge `high_ppm` above 1000000 or below `low_ppm`.
    InvalidHedgeHighPpm = 1151,
    /// Invalid config: a hedge `weight_ppm` above 1000000.
    InvalidHedgeWeightPpm = 1152,
    /// Invalid config: a hedge `max_delay_ns` below `min_delay_ns`.
    InvalidHedgeMaxDelay = 1153,
    /// Invalid config: a hedge `max_hedges` of 0 or above `PCL_HEDGE_MAX_HEDGES`.
    InvalidHedgeMaxHedges = 1154,
    /// Invalid config: a hedge `refresh_interval_ns` of 0.
    InvalidHedgeRefreshInterval = 1155,
    /// Invalid config: a hedge `window_ns` of 0.
    InvalidHedgeWindow = 1156,
    /// Invalid config: a hedge `budget_ratio_ppm` above 1000000.
    InvalidHedgeBudgetRatio = 1157,
    /// Invalid config: a hedge `budget_burst` of 0 or above 1000000.
    InvalidHedgeBudgetBurst = 1158,
    /// Invalid config: a `degrade_after` threshold is 0 or too large.
    InvalidHealthDegradeAfter = 1170,
    /// Invalid config: a `recover_after` threshold is 0, too large, or not larger than the
    /// `degrade_after` threshold it undoes (no hysteresis).
    InvalidHealthRecoverAfter = 1171,
    /// Invalid config: a `check_interval_ns` is 0.
    InvalidHealthCheckInterval = 1172,
    /// Invalid config: `initial_state` is not a `PCL_HEALTH_*` value.
    InvalidHealthInitialState = 1173,
}

/// Every status, in numeric order (for tests and `pcl_status_str`). A free constant, not an
/// associated one, so that the header generator does not export it as a C macro.
pub(crate) const ALL_STATUSES: [pcl_status; 93] = [
    pcl_status::Ok,
    pcl_status::RejectedOpen,
    pcl_status::RejectedHalfOpenFull,
    pcl_status::RejectedForcedOpen,
    pcl_status::RateLimited,
    pcl_status::NoPermits,
    pcl_status::Expired,
    pcl_status::NotCounted,
    pcl_status::RetryStopNotRetryable,
    pcl_status::RetryStopServerPushback,
    pcl_status::RetryStopAttemptsExhausted,
    pcl_status::RetryStopDeadlineExceeded,
    pcl_status::RetryStopBudgetExhausted,
    pcl_status::ReservationTooFar,
    pcl_status::ReconfigureInProgress,
    pcl_status::NotCancelled,
    pcl_status::HedgeMaxHedges,
    pcl_status::HedgeBudgetExhausted,
    pcl_status::HedgeDeadlineTooClose,
    pcl_status::Empty,
    pcl_status::NullArgument,
    pcl_status::BufferTooSmall,
    pcl_status::Misaligned,
    pcl_status::VersionMismatch,
    pcl_status::InvalidArgument,
    pcl_status::OutOfMemory,
    pcl_status::ExceedsCapacity,
    pcl_status::OverRelease,
    pcl_status::HeaderEmpty,
    pcl_status::HeaderMissingValue,
    pcl_status::HeaderMissingUnit,
    pcl_status::HeaderTooManyDigits,
    pcl_status::HeaderBadUnit,
    pcl_status::HeaderNotADigit,
    pcl_status::HeaderOverflow,
    pcl_status::Panic,
    pcl_status::InvalidWindowSize,
    pcl_status::InvalidWindowDuration,
    pcl_status::InvalidWindowBuckets,
    pcl_status::InvalidBreakerWindowKind,
    pcl_status::InvalidBreakerFailureRate,
    pcl_status::InvalidBreakerSlowRate,
    pcl_status::InvalidBreakerMinCalls,
    pcl_status::InvalidBreakerOpenDuration,
    pcl_status::InvalidBreakerMaxOpenDuration,
    pcl_status::InvalidBreakerJitter,
    pcl_status::InvalidBreakerHalfOpenProbes,
    pcl_status::InvalidBreakerSuccessesToClose,
    pcl_status::InvalidBreakerHalfOpenByRate,
    pcl_status::InvalidBreakerProbeTimeout,
    pcl_status::InvalidLimiterRate,
    pcl_status::InvalidLimiterInterval,
    pcl_status::InvalidLimiterBurst,
    pcl_status::InvalidLimiterStart,
    pcl_status::InvalidBulkheadLimit,
    pcl_status::InvalidAdaptiveInitial,
    pcl_status::InvalidAdaptiveFloor,
    pcl_status::InvalidAdaptiveCeiling,
    pcl_status::InvalidAdaptiveLatencyThreshold,
    pcl_status::InvalidAdaptiveIncrease,
    pcl_status::InvalidAdaptiveBackoff,
    pcl_status::InvalidAdaptiveQueueSize,
    pcl_status::InvalidAdaptiveSmoothing,
    pcl_status::InvalidAdaptiveTolerance,
    pcl_status::InvalidAdaptiveProbeInterval,
    pcl_status::InvalidAdaptiveProbeSamples,
    pcl_status::InvalidRetryMaxAttempts,
    pcl_status::InvalidRetryBackoff,
    pcl_status::InvalidRetryMultiplier,
    pcl_status::InvalidRetryBaseDelay,
    pcl_status::InvalidRetryMaxDelay,
    pcl_status::InvalidRetryJitter,
    pcl_status::InvalidRetryJitterPpm,
    pcl_status::InvalidRetryTotalBudget,
    pcl_status::InvalidRetryPushbackMax,
    pcl_status::InvalidThrottleMaxTokens,
    pcl_status::InvalidThrottleTokenRatio,
    pcl_status::InvalidRatioBudgetTtl,
    pcl_status::InvalidRatioBudgetMinRetries,
    pcl_status::InvalidRatioBudgetRatio,
    pcl_status::InvalidHedgeLowPpm,
    pcl_status::InvalidHedgeHighPpm,
    pcl_status::InvalidHedgeWeightPpm,
    pcl_status::InvalidHedgeMaxDelay,
    pcl_status::InvalidHedgeMaxHedges,
    pcl_status::InvalidHedgeRefreshInterval,
    pcl_status::InvalidHedgeWindow,
    pcl_status::InvalidHedgeBudgetRatio,
    pcl_status::InvalidHedgeBudgetBurst,
    pcl_status::InvalidHealthDegradeAfter,
    pcl_status::InvalidHealthRecoverAfter,
    pcl_status::InvalidHealthCheckInterval,
    pcl_status::InvalidHealthInitialState,
];

impl pcl_status {
    /// The status with number `n`, if there is one.
    #[must_use]
    pub fn from_u32(n: u32) -> Option<pcl_status> {
        ALL_STATUSES.into_iter().find(|s| *s as u32 == n)
    }

    /// A static, NUL-terminated description.
    #[must_use]
    #[allow(clippy::too_many_lines, reason = "one line per status: a flat table reads best")]
    pub const fn message(self) -> &'static core::ffi::CStr {
        match self {
            pcl_status::Ok => c"ok",
            pcl_status::RejectedOpen => c"rejected: circuit breaker open",
            pcl_status::RejectedHalfOpenFull => c"rejected: circuit breaker half-open, probes full",
            pcl_status::RejectedForcedOpen => c"rejected: circuit breaker forced open",
            pcl_status::RateLimited => c"rejected: rate limited",
            pcl_status::NoPermits => c"rejected: no bulkhead permit free",
            pcl_status::Expired => c"rejected: deadline expired",
            pcl_status::NotCounted => {
                c"not counted: outcome older than the window or the breaker generation"
            }
            pcl_status::NullArgument => c"error: NULL argument",
            pcl_status::BufferTooSmall => c"error: buffer or memory block too small",
            pcl_status::Misaligned => c"error: memory block misaligned",
            pcl_status::VersionMismatch => c"error: config struct size not understood",
            pcl_status::InvalidArgument => c"error: invalid enumeration value",
            pcl_status::OutOfMemory => c"error: out of memory",
            pcl_status::InvalidWindowSize => c"invalid config: window_size",
            pcl_status::InvalidWindowDuration => c"invalid config: window_duration_ns",
            pcl_status::InvalidWindowBuckets => c"invalid config: window_buckets",
            pcl_status::Panic => c"internal error: panic caught at the C boundary",
            pcl_status::ExceedsCapacity => {
                c"error: more permits requested than can ever be granted"
            }
            pcl_status::OverRelease => c"error: more permits released than were out",
            pcl_status::InvalidBulkheadLimit => c"invalid config: bulkhead limit",
            pcl_status::HeaderEmpty => c"invalid header: empty",
            pcl_status::HeaderMissingValue => c"invalid header: no digits",
            pcl_status::HeaderMissingUnit => c"invalid header: no unit",
            pcl_status::HeaderTooManyDigits => c"invalid header: more than 8 digits",
            pcl_status::HeaderBadUnit => c"invalid header: unit not one of H M S m u n",
            pcl_status::HeaderNotADigit => c"invalid header: not an ASCII digit",
            pcl_status::HeaderOverflow => c"invalid header: timeout too large",
            pcl_status::InvalidHealthDegradeAfter => c"invalid config: degrade_after",
            pcl_status::InvalidHealthRecoverAfter => c"invalid config: recover_after",
            pcl_status::InvalidHealthCheckInterval => c"invalid config: check_interval_ns",
            pcl_status::InvalidHealthInitialState => c"invalid config: initial_state",
            pcl_status::InvalidAdaptiveInitial => c"invalid config: adaptive initial",
            pcl_status::InvalidAdaptiveFloor => c"invalid config: adaptive floor",
            pcl_status::InvalidAdaptiveCeiling => c"invalid config: adaptive ceiling",
            pcl_status::InvalidAdaptiveLatencyThreshold => {
                c"invalid config: aimd latency_threshold_ns"
            }
            pcl_status::InvalidAdaptiveIncrease => c"invalid config: aimd increase",
            pcl_status::InvalidAdaptiveBackoff => c"invalid config: aimd backoff_permille",
            pcl_status::InvalidAdaptiveQueueSize => c"invalid config: gradient queue_size",
            pcl_status::InvalidAdaptiveSmoothing => c"invalid config: gradient smoothing_permille",
            pcl_status::InvalidAdaptiveTolerance => c"invalid config: gradient tolerance_permille",
            pcl_status::InvalidAdaptiveProbeInterval => c"invalid config: gradient probe_interval",
            pcl_status::InvalidAdaptiveProbeSamples => c"invalid config: gradient probe_samples",
            pcl_status::HedgeMaxHedges => c"no hedge: max_hedges already sent",
            pcl_status::HedgeBudgetExhausted => c"no hedge: hedge budget exhausted",
            pcl_status::HedgeDeadlineTooClose => c"no hedge: too close to the deadline",
            pcl_status::Empty => c"no answer: no sample recorded",
            pcl_status::InvalidHedgeLowPpm => c"invalid config: hedge low_ppm",
            pcl_status::InvalidHedgeHighPpm => c"invalid config: hedge high_ppm",
            pcl_status::InvalidHedgeWeightPpm => c"invalid config: hedge weight_ppm",
            pcl_status::InvalidHedgeMaxDelay => c"invalid config: hedge max_delay_ns",
            pcl_status::InvalidHedgeMaxHedges => c"invalid config: hedge max_hedges",
            pcl_status::InvalidHedgeRefreshInterval => c"invalid config: hedge refresh_interval_ns",
            pcl_status::InvalidHedgeWindow => c"invalid config: hedge window_ns",
            pcl_status::InvalidHedgeBudgetRatio => c"invalid config: hedge budget_ratio_ppm",
            pcl_status::InvalidHedgeBudgetBurst => c"invalid config: hedge budget_burst",
            pcl_status::RetryStopNotRetryable => c"retry stopped: error not retryable",
            pcl_status::RetryStopServerPushback => c"retry stopped: server asked not to retry",
            pcl_status::RetryStopAttemptsExhausted => c"retry stopped: attempts exhausted",
            pcl_status::RetryStopDeadlineExceeded => {
                c"retry stopped: no time left in the budget or deadline"
            }
            pcl_status::RetryStopBudgetExhausted => c"retry stopped: retry budget exhausted",
            pcl_status::ReservationTooFar => {
                c"rejected: reservation would wait longer than allowed"
            }
            pcl_status::ReconfigureInProgress => c"rejected: another reconfiguration in progress",
            pcl_status::NotCancelled => {
                c"not cancelled: permits already in use or taken after the reservation"
            }
            pcl_status::InvalidBreakerWindowKind => c"invalid config: breaker window_kind",
            pcl_status::InvalidBreakerFailureRate => c"invalid config: breaker failure_rate_ppm",
            pcl_status::InvalidBreakerSlowRate => c"invalid config: breaker slow_rate_ppm",
            pcl_status::InvalidBreakerMinCalls => c"invalid config: breaker min_calls",
            pcl_status::InvalidBreakerOpenDuration => c"invalid config: breaker open_duration_ns",
            pcl_status::InvalidBreakerMaxOpenDuration => {
                c"invalid config: breaker max_open_duration_ns"
            }
            pcl_status::InvalidBreakerJitter => c"invalid config: breaker jitter_ppm",
            pcl_status::InvalidBreakerHalfOpenProbes => c"invalid config: breaker half_open_probes",
            pcl_status::InvalidBreakerSuccessesToClose => {
                c"invalid config: breaker successes_to_close"
            }
            pcl_status::InvalidBreakerHalfOpenByRate => {
                c"invalid config: breaker half_open_by_rate needs a rate rule"
            }
            pcl_status::InvalidBreakerProbeTimeout => c"invalid config: breaker probe_timeout_ns",
            pcl_status::InvalidLimiterRate => c"invalid config: limiter rate_per_second",
            pcl_status::InvalidLimiterInterval => c"invalid config: limiter interval_ns",
            pcl_status::InvalidLimiterBurst => c"invalid config: limiter burst",
            pcl_status::InvalidLimiterStart => c"invalid config: limiter start",
            pcl_status::InvalidRetryMaxAttempts => c"invalid config: retry max_attempts",
            pcl_status::InvalidRetryBackoff => c"invalid config: retry backoff",
            pcl_status::InvalidRetryMultiplier => c"invalid config: retry multiplier_permille",
            pcl_status::InvalidRetryBaseDelay => c"invalid config: retry base_delay_ns",
            pcl_status::InvalidRetryMaxDelay => c"invalid config: retry max_delay_ns",
            pcl_status::InvalidRetryJitter => c"invalid config: retry jitter",
            pcl_status::InvalidRetryJitterPpm => c"invalid config: retry jitter_ppm",
            pcl_status::InvalidRetryTotalBudget => c"invalid config: retry total_budget_ns",
            pcl_status::InvalidRetryPushbackMax => c"invalid config: retry pushback_max_ns",
            pcl_status::InvalidThrottleMaxTokens => c"invalid config: throttle max_tokens",
            pcl_status::InvalidThrottleTokenRatio => c"invalid config: throttle token_ratio_milli",
            pcl_status::InvalidRatioBudgetTtl => c"invalid config: ratio budget ttl_ns",
            pcl_status::InvalidRatioBudgetMinRetries => {
                c"invalid config: ratio budget min_retries_per_sec"
            }
            pcl_status::InvalidRatioBudgetRatio => {
                c"invalid config: ratio budget retry_ratio_permille"
            }
        }
    }
}

/// Returns a static, NUL-terminated description of `status` ("unknown status" for a number that
/// is not a `pcl_status`). Never NULL, never freed by the caller.
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_status_str(status: u32) -> *const c_char {
    pcl_status::from_u32(status).map_or(c"unknown status", pcl_status::message).as_ptr()
}

/// Returns whether `status` is an error (a caller or internal error), as opposed to success or a
/// normal refusal. Unknown numbers are errors.
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_status_is_error(status: u32) -> bool {
    !(0..100).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_sorted_and_in_their_ranges() {
        let nums: Vec<u32> = ALL_STATUSES.iter().map(|s| *s as u32).collect();
        assert!(nums.windows(2).all(|w| w[0] < w[1]));
        for s in ALL_STATUSES {
            assert_eq!(pcl_status::from_u32(s as u32), Some(s));
            let is_error = pcl_status_is_error(s as u32);
            assert_eq!(is_error, s as u32 >= 100, "{s:?}");
            let n = s as u32;
            assert!(n < 300 || (1000..2000).contains(&n), "{s:?} outside the documented ranges");
            assert!(!s.message().to_bytes().is_empty());
        }
        assert_eq!(pcl_status::from_u32(99), None);
        assert!(pcl_status_is_error(99_999));
    }
}
