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

    // --- hedge, deadline and health policies (`hedge.rs`, `health.rs`) ---
    /// A number is outside the range its field allows (both ends inclusive).
    ValueOutOfRange {
        /// The config field.
        field: &'static str,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
        /// The value given.
        value: u64,
    },
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

            // --- hedge, deadline and health policies (`hedge.rs`, `health.rs`) ---
            ConfigError::ValueOutOfRange { field, min, max, value } => {
                write!(f, "{field} must be in {min}..={max}, got {value}")
            }
            ConfigError::FieldsOutOfOrder { field, value, lower_field, lower } => {
                write!(f, "{field} must be at least {lower_field} ({lower}), got {value}")
            }
            ConfigError::HysteresisImpossible { field, value, degrade_after } => write!(
                f,
                "{field} must be greater than the {degrade_after} consecutive failures it undoes \
                 (hysteresis), got {value}"
            ),
        }
    }
}

impl core::error::Error for ConfigError {}
