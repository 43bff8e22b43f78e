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

    // --- bulkhead and adaptive limits (`bulkhead.rs`, `adaptive.rs`) ---
    /// A bulkhead limit above the largest the state word holds.
    BulkheadLimitTooLarge {
        /// The config field.
        field: &'static str,
        /// The largest value accepted.
        max: u32,
        /// The value given.
        value: u32,
    },
    /// An adaptive-limit setting outside its accepted range `min..=max`.
    AdaptiveOutOfRange {
        /// The config field.
        field: &'static str,
        /// The smallest value accepted.
        min: u64,
        /// The largest value accepted.
        max: u64,
        /// The value given.
        value: u64,
    },
    /// An adaptive limit whose floor is above its ceiling, or whose initial limit is outside
    /// `floor..=ceiling`.
    AdaptiveLimitOrder {
        /// The config field that is out of order (`floor` or `initial`).
        field: &'static str,
        /// The floor given.
        floor: u32,
        /// The value of the field.
        value: u32,
        /// The ceiling given.
        ceiling: u32,
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

            // --- bulkhead and adaptive limits (`bulkhead.rs`, `adaptive.rs`) ---
            ConfigError::BulkheadLimitTooLarge { field, max, value } => {
                write!(f, "{field} must be at most {max}, got {value}")
            }
            ConfigError::AdaptiveOutOfRange { field, min, max, value } => {
                write!(f, "{field} must be in {min}..={max}, got {value}")
            }
            ConfigError::AdaptiveLimitOrder { field, floor, value, ceiling } => {
                write!(
                    f,
                    "{field} = {value} breaks 1 <= floor <= initial <= ceiling \
                     (floor {floor}, ceiling {ceiling})"
                )
            }
        }
    }
}

impl core::error::Error for ConfigError {}
