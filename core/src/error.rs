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
    // Retry policies and retry budgets (`retry`).
    /// A retry setting is below its minimum (for example `max_attempts` of 0, an exponential
    /// `multiplier_permille` below 1000, a zero `base_delay` with a growing backoff).
    RetryBelowMinimum {
        /// The config field.
        field: &'static str,
        /// The smallest value allowed.
        min: u64,
        /// The value given.
        value: u64,
    },
    /// A retry setting is above its maximum (for example a proportional jitter above 1,000,000
    /// ppm, a budget ratio above 10,000 per mille).
    RetryAboveMaximum {
        /// The config field.
        field: &'static str,
        /// The largest value allowed.
        max: u64,
        /// The value given.
        value: u64,
    },
    /// An upper bound is below the lower bound it must not be below (`max_delay` below
    /// `base_delay`, `pushback_max` below `pushback_min`).
    RetryBoundBelowBase {
        /// The config field that is the upper bound.
        field: &'static str,
        /// The lower bound it must reach, in the field's unit.
        base: u64,
        /// The value given.
        value: u64,
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
            // Retry policies and retry budgets (`retry`).
            ConfigError::RetryBelowMinimum { field, min, value } => {
                write!(f, "{field} must be at least {min}, got {value}")
            }
            ConfigError::RetryAboveMaximum { field, max, value } => {
                write!(f, "{field} must be at most {max}, got {value}")
            }
            ConfigError::RetryBoundBelowBase { field, base, value } => {
                write!(f, "{field} must be at least {base} (its lower bound), got {value}")
            }
        }
    }
}

impl core::error::Error for ConfigError {}
