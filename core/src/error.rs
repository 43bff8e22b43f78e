//! Configuration errors: one variant per rule, each naming the field and the bound it broke.

use core::fmt;

/// A configuration was rejected at construction.
///
/// Every primitive validates its configuration when it is built and returns the first rule that
/// fails. Each variant names the field (as spelled in the Rust config, and mirrored by the C ABI's
/// status codes) and carries the offending values, so the message needs no other context.
///
/// # Examples
///
/// ```
/// use portcullis::{ConfigError, Nanos, window::TimeWindow};
/// let err = TimeWindow::<10>::new(Nanos::ZERO).unwrap_err();
/// assert_eq!(err, ConfigError::ZeroDuration { field: "window_duration" });
/// assert_eq!(err.to_string(), "window_duration must be greater than zero");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigError {
    /// A duration that must be positive was zero.
    ZeroDuration {
        /// The config field.
        field: &'static str,
    },
    /// A duration does not fit in 64 bits of nanoseconds (about 584 years).
    DurationOverflow {
        /// The config field.
        field: &'static str,
    },
    /// A duration must be an exact multiple of a count (for example a window duration and its
    /// number of buckets), so that every bucket has the same whole-nanosecond width.
    DurationNotDivisible {
        /// The config field.
        field: &'static str,
        /// The duration given, in nanoseconds.
        duration_ns: u64,
        /// The count it must divide by.
        divisor: u64,
    },
    /// A count that must be positive (a threshold, a number of probes) was zero.
    ZeroCount {
        /// The config field.
        field: &'static str,
    },
    /// A count is larger than the packed state can hold.
    CountTooLarge {
        /// The config field.
        field: &'static str,
        /// The largest value accepted.
        max: u64,
        /// The value given.
        got: u64,
    },
    /// A rate in parts per million is outside `1..=max` (zero would trip on every call; above
    /// 1 000 000 ppm, more than 100 %, could never be reached).
    RateOutOfRange {
        /// The config field.
        field: &'static str,
        /// The largest value accepted, in ppm.
        max: u32,
        /// The value given, in ppm.
        got: u32,
    },
    /// The minimum number of calls before a rate is judged exceeds what the count window holds,
    /// so the rate rule could never fire.
    MinCallsExceedWindow {
        /// `min_calls` as given.
        min_calls: u64,
        /// The window's capacity (`N` of `CountWindow<N>`).
        window: u64,
    },
    /// More successes are required to close than probes are admitted, so the breaker could never
    /// close from half-open.
    SuccessesExceedProbes {
        /// `successes_to_close` as given.
        successes: u64,
        /// `half_open_probes` as given.
        probes: u64,
    },
    /// An option needs a rule that is off.
    MissingRule {
        /// The config field of the option.
        field: &'static str,
        /// The rule, or rules, it needs (one of them).
        needs: &'static str,
    },
    /// A maximum duration is shorter than the base duration it caps.
    MaxBelowBase {
        /// The config field of the maximum.
        field: &'static str,
        /// The base duration, in nanoseconds.
        base_ns: u64,
        /// The maximum given, in nanoseconds.
        max_ns: u64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::ZeroDuration { field } | ConfigError::ZeroCount { field } => {
                write!(f, "{field} must be greater than zero")
            }
            ConfigError::DurationOverflow { field } => {
                write!(f, "{field} does not fit in 64 bits of nanoseconds")
            }
            ConfigError::DurationNotDivisible { field, duration_ns, divisor } => write!(
                f,
                "{field} must be a multiple of {divisor} ns (the bucket count), got {duration_ns} ns"
            ),
            ConfigError::CountTooLarge { field, max, got } => {
                write!(f, "{field} must be at most {max}, got {got}")
            }
            ConfigError::RateOutOfRange { field, max, got } => {
                write!(f, "{field} must be in 1..={max} ppm, got {got} ppm")
            }
            ConfigError::MinCallsExceedWindow { min_calls, window } => {
                write!(f, "min_calls must be at most the window capacity {window}, got {min_calls}")
            }
            ConfigError::SuccessesExceedProbes { successes, probes } => write!(
                f,
                "successes_to_close must be at most half_open_probes ({probes}), got {successes}"
            ),
            ConfigError::MissingRule { field, needs } => write!(f, "{field} needs {needs}"),
            ConfigError::MaxBelowBase { field, base_ns, max_ns } => write!(
                f,
                "{field} must be at least the base duration {base_ns} ns, got {max_ns} ns"
            ),
        }
    }
}

impl core::error::Error for ConfigError {}
