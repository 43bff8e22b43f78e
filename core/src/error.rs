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
    /// A count is outside the range the object supports (for example a window size larger than
    /// the window's compile-time capacity).
    OutOfRange {
        /// The config field.
        field: &'static str,
        /// The smallest accepted value.
        min: u64,
        /// The largest accepted value.
        max: u64,
        /// The value given.
        got: u64,
    },

    // --- hedge, deadline and health policies (`hedge.rs`, `health.rs`) ---
    /// A field must be at least as large as another field (for example `max_delay` and
    /// `min_delay`, or `high_ppm` and `low_ppm`).
    FieldsOutOfOrder {
        /// The config field that is too small.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The field it must not be below.
        lower_field: &'static str,
        /// That field's value: the bound.
        lower: u64,
    },
    /// A recovery threshold is not larger than the failure threshold it undoes, so the health
    /// state would flap without hysteresis.
    HysteresisImpossible {
        /// The config field of the recovery threshold.
        field: &'static str,
        /// Its value (consecutive successes).
        value: u32,
        /// The failure threshold it must exceed (consecutive failures).
        degrade_after: u32,
    },

    // --- bulkhead and adaptive limits (`bulkhead.rs`, `adaptive.rs`) ---
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
            ConfigError::OutOfRange { field, min, max, got } => {
                write!(f, "{field} must be in {min}..={max}, got {got}")
            }

            // --- hedge, deadline and health policies (`hedge.rs`, `health.rs`) ---
            ConfigError::FieldsOutOfOrder { field, value, lower_field, lower } => {
                write!(f, "{field} must be at least {lower_field} ({lower}), got {value}")
            }
            ConfigError::HysteresisImpossible { field, value, degrade_after } => write!(
                f,
                "{field} must be greater than the {degrade_after} consecutive failures it undoes \
                 (hysteresis), got {value}"
            ),

            // --- bulkhead and adaptive limits (`bulkhead.rs`, `adaptive.rs`) ---
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

impl ConfigError {
    /// The config field the error is about, as spelled in the Rust config (the C ABI maps each
    /// field to its own status code).
    ///
    /// ```
    /// use portcullis::{Nanos, window::TimeWindow};
    /// assert_eq!(TimeWindow::<4>::new(Nanos::new(6)).unwrap_err().field(), "window_duration");
    /// ```
    #[must_use]
    pub const fn field(&self) -> &'static str {
        match *self {
            ConfigError::ZeroDuration { field }
            | ConfigError::DurationOverflow { field }
            | ConfigError::DurationNotDivisible { field, .. }
            | ConfigError::OutOfRange { field, .. }
            | ConfigError::FieldsOutOfOrder { field, .. }
            | ConfigError::HysteresisImpossible { field, .. }
            | ConfigError::AdaptiveLimitOrder { field, .. } => field,
        }
    }
}
