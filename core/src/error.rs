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
    // -- limiter (rate limiter) -------------------------------------------------------------------
    /// A rate in permits per second is outside `min..=max` (0 permits, or more than one permit
    /// per nanosecond).
    RateOutOfRange {
        /// The config field.
        field: &'static str,
        /// The smallest rate accepted.
        min: u64,
        /// The largest rate accepted.
        max: u64,
        /// The rate given.
        value: u64,
    },
    /// An emission interval (nanoseconds per permit) is outside `min_ns..=max_ns`.
    IntervalOutOfRange {
        /// The config field.
        field: &'static str,
        /// The smallest interval accepted, in nanoseconds.
        min_ns: u64,
        /// The largest interval accepted, in nanoseconds.
        max_ns: u64,
        /// The interval given, in nanoseconds (saturated at `u64::MAX` for a `Duration`).
        value_ns: u64,
    },
    /// A burst (permits the bucket holds) is outside `min..=max`.
    BurstOutOfRange {
        /// The config field.
        field: &'static str,
        /// The smallest burst accepted.
        min: u64,
        /// The largest burst accepted.
        max: u64,
        /// The burst given.
        value: u64,
    },
    /// The time a full bucket takes to refill (`interval × burst`) exceeds `max_ns`.
    BurstSpanOverflow {
        /// The config field.
        field: &'static str,
        /// The emission interval, in nanoseconds.
        interval_ns: u64,
        /// The burst.
        burst: u64,
        /// The largest `interval × burst` accepted, in nanoseconds.
        max_ns: u64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::ZeroDuration { field } => write!(f, "{field} must be greater than zero"),
            ConfigError::DurationOverflow { field } => {
                write!(f, "{field} does not fit in 64 bits of nanoseconds")
            }
            ConfigError::DurationNotDivisible { field, duration_ns, divisor } => write!(
                f,
                "{field} must be a multiple of {divisor} ns (the bucket count), got {duration_ns} ns"
            ),
            // -- limiter (rate limiter) -----------------------------------------------------------
            ConfigError::RateOutOfRange { field, min, max, value } => {
                write!(f, "{field} must be in {min}..={max} permits per second, got {value}")
            }
            ConfigError::IntervalOutOfRange { field, min_ns, max_ns, value_ns } => {
                write!(f, "{field} must be in {min_ns}..={max_ns} ns, got {value_ns} ns")
            }
            ConfigError::BurstOutOfRange { field, min, max, value } => {
                write!(f, "{field} must be in {min}..={max} permits, got {value}")
            }
            ConfigError::BurstSpanOverflow { field, interval_ns, burst, max_ns } => write!(
                f,
                "{field}: interval × burst ({interval_ns} ns × {burst}) must not exceed {max_ns} ns"
            ),
        }
    }
}

impl core::error::Error for ConfigError {}
