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
    /// A number is outside the range its field allows, both ends inclusive (a window size above
    /// the window's capacity, a rate above 1 000 000 ppm, a limit above what a state word holds).
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
    /// A field must be at least as large as another field (for example `max_delay` and
    /// `min_delay`, `high_ppm` and `low_ppm`, or `max_open_duration` and `open_duration`).
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
    /// The minimum number of calls before a rate is judged exceeds what the count window holds,
    /// so the rate rule could never fire.
    MinCallsExceedWindow {
        /// `min_calls` as given.
        min_calls: u64,
        /// The window's size.
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
    /// A field that every profile of a breaker must share differs from the first profile's (see
    /// [`BreakerProfiles`](crate::profile::BreakerProfiles)): the half-open rules, shadow mode,
    /// rejection counting and the jitter seed.
    ProfileMismatch {
        /// The config field.
        field: &'static str,
    },
    /// A dependency map has a cycle: `node` depends on itself, directly (an edge from a node to
    /// itself) or through other nodes. It is the smallest node on a cycle.
    DependencyCycle {
        /// A node on the cycle.
        node: u64,
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
            ConfigError::OutOfRange { field, min, max, got } => match (min, max) {
                (_, u64::MAX) => write!(f, "{field} must be at least {min}, got {got}"),
                (0, _) => write!(f, "{field} must be at most {max}, got {got}"),
                _ => write!(f, "{field} must be in {min}..={max}, got {got}"),
            },
            ConfigError::FieldsOutOfOrder { field, value, lower_field, lower } => {
                write!(f, "{field} must be at least {lower_field} ({lower}), got {value}")
            }
            ConfigError::HysteresisImpossible { field, value, degrade_after } => write!(
                f,
                "{field} must be greater than the {degrade_after} consecutive failures it undoes \
                 (hysteresis), got {value}"
            ),
            ConfigError::AdaptiveLimitOrder { field, floor, value, ceiling } => {
                write!(
                    f,
                    "{field} = {value} breaks 1 <= floor <= initial <= ceiling \
                     (floor {floor}, ceiling {ceiling})"
                )
            }
            ConfigError::MinCallsExceedWindow { min_calls, window } => {
                write!(f, "min_calls must be at most the window size {window}, got {min_calls}")
            }
            ConfigError::SuccessesExceedProbes { successes, probes } => write!(
                f,
                "successes_to_close must be at most half_open_probes ({probes}), got {successes}"
            ),
            ConfigError::MissingRule { field, needs } => write!(f, "{field} needs {needs}"),
            ConfigError::ProfileMismatch { field } => {
                write!(f, "{field} must be the same in every profile")
            }
            ConfigError::DependencyCycle { node } => {
                write!(f, "node {node} depends on itself (the dependency map has a cycle)")
            }
            ConfigError::BurstSpanOverflow { field, interval_ns, burst, max_ns } => write!(
                f,
                "{field}: interval × burst ({interval_ns} ns × {burst}) must not exceed {max_ns} ns"
            ),
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
            | ConfigError::AdaptiveLimitOrder { field, .. }
            | ConfigError::ZeroCount { field }
            | ConfigError::MissingRule { field, .. }
            | ConfigError::ProfileMismatch { field }
            | ConfigError::BurstSpanOverflow { field, .. } => field,
            ConfigError::DependencyCycle { .. } => "edges",
            ConfigError::MinCallsExceedWindow { .. } => "min_calls",
            ConfigError::SuccessesExceedProbes { .. } => "successes_to_close",
        }
    }
}
