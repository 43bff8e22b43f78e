//! The circuit breaker: a state machine on one packed atomic word that stops calls to a failing
//! dependency and lets a few probe calls test its recovery.
//!
//! [`Breaker<W>`] decides on the evidence of a sliding [`Window`]: [`CountBreaker<N>`] over the
//! last `N` calls, [`TimeBreaker<K>`] over the last `K` buckets of time. Admission in the closed
//! state is one atomic load; a rejection writes nothing; every state change is one
//! compare-and-swap on the state word whose result says whether it changed the state.
//!
//! The rules, their exact boundaries, the state diagram and the comparison with other breakers
//! are in `docs/semantics/breaker.md`, included below.
#![doc = include_str!("../../docs/semantics/breaker.md")]

use core::fmt;
use core::mem::ManuallyDrop;

use crate::clock::{Clock, Nanos};
use crate::error::ConfigError;
use crate::rng::AtomicSplitMix64;
use crate::sync::{AtomicU64, CachePadded, Ordering, loom_const_fn};
use crate::window::{CountWindow, Outcome, TimeWindow, Window, WindowCounts};
use crate::word::Field;

// The state word: `| time:44 | trips:4 | generation:13 | state:3 |` (bit 63 on the left).
//
// - `state`: a `State` code. Closed is 0, so the all-zero word is a fresh closed breaker.
// - `generation`: incremented (modulo 2^13) by every transition, operator transitions included;
//   every permit carries the generation it was admitted in.
// - `trips`: consecutive trips without a recovery (saturating at 15), the exponent of the open
//   period's growth. Zero in every state but Open and HalfOpen.
// - `time`: in Open, the tick at which the open period ends; in HalfOpen, the tick at which the
//   half-open period times out; zero otherwise. A tick is 2^20 ns, and 44 + 20 = 64, so every
//   `Nanos` rounds up to a representable tick (saturating at the last one) and nothing wraps.
//
// Invariant: the word changes only by transitions, and every transition changes `generation`.
// A compare-and-swap whose expected value is a word loaded earlier therefore succeeds only if no
// transition happened since (up to a wrap of 2^13 transitions, see the docs).
const STATE: Field = Field::new(0, 3);
const GENERATION: Field = Field::new(3, 13);
const TRIPS: Field = Field::new(16, 4);
const TIME: Field = Field::new(20, 44);
const _: () = assert!(Field::disjoint(&[STATE, GENERATION, TRIPS, TIME]));
const _: () = assert!(TIME.mask() >> TICK_SHIFT == TIME.max(), "TIME must be the top bits");

/// log2 of [`TIME_RESOLUTION`] in nanoseconds.
const TICK_SHIFT: u32 = 20;
const _: () = assert!(TICK_SHIFT + 44 == 64);

// The probe word: `| spare:3 | slow:12 | failures:12 | successes:12 | admitted:12 | tag:13 |`.
//
// It counts the probes of one half-open period, named by `tag` (the generation of that period):
// admitted, and of those that reported, how many succeeded, failed, and were slow (a slow call
// also counts as a success or a failure).
// A word whose tag is older than the current half-open generation counts as empty; it is never
// reset eagerly, so no write can erase a probe admitted in the current period (the limit holds
// because `admitted` for one tag only grows, except when a probe of that tag is released).
const P_TAG: Field = Field::new(0, 13);
const P_ADMITTED: Field = Field::new(13, 12);
const P_SUCCESSES: Field = Field::new(25, 12);
const P_FAILURES: Field = Field::new(37, 12);
const P_SLOW: Field = Field::new(49, 12);
const _: () = assert!(Field::disjoint(&[P_TAG, P_ADMITTED, P_SUCCESSES, P_FAILURES, P_SLOW]));
const _: () = assert!(P_ADMITTED.max() == MAX_PROBES as u64);

const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;
const FORCED_OPEN: u64 = 3;
const DISABLED: u64 = 4;
const METRICS_ONLY: u64 = 5;

const PPM: u64 = 1_000_000;

/// The granularity of the breaker's deadlines: 2²⁰ ns (1.048576 ms).
///
/// The end of an open period and the timeout of a half-open period are stored in the state word
/// as multiples of this tick, rounded up: an open period of `d` started at `t` ends at the first
/// multiple of `TIME_RESOLUTION` at or after `t + d`.
pub const TIME_RESOLUTION: Nanos = Nanos::new(1 << TICK_SHIFT);

/// The largest [`BreakerConfig::half_open_probes`].
pub const MAX_PROBES: u32 = 4_095;

/// The number of generations before the generation number wraps (2¹³).
pub const GENERATIONS: u32 = 1 << 13;

/// A breaker deciding on the last `N` calls.
pub type CountBreaker<const N: usize> = Breaker<CountWindow<N>>;

/// A breaker deciding on the calls of the last `K` time buckets.
pub type TimeBreaker<const K: usize> = Breaker<TimeWindow<K>>;

/// The state of a breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum State {
    /// Calls are admitted; outcomes are recorded and the trip rules checked.
    Closed = 0,
    /// Calls are rejected until the open period ends.
    Open = 1,
    /// A limited number of probe calls are admitted to test recovery.
    HalfOpen = 2,
    /// Calls are rejected until an operator transition releases the breaker.
    ForcedOpen = 3,
    /// Calls are admitted and nothing is recorded.
    Disabled = 4,
    /// Calls are admitted and recorded, but the breaker never trips.
    MetricsOnly = 5,
}

impl State {
    const fn from_code(code: u64) -> State {
        match code {
            OPEN => State::Open,
            HALF_OPEN => State::HalfOpen,
            FORCED_OPEN => State::ForcedOpen,
            DISABLED => State::Disabled,
            METRICS_ONLY => State::MetricsOnly,
            _ => State::Closed,
        }
    }
}

/// The state change a decision made, so the caller can emit an event without a callback.
///
/// Exactly one caller's decision reports each state change it makes: when several threads race to
/// make the same change, only the one whose compare-and-swap succeeded reports it. (Operator
/// transitions return the state they replaced instead.)
#[must_use = "a transition is the only notice of a state change"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transition {
    /// The decision changed no state.
    None,
    /// The breaker tripped: closed to open, half-open to open (a failed probe or a probe
    /// timeout).
    Opened,
    /// The open period had ended: open to half-open.
    HalfOpened,
    /// The probes passed (enough successes, or rates below the thresholds): half-open to closed.
    Closed,
}

/// Why a call was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The breaker is open.
    Open,
    /// The breaker is half-open and all its probes are taken.
    HalfOpenFull,
    /// An operator forced the breaker open.
    ForcedOpen,
}

/// A call the breaker did not admit.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, breaker::{BreakerConfig, CountBreaker, RejectReason}};
/// let b = CountBreaker::<4>::new(BreakerConfig::DEFAULT).unwrap();
/// let _ = b.force_open();
/// let r = b.try_acquire(Nanos::ZERO).unwrap_err();
/// assert_eq!(r.reason(), RejectReason::ForcedOpen);
/// assert_eq!(r.retry_after(), None); // released only by an operator
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rejected {
    reason: RejectReason,
    retry_after: Option<Nanos>,
    transition: Transition,
}

impl Rejected {
    /// Why the call was rejected.
    #[must_use]
    pub const fn reason(&self) -> RejectReason {
        self.reason
    }

    /// How long until the open period ends, when that is known (for a `Retry-After` answer).
    ///
    /// `Some` only for [`RejectReason::Open`]: a full half-open period or a forced-open breaker
    /// has no known end.
    #[must_use]
    pub const fn retry_after(&self) -> Option<Nanos> {
        self.retry_after
    }

    /// The state change this rejection made: [`Transition::Opened`] when it found a half-open
    /// period timed out, [`Transition::HalfOpened`] when it opened a half-open period whose
    /// probes were then all taken by other callers; otherwise [`Transition::None`].
    pub const fn transition(&self) -> Transition {
        self.transition
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.reason, self.retry_after) {
            (RejectReason::Open, Some(t)) => {
                write!(f, "circuit breaker is open; retry after {t}")
            }
            (RejectReason::Open, None) => f.write_str("circuit breaker is open"),
            (RejectReason::HalfOpenFull, _) => {
                f.write_str("circuit breaker is half-open and all probes are taken")
            }
            (RejectReason::ForcedOpen, _) => f.write_str("circuit breaker is forced open"),
        }
    }
}

impl core::error::Error for Rejected {}

/// What recording an outcome did.
#[must_use = "`transition` is the only notice of a state change"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Recorded {
    /// The state change the outcome caused.
    pub transition: Transition,
    /// Whether the outcome was counted: `false` for an outcome of an older generation, of a
    /// disabled breaker, of a permit that shadow mode admitted against its decision, of a permit
    /// of another breaker, or of a probe whose decision lost the race to another transition.
    pub counted: bool,
}

impl Recorded {
    const IGNORED: Recorded = Recorded { transition: Transition::None, counted: false };
    const COUNTED: Recorded = Recorded { transition: Transition::None, counted: true };
}

/// An outcome counted by [`Breaker::count_token`]: the record done up to the transition it may
/// cause, which [`Breaker::settle`] makes.
#[must_use = "settle it: a counted outcome may have to trip the breaker"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted<'a>(Pending<'a>);

impl Counted<'_> {
    /// What recording the outcome did, when there is nothing left to settle: `Some` unless the
    /// outcome reached a trip rule or is a half-open probe's (then [`Breaker::settle`] decides).
    /// Settling a `Counted` whose `recorded` is `Some(r)` returns `r`.
    #[must_use]
    pub const fn recorded(&self) -> Option<Recorded> {
        match self.0 {
            Pending::Done(r) => Some(r),
            Pending::Trip(_) | Pending::Probe { .. } => None,
        }
    }
}

/// A trip that a counted outcome calls for: from the closed state `word`, with the open period
/// that `cfg`, whose rule was reached, sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TripDue<'a> {
    word: u64,
    cfg: &'a BreakerConfig,
}

/// What is left to do with an outcome once it is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending<'a> {
    /// Nothing: this is what the record did.
    Done(Recorded),
    /// A tracked outcome reached a trip rule.
    Trip(TripDue<'a>),
    /// A probe's outcome: all of it is decided by `settle`.
    Probe { generation: u64, outcome: Outcome },
}

/// The configuration of a breaker, validated by its constructor.
///
/// Rules that are `None` are off; every rule that is on can trip the breaker by itself.
///
/// # Examples
///
/// ```
/// use portcullis::{ConfigError, breaker::{BreakerConfig, CountBreaker}};
/// let config = BreakerConfig {
///     consecutive_failures: None,
///     failure_rate_ppm: Some(500_000), // 50 %
///     min_calls: 20,
///     ..BreakerConfig::DEFAULT
/// };
/// assert!(CountBreaker::<20>::new(config).is_ok());
/// assert_eq!(
///     CountBreaker::<10>::new(config).unwrap_err(),
///     ConfigError::MinCallsExceedWindow { min_calls: 20, window: 10 }
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BreakerConfig {
    /// Trip on this many consecutive failures (the N-th failure trips). A success, slow or not,
    /// resets the count.
    pub consecutive_failures: Option<u32>,
    /// Trip when failures per million calls in the window reach this, in `1..=1_000_000`.
    pub failure_rate_ppm: Option<u32>,
    /// Trip when slow calls per million calls in the window reach this, in `1..=1_000_000`.
    pub slow_rate_ppm: Option<u32>,
    /// The rate rules are judged only once the window holds at least this many calls (at least 1
    /// when a rate rule is on; at most `N` for a [`CountBreaker<N>`]).
    pub min_calls: u32,
    /// A call that took strictly longer than this is slow, for [`Breaker::classify`] and
    /// [`Breaker::call`]. Callers that build their own [`Outcome`] decide slowness themselves.
    pub slow_call_duration: Option<Nanos>,
    /// The open period after a first trip.
    pub open_duration: Nanos,
    /// The cap of the open period, which doubles on each consecutive trip without a recovery.
    /// Equal to `open_duration` for a constant open period.
    pub max_open_duration: Nanos,
    /// Random extra open time, up to this many millionths of the (capped) open period, drawn
    /// from a generator seeded with `seed`. 0 for none.
    pub jitter_ppm: u32,
    /// The seed of the jitter generator (give each process its own, so a fleet does not probe in
    /// lockstep).
    pub seed: u64,
    /// The probes admitted per half-open period, in total (a released probe frees its place).
    pub half_open_probes: u32,
    /// The successful probes that close the breaker (at most `half_open_probes`). Not used when
    /// `half_open_by_rate` is on.
    pub successes_to_close: u32,
    /// Decide the half-open period by rate instead of by the first failure: once all
    /// `half_open_probes` probes have reported, reopen if their failure rate or slow-call rate
    /// reaches `failure_rate_ppm` or `slow_rate_ppm`, else close (as resilience4j). Needs one of
    /// the two rate rules.
    pub half_open_by_rate: bool,
    /// A half-open period that has not closed this long after it began reopens the breaker at
    /// the next admission attempt, as if a probe had failed.
    pub probe_timeout: Nanos,
    /// Decide and count, but always admit: rejected calls get a permit that says what the
    /// breaker would have done, and their outcomes are not counted.
    pub shadow: bool,
    /// Count rejections for [`Snapshot::rejected`]. Off by default because it makes a rejection
    /// write (one relaxed `fetch_add`).
    pub count_rejections: bool,
}

impl BreakerConfig {
    /// A breaker that trips on 5 consecutive failures, stays open 5 s doubling up to 60 s with
    /// 10 % jitter, and closes on one successful probe (probe timeout 30 s).
    pub const DEFAULT: BreakerConfig = BreakerConfig {
        consecutive_failures: Some(5),
        failure_rate_ppm: None,
        slow_rate_ppm: None,
        min_calls: 1,
        slow_call_duration: None,
        open_duration: Nanos::from_secs(5),
        max_open_duration: Nanos::from_secs(60),
        jitter_ppm: 100_000,
        seed: 0,
        half_open_probes: 1,
        successes_to_close: 1,
        half_open_by_rate: false,
        probe_timeout: Nanos::from_secs(30),
        shadow: false,
        count_rejections: false,
    };

    /// The defaults of sony/gobreaker: trip when consecutive failures exceed 5 (on the 6th),
    /// open 60 s, one probe that closes on success.
    ///
    /// gobreaker has no probe timeout (a probe that never reports holds it half-open); this
    /// preset reopens after 60 s. Use it with any window, for example `CountBreaker<1>`: no rate
    /// rule reads it.
    ///
    /// ```
    /// use portcullis::{Nanos, breaker::{BreakerConfig, CountBreaker, State, Transition}};
    /// use portcullis::window::Outcome;
    /// let b = CountBreaker::<1>::new(BreakerConfig::gobreaker()).unwrap();
    /// for i in 1..=6 {
    ///     let p = b.try_acquire(Nanos::ZERO).unwrap();
    ///     let r = p.record(Outcome::Failure, Nanos::ZERO);
    ///     assert_eq!(r.transition == Transition::Opened, i == 6);
    ///     assert_eq!(b.state() == State::Open, i == 6);
    /// }
    /// ```
    #[must_use]
    pub const fn gobreaker() -> BreakerConfig {
        BreakerConfig {
            consecutive_failures: Some(6),
            failure_rate_ppm: None,
            slow_rate_ppm: None,
            min_calls: 1,
            slow_call_duration: None,
            open_duration: Nanos::from_secs(60),
            max_open_duration: Nanos::from_secs(60),
            jitter_ppm: 0,
            seed: 0,
            half_open_probes: 1,
            successes_to_close: 1,
            half_open_by_rate: false,
            probe_timeout: Nanos::from_secs(60),
            shadow: false,
            count_rejections: false,
        }
    }

    /// The defaults of resilience4j, for a `CountBreaker<100>`: failure rate ≥ 50 % or slow-call
    /// rate ≥ 100 % (calls over 60 s) once 100 calls are in the window, open 60 s, 10 probes
    /// judged by the same rates once all have reported.
    ///
    /// resilience4j waits for its probes indefinitely by default; this preset reopens after 60 s.
    ///
    /// ```
    /// use portcullis::breaker::{BreakerConfig, CountBreaker};
    /// assert!(CountBreaker::<100>::new(BreakerConfig::resilience4j()).is_ok());
    /// assert!(CountBreaker::<50>::new(BreakerConfig::resilience4j()).is_err()); // min_calls 100
    /// ```
    #[must_use]
    pub const fn resilience4j() -> BreakerConfig {
        BreakerConfig {
            consecutive_failures: None,
            failure_rate_ppm: Some(500_000),
            slow_rate_ppm: Some(1_000_000),
            min_calls: 100,
            slow_call_duration: Some(Nanos::from_secs(60)),
            open_duration: Nanos::from_secs(60),
            max_open_duration: Nanos::from_secs(60),
            jitter_ppm: 0,
            seed: 0,
            half_open_probes: 10,
            successes_to_close: 10,
            half_open_by_rate: true,
            probe_timeout: Nanos::from_secs(60),
            shadow: false,
            count_rejections: false,
        }
    }

    /// Checks every rule; `capacity` is the count window's `N`, if the window is count-based.
    ///
    /// # Errors
    ///
    /// The first rule broken, in field order (see [`ConfigError`]).
    pub const fn validate(&self, capacity: Option<u64>) -> Result<(), ConfigError> {
        if let Some(0) = self.consecutive_failures {
            return Err(ConfigError::ZeroCount { field: "consecutive_failures" });
        }
        if let Err(e) = check_rate("failure_rate_ppm", self.failure_rate_ppm) {
            return Err(e);
        }
        if let Err(e) = check_rate("slow_rate_ppm", self.slow_rate_ppm) {
            return Err(e);
        }
        if self.failure_rate_ppm.is_some() || self.slow_rate_ppm.is_some() {
            if self.min_calls == 0 {
                return Err(ConfigError::ZeroCount { field: "min_calls" });
            }
            if let Some(n) = capacity
                && self.min_calls as u64 > n
            {
                return Err(ConfigError::MinCallsExceedWindow {
                    min_calls: self.min_calls as u64,
                    window: n,
                });
            }
        }
        if let Some(d) = self.slow_call_duration
            && d.as_u64() == 0
        {
            return Err(ConfigError::ZeroDuration { field: "slow_call_duration" });
        }
        let base = self.open_duration.as_u64();
        let max = self.max_open_duration.as_u64();
        if base == 0 {
            return Err(ConfigError::ZeroDuration { field: "open_duration" });
        }
        if max < base {
            return Err(ConfigError::FieldsOutOfOrder {
                field: "max_open_duration",
                value: max,
                lower_field: "open_duration",
                lower: base,
            });
        }
        if self.jitter_ppm as u64 > PPM {
            return Err(ConfigError::OutOfRange {
                field: "jitter_ppm",
                min: 0,
                max: 1_000_000,
                got: self.jitter_ppm as u64,
            });
        }
        if max.checked_add(jitter_span(max, self.jitter_ppm)).is_none() {
            return Err(ConfigError::DurationOverflow { field: "max_open_duration" });
        }
        if self.half_open_probes == 0 {
            return Err(ConfigError::ZeroCount { field: "half_open_probes" });
        }
        if self.half_open_probes > MAX_PROBES {
            return Err(ConfigError::OutOfRange {
                field: "half_open_probes",
                min: 1,
                max: MAX_PROBES as u64,
                got: self.half_open_probes as u64,
            });
        }
        if self.successes_to_close == 0 {
            return Err(ConfigError::ZeroCount { field: "successes_to_close" });
        }
        if self.successes_to_close > self.half_open_probes {
            return Err(ConfigError::SuccessesExceedProbes {
                successes: self.successes_to_close as u64,
                probes: self.half_open_probes as u64,
            });
        }
        if self.half_open_by_rate && self.failure_rate_ppm.is_none() && self.slow_rate_ppm.is_none()
        {
            return Err(ConfigError::MissingRule {
                field: "half_open_by_rate",
                needs: "failure_rate_ppm or slow_rate_ppm",
            });
        }
        if self.probe_timeout.as_u64() == 0 {
            return Err(ConfigError::ZeroDuration { field: "probe_timeout" });
        }
        Ok(())
    }
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig::DEFAULT
    }
}

/// Where a breaker takes its configuration from: one [`BreakerConfig`] (a breaker built by
/// [`Breaker::new`]), or named profiles an operator switches between at run time
/// ([`BreakerProfiles`](crate::profile::BreakerProfiles), see `docs/semantics/profiles.md`).
///
/// # Semantics
///
/// Every decision that needs the configuration (a record, a trip, the end of an open period)
/// reads it once and decides everything with that one configuration. Admission in the closed
/// state, and rejection in the open and forced-open states, read no configuration that a profile
/// may change, so a profile set costs them nothing.
///
/// Sealed: the breaker's guarantees depend on how a configuration is chosen, so only this crate
/// implements it.
pub trait ConfigSet: sealed::Sealed {}

pub(crate) mod sealed {
    use super::BreakerConfig;

    /// The crate's side of [`ConfigSet`](super::ConfigSet).
    #[allow(unreachable_pub, reason = "sealed: public in name only, unreachable from outside")]
    pub trait Sealed: core::fmt::Debug {
        /// The configuration in force, read once per decision (a profile set loads its index).
        fn active(&self) -> &BreakerConfig;
        /// A configuration whose shared fields (those every profile must agree on) hold for the
        /// whole set: read without loading anything.
        fn shared(&self) -> &BreakerConfig;
        /// The index of the configuration in force (0 for a single configuration).
        fn active_index(&self) -> usize;
    }
}

impl ConfigSet for BreakerConfig {}

impl sealed::Sealed for BreakerConfig {
    fn active(&self) -> &BreakerConfig {
        self
    }

    fn shared(&self) -> &BreakerConfig {
        self
    }

    fn active_index(&self) -> usize {
        0
    }
}

const fn check_rate(field: &'static str, rate: Option<u32>) -> Result<(), ConfigError> {
    match rate {
        Some(got) if got == 0 || got as u64 > PPM => {
            Err(ConfigError::OutOfRange { field, min: 1, max: 1_000_000, got: got as u64 })
        }
        _ => Ok(()),
    }
}

/// The largest jitter added to an open period of `d` ns: `d · ppm / 10⁶`, rounded down.
const fn jitter_span(d: u64, ppm: u32) -> u64 {
    let s = (d as u128 * ppm as u128) / PPM as u128;
    #[allow(clippy::cast_possible_truncation, reason = "ppm <= 10^6 after validation, so s <= d")]
    if s > u64::MAX as u128 { u64::MAX } else { s as u64 }
}

/// `part / whole >= ppm / 10⁶`, exactly (u128 products cannot overflow).
const fn rate_reached(part: u64, whole: u64, ppm: u32) -> bool {
    part as u128 * PPM as u128 >= ppm as u128 * whole as u128
}

/// The first tick at or after `t` ns, saturating at the last representable tick.
const fn ceil_tick(t: u64) -> u64 {
    let q = t >> TICK_SHIFT;
    let up = if t & (TIME_RESOLUTION.as_u64() - 1) != 0 { q + 1 } else { q };
    if up > TIME.max() { TIME.max() } else { up }
}

/// The time of tick `tick` (which fits: `tick <= TIME.max()`).
const fn tick_time(tick: u64) -> Nanos {
    Nanos::new(tick << TICK_SHIFT)
}

/// `word` with the next generation and the given state, trips and time.
const fn next_word(word: u64, state: u64, trips: u64, tick: u64) -> u64 {
    STATE.place(state)
        | GENERATION.place(GENERATION.get(word) + 1)
        | TRIPS.place(trips)
        | TIME.place(tick)
}

/// Whether probe-word tag `a` is a later generation than `b` (modulo 2¹³: later by less than
/// half the range).
const fn tag_is_newer(a: u64, b: u64) -> bool {
    let d = a.wrapping_sub(b) & GENERATION.max();
    d != 0 && d < GENERATIONS as u64 / 2
}

/// How a permit was admitted, which decides what its outcome does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Closed or metrics-only: the outcome goes to the window and the trip rules.
    Tracked,
    /// A half-open probe: the outcome closes or reopens the breaker.
    Probe,
    /// Disabled: the outcome is not recorded.
    Untracked,
    /// Shadow mode admitted a call the breaker would have rejected: not recorded.
    Shadow(Rejected),
}

/// A call admitted by [`Breaker::try_acquire`], to be recorded with its outcome.
///
/// # Semantics
///
/// The permit carries the generation it was admitted in. Its outcome counts only if the breaker
/// is still in that generation when it is recorded; otherwise it is ignored (a late outcome never
/// changes the new state). A permit dropped without an outcome is [ignored](Permit::ignore): a
/// probe's place is freed.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, breaker::{BreakerConfig, CountBreaker, Transition}};
/// use portcullis::window::Outcome;
/// let b = CountBreaker::<8>::new(BreakerConfig::DEFAULT).unwrap();
/// let permit = b.try_acquire(Nanos::ZERO).unwrap();
/// let r = permit.record(Outcome::Success, Nanos::new(10));
/// assert!(r.counted);
/// assert_eq!(r.transition, Transition::None);
/// ```
#[must_use = "record the call's outcome with `record`, or release it with `ignore`"]
#[derive(Debug)]
pub struct Permit<'a, W: Window, C: ConfigSet = BreakerConfig> {
    breaker: &'a Breaker<W, C>,
    generation: u64,
    kind: Kind,
    transition: Transition,
}

impl<'a, W: Window, C: ConfigSet> Permit<'a, W, C> {
    /// The generation the call was admitted in.
    #[must_use]
    #[allow(clippy::cast_possible_truncation, reason = "a generation has 13 bits")]
    pub const fn generation(&self) -> u32 {
        self.generation as u32
    }

    /// Whether the call is a half-open probe.
    #[must_use]
    pub const fn is_probe(&self) -> bool {
        matches!(self.kind, Kind::Probe)
    }

    /// In shadow mode, the rejection the breaker would have returned; `None` otherwise.
    #[must_use]
    pub const fn shadow_rejection(&self) -> Option<Rejected> {
        match self.kind {
            Kind::Shadow(r) => Some(r),
            _ => None,
        }
    }

    /// The state change the admission made ([`Transition::HalfOpened`] when this call ended the
    /// open period).
    pub const fn transition(&self) -> Transition {
        self.transition
    }

    /// Records the call's outcome, observed at `now`.
    ///
    /// # Semantics
    ///
    /// See [`Breaker::record`].
    pub fn record(self, outcome: Outcome, now: Nanos) -> Recorded {
        self.record_weighted(outcome, Weight::ONE, now)
    }

    /// Records the call's outcome with a [`Weight`], observed at `now`.
    ///
    /// # Semantics
    ///
    /// See [`Breaker::record`] and [`Weight`].
    pub fn record_weighted(self, outcome: Outcome, weight: Weight, now: Nanos) -> Recorded {
        let breaker = self.breaker;
        self.record_picked(outcome, weight, now, || breaker.config.active())
    }

    /// Whether the permit was admitted by `breaker`.
    pub(crate) fn is_of(&self, breaker: &Breaker<W, C>) -> bool {
        core::ptr::eq(self.breaker, breaker)
    }

    /// Records the outcome with the configuration `pick` returns, called at most once and only
    /// if the outcome counts (for a coordinator that chooses a node's profile itself).
    pub(crate) fn record_picked(
        self,
        outcome: Outcome,
        weight: Weight,
        now: Nanos,
        pick: impl FnOnce() -> &'a BreakerConfig,
    ) -> Recorded {
        let this = ManuallyDrop::new(self);
        this.breaker.apply(this.generation, this.kind, outcome, weight, now, pick)
    }

    /// Releases the permit without an outcome: a half-open probe's place is freed and nothing is
    /// counted. Dropping the permit does the same.
    pub fn ignore(self) {
        drop(self);
    }
}

/// Decodes a state word read through [`Breaker::state_word`]: `Some(generation)` when the
/// breaker is closed or metrics-only, where [`Breaker::try_acquire`] admits every call as a
/// tracked permit of that generation without writing anything; `None` in every other state
/// (ask `try_acquire`).
#[must_use]
pub const fn tracked_admission(word: u64) -> Option<u32> {
    match STATE.get(word) {
        #[allow(clippy::cast_possible_truncation, reason = "GENERATION is 13 bits wide")]
        CLOSED | METRICS_ONLY => Some(GENERATION.get(word) as u32),
        _ => None,
    }
}

/// The layout of the state word's fields a binding needs to decode a tracked admission
/// itself: the state in the low `STATE_BITS` bits (closed is 0, metrics-only 5), then the
/// generation in the next `GENERATION_BITS` bits.
pub const STATE_BITS: u32 = 3;
/// See [`STATE_BITS`].
pub const GENERATION_BITS: u32 = 13;
const _: () = assert!(STATE.mask() == (1 << STATE_BITS) - 1);
const _: () = assert!(GENERATION.mask() == ((1 << GENERATION_BITS) - 1) << STATE_BITS);

/// How many calls one outcome counts as in a tracked (closed or metrics-only) breaker,
/// `1..=`[`Weight::MAX`]: an outcome of weight `w` enters the window `w` times (in a count window
/// it takes `w` of the `N` places) and, for a failure, adds `w` to the consecutive-failure count.
/// It lets a caller make some errors weigh more than others (a timeout more than a rate-limit
/// refusal). A success of any weight resets the consecutive count; a half-open probe is one probe
/// whatever its weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Weight(u8);

impl Weight {
    /// The weight of a plain outcome.
    pub const ONE: Self = Self(1);
    /// The largest weight (bounds the work of one record).
    pub const MAX: u32 = 64;

    /// `Some` for `1..=MAX`, `None` otherwise.
    #[must_use]
    pub const fn new(w: u32) -> Option<Self> {
        if w >= 1 && w <= Self::MAX {
            #[allow(clippy::cast_possible_truncation, reason = "w <= 64")]
            Some(Self(w as u8))
        } else {
            None
        }
    }

    /// The weight as a number.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0 as u32
    }
}

/// How a call was admitted, as carried by a [`PermitToken`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TokenKind {
    /// Admitted while closed or metrics-only: the outcome goes to the window and the trip rules.
    Tracked = 0,
    /// A half-open probe: the outcome closes or reopens the breaker.
    Probe = 1,
    /// Admitted while disabled: the outcome is not recorded.
    Untracked = 2,
    /// Admitted by shadow mode against the breaker's decision: the outcome is not recorded.
    Shadow = 3,
}

/// A [`Permit`] as plain data, for callers that cannot hold a borrow of the breaker (the C ABI,
/// a permit kept in shared memory).
///
/// # Semantics
///
/// A token carries what a permit carries: the generation the call was admitted in and how it
/// was admitted. It is recorded with [`Breaker::record_token`] or released with
/// [`Breaker::ignore_token`], with the same generation rule as a permit: an outcome counts only
/// if the breaker is still in the token's generation. Unlike a permit, a token is `Copy` and is
/// not released when dropped: the holder must record or ignore it exactly once (a half-open
/// probe's place is held until then, or until the probe timeout ends the period). Recording a
/// token twice, or a token made up with [`PermitToken::from_parts`], cannot corrupt the breaker's
/// words; it can only count one outcome too many in the token's generation.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, breaker::{BreakerConfig, CountBreaker, TokenKind}};
/// use portcullis::window::Outcome;
/// let b = CountBreaker::<8>::new(BreakerConfig::DEFAULT).unwrap();
/// let token = b.try_acquire(Nanos::ZERO).unwrap().into_token();
/// assert_eq!(token.kind(), TokenKind::Tracked);
/// assert!(b.record_token(token, Outcome::Failure, Nanos::new(5)).counted);
/// assert_eq!(b.snapshot(Nanos::new(5)).counts.failures, 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PermitToken {
    generation: u32,
    kind: TokenKind,
}

impl PermitToken {
    /// A token from its parts, as stored by [`generation`](Self::generation) and
    /// [`kind`](Self::kind). A generation outside `0..GENERATIONS` never matches the breaker's, so
    /// such a token is never counted.
    #[must_use]
    pub const fn from_parts(generation: u32, kind: TokenKind) -> PermitToken {
        PermitToken { generation, kind }
    }

    /// The generation the call was admitted in.
    #[must_use]
    pub const fn generation(self) -> u32 {
        self.generation
    }

    /// How the call was admitted.
    #[must_use]
    pub const fn kind(self) -> TokenKind {
        self.kind
    }

    /// Whether the call is a half-open probe.
    #[must_use]
    pub const fn is_probe(self) -> bool {
        matches!(self.kind, TokenKind::Probe)
    }

    /// The permit kind this token stands for (a shadow token's rejection is not kept: its
    /// outcome is ignored whatever the rejection was).
    const fn permit_kind(self) -> Kind {
        match self.kind {
            TokenKind::Tracked => Kind::Tracked,
            TokenKind::Probe => Kind::Probe,
            TokenKind::Untracked | TokenKind::Shadow => Kind::Untracked,
        }
    }
}

impl<W: Window, C: ConfigSet> Permit<'_, W, C> {
    /// Turns the permit into plain data, to be recorded later with [`Breaker::record_token`] or
    /// released with [`Breaker::ignore_token`]. A probe's place stays taken until then.
    #[must_use = "record the token's outcome with `Breaker::record_token`, or release it"]
    #[allow(clippy::cast_possible_truncation, reason = "a generation has 13 bits")]
    pub fn into_token(self) -> PermitToken {
        let this = ManuallyDrop::new(self);
        let kind = match this.kind {
            Kind::Tracked => TokenKind::Tracked,
            Kind::Probe => TokenKind::Probe,
            Kind::Untracked => TokenKind::Untracked,
            Kind::Shadow(_) => TokenKind::Shadow,
        };
        PermitToken { generation: this.generation as u32, kind }
    }
}

impl<W: Window, C: ConfigSet> Drop for Permit<'_, W, C> {
    fn drop(&mut self) {
        if matches!(self.kind, Kind::Probe) {
            self.breaker.release_probe(self.generation);
        }
    }
}

/// What a breaker holds at one moment.
///
/// Fields are read one after another, not atomically together: under concurrent use they may
/// disagree by the calls in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Snapshot {
    /// The stored state. Transitions driven by time (the end of an open period, a probe timeout)
    /// happen at the next [`Breaker::try_acquire`], so an open breaker whose period has ended
    /// still reads [`State::Open`], with `open_remaining` zero.
    pub state: State,
    /// The current generation, in `0..GENERATIONS`.
    pub generation: u32,
    /// The outcomes in the window.
    pub counts: WindowCounts,
    /// Failures per million calls in the window; `None` when it holds no call.
    pub failure_rate_ppm: Option<u32>,
    /// Slow calls per million calls in the window; `None` when it holds no call.
    pub slow_rate_ppm: Option<u32>,
    /// Failures since the last success.
    pub consecutive_failures: u64,
    /// Trips since the last recovery (the exponent of the open period's growth).
    pub consecutive_trips: u32,
    /// Probes admitted in the current half-open period (0 in other states).
    pub probes_admitted: u32,
    /// Probes that succeeded in the current half-open period (0 in other states).
    pub probe_successes: u32,
    /// Probes that failed in the current half-open period (0 in other states; only
    /// [`BreakerConfig::half_open_by_rate`] lets a period go on after a failed probe).
    pub probe_failures: u32,
    /// Transitions to open since construction or [`Breaker::reset`].
    pub times_tripped: u64,
    /// Rejected calls since construction or [`Breaker::reset`], if
    /// [`BreakerConfig::count_rejections`] is on (0 otherwise).
    pub rejected: u64,
    /// In [`State::Open`], the time until the open period ends (zero once it has); `None` in any
    /// other state.
    pub open_remaining: Option<Nanos>,
    /// The index of the profile in force, for a breaker with
    /// [`BreakerProfiles`](crate::profile::BreakerProfiles); 0 for a single configuration.
    pub profile: u32,
}

/// A circuit breaker over the window `W`.
///
/// # Semantics
///
/// See the [module documentation](self) for every rule and boundary. In short: closed admits and
/// records; a trip rule reaching its threshold opens; after the open period (growing on
/// consecutive trips, with jitter) the next admission attempt half-opens and admits up to
/// `half_open_probes` probes; `successes_to_close` successes close, the first failure or the
/// probe timeout reopens (or, with [`BreakerConfig::half_open_by_rate`], the rates of all the
/// probes decide). Operators can force any state at any time.
///
/// # Progress
///
/// [`try_acquire`](Self::try_acquire) in the closed, disabled and metrics-only states is one
/// load (wait-free); a rejection in the open or forced-open states is one load and writes
/// nothing. Every other path is lock-free: a compare-and-swap retries only because another thread
/// changed the same word.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, breaker::{BreakerConfig, CountBreaker, RejectReason, State, Transition}};
/// use portcullis::breaker::TIME_RESOLUTION;
/// use portcullis::window::Outcome;
///
/// static BREAKER: CountBreaker<16> = match CountBreaker::new(BreakerConfig {
///     consecutive_failures: Some(3),
///     open_duration: Nanos::from_secs(1),
///     max_open_duration: Nanos::from_secs(1),
///     jitter_ppm: 0,
///     ..BreakerConfig::DEFAULT
/// }) {
///     Ok(b) => b,
///     Err(_) => panic!("invalid breaker config"),
/// };
///
/// let t0 = Nanos::ZERO;
/// for _ in 0..2 {
///     let p = BREAKER.try_acquire(t0).unwrap();
///     assert_eq!(p.record(Outcome::Failure, t0).transition, Transition::None);
/// }
/// let p = BREAKER.try_acquire(t0).unwrap();
/// assert_eq!(p.record(Outcome::Failure, t0).transition, Transition::Opened); // the 3rd trips
///
/// let r = BREAKER.try_acquire(t0).unwrap_err();
/// assert_eq!(r.reason(), RejectReason::Open);
/// // The end of the open period rounds up to a whole tick of TIME_RESOLUTION (about 1 ms).
/// let wait = r.retry_after().unwrap();
/// assert!(wait >= Nanos::from_secs(1) && wait < Nanos::from_secs(1).saturating_add(TIME_RESOLUTION));
///
/// let later = t0.saturating_add(wait);
/// let probe = BREAKER.try_acquire(later).unwrap();
/// assert_eq!(probe.transition(), Transition::HalfOpened);
/// assert_eq!(probe.record(Outcome::Success, later).transition, Transition::Closed);
/// assert_eq!(BREAKER.state(), State::Closed);
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Breaker<W, C = BreakerConfig> {
    /// The packed state word (see the layout above). Read on every admission, written only by
    /// transitions, so its cache line stays shared while the breaker is healthy.
    state: CachePadded<AtomicU64>,
    /// The probe word of the current half-open period.
    probes: CachePadded<AtomicU64>,
    /// Failures since the last success (written by every recorded outcome).
    consecutive: CachePadded<AtomicU64>,
    /// Transitions to open.
    tripped: AtomicU64,
    /// Rejections, if counted.
    rejected: AtomicU64,
    /// The jitter generator.
    rng: AtomicSplitMix64,
    /// The configuration, or the profiles and the index of the one in force.
    pub(crate) config: C,
    window: W,
}

impl<const N: usize> Breaker<CountWindow<N>> {
    loom_const_fn! {
        /// A closed breaker deciding on the last `N` calls.
        ///
        /// # Errors
        ///
        /// The first rule of `config` broken (see [`BreakerConfig::validate`]), including
        /// [`ConfigError::MinCallsExceedWindow`] when `min_calls > N`.
        #[allow(clippy::question_mark, reason = "`?` cannot be used in a `const fn`")]
        pub fn new(config: BreakerConfig) -> Result<Self, ConfigError> {
            if let Err(e) = config.validate(Some(N as u64)) {
                return Err(e);
            }
            Ok(Self::build(config, config.seed, CountWindow::new()))
        }
    }

    loom_const_fn! {
        /// A closed breaker deciding on the last `size` calls, using `size` of the window's `N`
        /// slots: for callers (such as the C ABI) that choose the size at run time.
        ///
        /// # Errors
        ///
        /// The window's [`ConfigError::OutOfRange`] unless `1 <= size <= N`, then the first rule
        /// of `config` broken, with [`ConfigError::MinCallsExceedWindow`] when `min_calls > size`.
        pub fn with_window_size(config: BreakerConfig, size: usize) -> Result<Self, ConfigError> {
            let window = match CountWindow::with_size(size) {
                Ok(w) => w,
                Err(e) => return Err(e),
            };
            if let Err(e) = config.validate(Some(size as u64)) {
                return Err(e);
            }
            Ok(Self::build(config, config.seed, window))
        }
    }
}

impl<const K: usize> Breaker<TimeWindow<K>> {
    loom_const_fn! {
        /// A closed breaker deciding on the calls of the last `window` of time, in `K` buckets.
        ///
        /// # Errors
        ///
        /// The first rule of `config` broken (see [`BreakerConfig::validate`]), then the
        /// window's own errors ([`TimeWindow::new`]).
        #[allow(clippy::question_mark, reason = "`?` cannot be used in a `const fn`")]
        pub fn new(config: BreakerConfig, window: Nanos) -> Result<Self, ConfigError> {
            if let Err(e) = config.validate(None) {
                return Err(e);
            }
            match TimeWindow::new(window) {
                Ok(w) => Ok(Self::build(config, config.seed, w)),
                Err(e) => Err(e),
            }
        }
    }

    loom_const_fn! {
        /// A closed breaker deciding on the calls of the last `window` of time in `buckets` of
        /// the window's `K` buckets: for callers (such as the C ABI) that choose the bucket count
        /// at run time.
        ///
        /// # Errors
        ///
        /// The first rule of `config` broken, then [`TimeWindow::with_buckets`]'s errors.
        pub fn with_buckets(
            config: BreakerConfig,
            window: Nanos,
            buckets: usize,
        ) -> Result<Self, ConfigError> {
            if let Err(e) = config.validate(None) {
                return Err(e);
            }
            match TimeWindow::with_buckets(window, buckets) {
                Ok(w) => Ok(Self::build(config, config.seed, w)),
                Err(e) => Err(e),
            }
        }
    }
}

impl<W, C> Breaker<W, C> {
    loom_const_fn! {
        /// A closed breaker: every word zero, the jitter generator seeded with `seed`.
        pub(crate) fn build(config: C, seed: u64, window: W) -> Self {
            Breaker {
                state: CachePadded(AtomicU64::new(0)),
                probes: CachePadded(AtomicU64::new(0)),
                consecutive: CachePadded(AtomicU64::new(0)),
                tripped: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
                rng: AtomicSplitMix64::new(seed),
                config,
                window,
            }
        }
    }
}

impl<W: Window> Breaker<W> {
    /// The configuration the breaker was built with.
    #[must_use]
    pub const fn config(&self) -> &BreakerConfig {
        &self.config
    }
}

impl<W: Window, C: ConfigSet> Breaker<W, C> {
    /// The window the breaker decides on.
    #[must_use]
    pub const fn window(&self) -> &W {
        &self.window
    }

    /// The current state: one load.
    #[must_use]
    pub fn state(&self) -> State {
        State::from_code(STATE.get(self.state.load(Ordering::Acquire)))
    }

    /// The address of the packed state word, for a binding that decides the common admission
    /// itself with one atomic load of its own (the Go package does, to avoid a cgo call): load
    /// the word with acquire (or stronger) ordering, and if [`tracked_admission`] of it is
    /// `Some(generation)`, the call is admitted exactly as [`try_acquire`](Self::try_acquire)
    /// would admit it, as a tracked permit of that generation ([`PermitToken::from_parts`]).
    /// Otherwise call `try_acquire`. The word must never be written through this pointer.
    #[cfg(not(loom))]
    #[must_use]
    pub fn state_word(&self) -> *const u64 {
        self.state.as_ptr().cast_const()
    }

    /// The closed-state admission alone, for callers that keep a permit as a [`PermitToken`]
    /// (the C ABI): if the breaker is closed or metrics-only, admits the call exactly as
    /// [`try_acquire`](Self::try_acquire) would (one load; nothing written, no time read) and
    /// returns its token; otherwise `None`, and `try_acquire` decides.
    ///
    /// ```
    /// use portcullis::breaker::{BreakerConfig, CountBreaker, TokenKind};
    /// let b = CountBreaker::<8>::new(BreakerConfig::DEFAULT).unwrap();
    /// assert_eq!(b.admit_tracked().map(|t| t.kind()), Some(TokenKind::Tracked));
    /// b.force_open();
    /// assert_eq!(b.admit_tracked(), None);
    /// ```
    #[inline]
    #[must_use = "a token stands for an admitted call: record or ignore it"]
    pub fn admit_tracked(&self) -> Option<PermitToken> {
        // Acquire: as in `acquire`.
        let word = self.state.load(Ordering::Acquire);
        tracked_admission(word).map(|g| PermitToken::from_parts(g, TokenKind::Tracked))
    }

    /// Asks to make a call at `now`.
    ///
    /// # Semantics
    ///
    /// - Closed, disabled, metrics-only: admitted (one load; `now` is not read).
    /// - Open: rejected while `now` is before the end of the open period (one load, no write);
    ///   at or after it, the first caller moves the breaker to half-open (a new generation) and
    ///   takes a probe.
    /// - Half-open: admitted as a probe while fewer than `half_open_probes` were admitted in this
    ///   period, else rejected with [`RejectReason::HalfOpenFull`]; at or after the probe
    ///   timeout, the caller reopens the breaker and is rejected with [`Transition::Opened`].
    /// - Forced open: rejected.
    ///
    /// In shadow mode every rejection is returned as a permit instead (see
    /// [`Permit::shadow_rejection`]).
    ///
    /// # Errors
    ///
    /// [`Rejected`], with its reason and, in the open state, the time until the open period ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{Nanos, breaker::{BreakerConfig, CountBreaker}};
    /// let b = CountBreaker::<8>::new(BreakerConfig::DEFAULT).unwrap();
    /// let p = b.try_acquire(Nanos::ZERO).unwrap();
    /// assert!(!p.is_probe());
    /// p.ignore();
    /// ```
    pub fn try_acquire(&self, now: Nanos) -> Result<Permit<'_, W, C>, Rejected> {
        self.acquire(|| now, || self.config.active())
    }

    /// [`try_acquire`](Self::try_acquire) at `clock`'s time, read only when the decision needs
    /// it: a closed, metrics-only, disabled or forced-open breaker decides without reading the
    /// clock (one atomic load in all); an open or half-open one reads it once.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{ManualClock, Nanos, breaker::{BreakerConfig, CountBreaker}};
    /// let b = CountBreaker::<8>::new(BreakerConfig::DEFAULT).unwrap();
    /// let clock = ManualClock::new(Nanos::ZERO);
    /// b.try_acquire_clocked(&clock).unwrap().ignore();
    /// ```
    pub fn try_acquire_clocked<K: Clock + ?Sized>(
        &self,
        clock: &K,
    ) -> Result<Permit<'_, W, C>, Rejected> {
        self.acquire(|| clock.now(), || self.config.active())
    }

    /// The body of every admission: `read` gives the time and `pick` the configuration, each
    /// called at most once, and only when the state needs it (a closed breaker calls neither).
    ///
    /// Inlined into the caller: a closed breaker's admission is the load, a test and the permit
    /// in registers; every other state continues out of line in [`acquire_other`].
    #[inline]
    pub(crate) fn acquire<'s>(
        &'s self,
        read: impl Fn() -> Nanos,
        pick: impl Fn() -> &'s BreakerConfig,
    ) -> Result<Permit<'s, W, C>, Rejected> {
        // Acquire: pairs with the Release half of every transition's compare-and-swap, so that a
        // caller that sees a generation also sees what its transition did before it (the window
        // and failure count emptied on entering Closed).
        let word = self.state.load(Ordering::Acquire);
        // A closed breaker admits with one load and reads nothing else.
        match tracked_admission(word) {
            Some(generation) => {
                Ok(self.permit(u64::from(generation), Kind::Tracked, Transition::None))
            }
            None => self.acquire_other(word, read, pick),
        }
    }

    /// An admission in any state but closed and metrics-only, from the state word `word`.
    #[inline(never)]
    fn acquire_other<'s>(
        &'s self,
        word: u64,
        read: impl Fn() -> Nanos,
        pick: impl Fn() -> &'s BreakerConfig,
    ) -> Result<Permit<'s, W, C>, Rejected> {
        // An open breaker whose period has not ended rejects with the one load already made and
        // one reading of the time, before anything else is set up.
        match STATE.get(word) {
            OPEN => {
                let (end, now) = (tick_time(TIME.get(word)), read());
                if now < end {
                    let after = Some(end.saturating_sub(now));
                    self.reject(GENERATION.get(word), RejectReason::Open, after, Transition::None)
                } else {
                    self.acquire_from(word, Some(now), read, pick)
                }
            }
            _ => self.acquire_from(word, None, read, pick),
        }
    }

    /// The rest of an admission, from the state word `word` already loaded, and the time if it
    /// was already read.
    fn acquire_from<'s>(
        &'s self,
        mut word: u64,
        mut cached: Option<Nanos>,
        read: impl Fn() -> Nanos,
        pick: impl Fn() -> &'s BreakerConfig,
    ) -> Result<Permit<'s, W, C>, Rejected> {
        let mut now = || *cached.get_or_insert_with(&read);
        // One configuration per decision: the end of an open period and a probe timeout found by
        // the same call use the same one.
        let mut picked = None;
        let mut cfg = || *picked.get_or_insert_with(&pick);
        let mut transition = Transition::None;
        // A probe word whose tag looked newer than the state's generation although the state had
        // not moved: a word left by a period 2^12 or more generations ago (see `admit_probe`).
        let mut wrapped = None;
        loop {
            let generation = GENERATION.get(word);
            match STATE.get(word) {
                CLOSED | METRICS_ONLY => {
                    return Ok(self.permit(generation, Kind::Tracked, transition));
                }
                // Codes 6 and 7 are never stored; reading one would be a bug, and admitting
                // untracked is the failure that harms no caller.
                DISABLED | 6..=7 => {
                    return Ok(self.permit(generation, Kind::Untracked, transition));
                }
                FORCED_OPEN => {
                    return self.reject(generation, RejectReason::ForcedOpen, None, transition);
                }
                OPEN => {
                    let end = tick_time(TIME.get(word));
                    if now() < end {
                        let after = Some(end.saturating_sub(now()));
                        return self.reject(generation, RejectReason::Open, after, transition);
                    }
                    let deadline = ceil_tick(now().saturating_add(cfg().probe_timeout).as_u64());
                    let next = next_word(word, HALF_OPEN, TRIPS.get(word), deadline);
                    match self.cas(word, next) {
                        Ok(()) => {
                            transition = Transition::HalfOpened;
                            word = next;
                        }
                        Err(actual) => word = actual,
                    }
                }
                HALF_OPEN => {
                    if now() >= tick_time(TIME.get(word)) {
                        // The half-open period timed out: an unreported probe counts as failed.
                        match self.trip(word, now(), cfg()) {
                            Ok(next) => {
                                let end = tick_time(TIME.get(next));
                                let after = Some(end.saturating_sub(now()));
                                let g = GENERATION.get(next);
                                return self.reject(
                                    g,
                                    RejectReason::Open,
                                    after,
                                    Transition::Opened,
                                );
                            }
                            Err(actual) => {
                                word = actual;
                                continue;
                            }
                        }
                    }
                    match self.admit_probe(generation, wrapped) {
                        ProbeAdmission::Admitted => {
                            return Ok(self.permit(generation, Kind::Probe, transition));
                        }
                        ProbeAdmission::Full => {
                            return self.reject(
                                generation,
                                RejectReason::HalfOpenFull,
                                None,
                                transition,
                            );
                        }
                        // The probe word holds a later period's tag: either the state moved on
                        // (reload it), or, if it did not, the tag wrapped around from long ago.
                        ProbeAdmission::Stale(probe_word) => {
                            let fresh = self.state.load(Ordering::Acquire);
                            if fresh == word {
                                wrapped = Some(probe_word);
                            } else {
                                word = fresh;
                                wrapped = None;
                            }
                        }
                    }
                }
                _ => return Ok(self.permit(generation, Kind::Untracked, transition)),
            }
        }
    }

    /// Records the outcome of the call admitted by `permit`, observed at `now`.
    ///
    /// # Semantics
    ///
    /// The outcome counts only if the breaker is still in the permit's generation (otherwise the
    /// result has `counted: false` and nothing changes).
    ///
    /// - Closed: the outcome enters the window and the failure count (a failure adds one, a
    ///   success resets it); then the trip rules are checked, and if one is reached the breaker
    ///   opens ([`Transition::Opened`]). A success can trip: through the slow-call rate, or by
    ///   bringing the window to `min_calls`.
    /// - Metrics-only: recorded the same way; never trips.
    /// - Half-open (a probe): a failure (or a slow call, when a slow-rate rule is on) reopens; a
    ///   success counts, and the `successes_to_close`-th closes ([`Transition::Closed`]),
    ///   emptying the window and the failure count. With
    ///   [`BreakerConfig::half_open_by_rate`], every outcome counts and the report that completes
    ///   `half_open_probes` reports reopens or closes by the rates.
    ///
    /// A permit of another breaker is not counted (it is released on its own breaker).
    pub fn record(&self, permit: Permit<'_, W, C>, outcome: Outcome, now: Nanos) -> Recorded {
        if core::ptr::eq(permit.breaker, self) {
            permit.record(outcome, now)
        } else {
            drop(permit);
            Recorded::IGNORED
        }
    }

    /// Records the outcome of the call a [`PermitToken`] stands for, observed at `now`.
    ///
    /// # Semantics
    ///
    /// As [`record`](Self::record) for the permit the token was made from: counted only if the
    /// breaker is still in the token's generation. A token of another breaker is not recognised
    /// as such (it holds no reference): it counts here if its generation happens to match, so
    /// keep each token with its breaker.
    pub fn record_token(&self, token: PermitToken, outcome: Outcome, now: Nanos) -> Recorded {
        self.record_token_weighted(token, outcome, Weight::ONE, now)
    }

    /// [`record_token`](Self::record_token) with a [`Weight`].
    pub fn record_token_weighted(
        &self,
        token: PermitToken,
        outcome: Outcome,
        weight: Weight,
        now: Nanos,
    ) -> Recorded {
        self.apply(u64::from(token.generation), token.permit_kind(), outcome, weight, now, || {
            self.config.active()
        })
    }

    /// [`record_token_weighted`](Self::record_token_weighted) deciding with the configuration
    /// `pick` returns (called at most once, and only if the outcome counts).
    pub(crate) fn record_token_picked<'s>(
        &'s self,
        token: PermitToken,
        outcome: Outcome,
        weight: Weight,
        now: Nanos,
        pick: impl FnOnce() -> &'s BreakerConfig,
    ) -> Recorded {
        self.apply(u64::from(token.generation), token.permit_kind(), outcome, weight, now, pick)
    }

    /// [`record_token_weighted`](Self::record_token_weighted) up to the transition it may
    /// cause: a tracked outcome of the current closed (or metrics-only) period enters the window
    /// and the consecutive-failure count, and the trip rules are checked. If one is reached, or
    /// the outcome is a half-open probe's, the rest is left to [`settle`](Self::settle), which
    /// makes the transition ([`Counted::recorded`] says whether anything is left).
    ///
    /// `settle(count_token(t, o, w, now), now)` is `record_token_weighted(t, o, w, now)`. The
    /// split is for callers that run the two parts in different frames: the C ABI counts before
    /// its unwinding boundary (a few loads and read-modify-writes) and settles inside it.
    ///
    /// ```
    /// use portcullis::Nanos;
    /// use portcullis::breaker::{BreakerConfig, CountBreaker, Transition, Weight};
    /// use portcullis::window::Outcome;
    /// let config = BreakerConfig { consecutive_failures: Some(2), ..BreakerConfig::DEFAULT };
    /// let b = CountBreaker::<8>::new(config).unwrap();
    /// let first = b.count_token(b.admit_tracked().unwrap(), Outcome::Failure, Weight::ONE, Nanos::ZERO);
    /// assert!(first.recorded().is_some_and(|r| r.counted), "counted; no rule reached");
    /// let second = b.count_token(b.admit_tracked().unwrap(), Outcome::Failure, Weight::ONE, Nanos::ZERO);
    /// assert_eq!(second.recorded(), None, "a rule is reached: the trip is left to settle");
    /// assert!(b.admit_tracked().is_some(), "still closed");
    /// assert_eq!(b.settle(second, Nanos::ZERO).transition, Transition::Opened);
    /// ```
    #[inline]
    pub fn count_token(
        &self,
        token: PermitToken,
        outcome: Outcome,
        weight: Weight,
        now: Nanos,
    ) -> Counted<'_> {
        let generation = u64::from(token.generation);
        Counted(match token.permit_kind() {
            Kind::Tracked => {
                match self.count_tracked(generation, outcome, weight, now, || self.config.active())
                {
                    Ok(recorded) => Pending::Done(recorded),
                    Err(due) => Pending::Trip(due),
                }
            }
            Kind::Probe => Pending::Probe { generation, outcome },
            Kind::Untracked | Kind::Shadow(_) => Pending::Done(Recorded::IGNORED),
        })
    }

    /// Makes the transition an outcome counted by [`count_token`](Self::count_token) calls
    /// for, at `now`, and returns what the whole record did.
    pub fn settle(&self, counted: Counted<'_>, now: Nanos) -> Recorded {
        match counted.0 {
            Pending::Done(recorded) => recorded,
            Pending::Trip(due) => self.trip_counted(due, now),
            Pending::Probe { generation, outcome } => {
                self.record_probe(generation, outcome, now, || self.config.active())
            }
        }
    }

    /// Releases the call a [`PermitToken`] stands for without an outcome: a half-open probe's
    /// place is freed (if its period is still the current one) and nothing is counted.
    pub fn ignore_token(&self, token: PermitToken) {
        if token.is_probe() {
            self.release_probe(u64::from(token.generation));
        }
    }

    /// Runs `f` if the breaker admits it, and records its outcome.
    ///
    /// `clock` is read before and after the call; an `Err` is a failure, and a call longer than
    /// [`BreakerConfig::slow_call_duration`] is slow (see [`classify`](Self::classify)). If `f`
    /// panics, the permit is released without an outcome. The transition an outcome causes is
    /// visible in [`snapshot`](Self::snapshot); use [`try_acquire`](Self::try_acquire) and
    /// [`Permit::record`] to receive it.
    ///
    /// # Errors
    ///
    /// [`Rejected`] if the breaker did not admit the call (`f` did not run).
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{ManualClock, Nanos, breaker::{BreakerConfig, CountBreaker}};
    /// let clock = ManualClock::new(Nanos::ZERO);
    /// let b = CountBreaker::<8>::new(BreakerConfig::DEFAULT).unwrap();
    /// let r: Result<Result<u32, &str>, _> = b.call(&clock, || Ok(7));
    /// assert_eq!(r, Ok(Ok(7)));
    /// assert_eq!(b.snapshot(Nanos::ZERO).counts.calls, 1);
    /// ```
    pub fn call<K, T, E>(
        &self,
        clock: &K,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<Result<T, E>, Rejected>
    where
        K: Clock + ?Sized,
    {
        let start = clock.now();
        let permit = self.try_acquire(start)?;
        let result = f();
        let end = clock.now();
        let outcome = self.classify(result.is_err(), end.saturating_sub(start));
        let _ = permit.record(outcome, end);
        Ok(result)
    }

    /// The [`Outcome`] of a call that `failed` or not and took `elapsed`: slow when
    /// [`BreakerConfig::slow_call_duration`] is set and `elapsed` is strictly longer.
    #[must_use]
    pub fn classify(&self, failed: bool, elapsed: Nanos) -> Outcome {
        let slow = match self.config.active().slow_call_duration {
            Some(limit) => elapsed > limit,
            None => false,
        };
        Outcome::from_parts(failed, slow)
    }

    /// The time until the open period ends, at `now`: `Some` (zero once it has ended) in the
    /// open state, `None` otherwise. One load.
    #[must_use]
    pub fn open_remaining(&self, now: Nanos) -> Option<Nanos> {
        let word = self.state.load(Ordering::Acquire);
        if STATE.get(word) == OPEN {
            Some(tick_time(TIME.get(word)).saturating_sub(now))
        } else {
            None
        }
    }

    /// What the breaker holds at `now` (see [`Snapshot`]).
    #[must_use]
    pub fn snapshot(&self, now: Nanos) -> Snapshot {
        let word = self.state.load(Ordering::Acquire);
        let generation = GENERATION.get(word);
        let state = State::from_code(STATE.get(word));
        let probes = if state == State::HalfOpen {
            // Relaxed: see `admit_probe`.
            let p = self.probes.load(Ordering::Relaxed);
            if P_TAG.get(p) == generation { p } else { 0 }
        } else {
            0
        };
        let counts = self.window.counts(now);
        #[allow(clippy::cast_possible_truncation, reason = "fields of 13, 4 and 16 bits")]
        Snapshot {
            state,
            generation: generation as u32,
            counts,
            failure_rate_ppm: counts.failure_rate_ppm(),
            slow_rate_ppm: counts.slow_rate_ppm(),
            // Relaxed counters: statistics, ordered with nothing.
            consecutive_failures: self.consecutive.load(Ordering::Relaxed),
            consecutive_trips: TRIPS.get(word) as u32,
            probes_admitted: P_ADMITTED.get(probes) as u32,
            probe_successes: P_SUCCESSES.get(probes) as u32,
            probe_failures: P_FAILURES.get(probes) as u32,
            times_tripped: self.tripped.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            open_remaining: if state == State::Open {
                Some(tick_time(TIME.get(word)).saturating_sub(now))
            } else {
                None
            },
            profile: u32::try_from(self.config.active_index()).unwrap_or(u32::MAX),
        }
    }

    /// Forces the breaker open until another operator transition; returns the state it replaced.
    ///
    /// One read-modify-write of the state word: every caller sees the breaker either before or
    /// after it, and permits admitted before it become stale (a new generation).
    pub fn force_open(&self) -> State {
        self.operate(FORCED_OPEN, false)
    }

    /// Closes the breaker, emptying the window and the failure count; returns the state it
    /// replaced.
    pub fn force_close(&self) -> State {
        self.operate(CLOSED, true)
    }

    /// Disables the breaker: every call is admitted, nothing is recorded. Returns the state it
    /// replaced.
    pub fn disable(&self) -> State {
        self.operate(DISABLED, false)
    }

    /// Switches to metrics-only: every call is admitted and recorded, the breaker never trips.
    /// Empties the window and the failure count; returns the state it replaced.
    pub fn metrics_only(&self) -> State {
        self.operate(METRICS_ONLY, true)
    }

    /// Closes the breaker and clears everything it counted: the window, the failure count, the
    /// trip and rejection counters. Returns the state it replaced.
    pub fn reset(&self) -> State {
        self.tripped.store(0, Ordering::Relaxed);
        self.rejected.store(0, Ordering::Relaxed);
        self.operate(CLOSED, true)
    }

    /// A permit of this breaker.
    const fn permit(
        &self,
        generation: u64,
        kind: Kind,
        transition: Transition,
    ) -> Permit<'_, W, C> {
        Permit { breaker: self, generation, kind, transition }
    }

    /// Rejects, or in shadow mode admits with the rejection attached. Writes nothing unless
    /// rejections are counted.
    fn reject(
        &self,
        generation: u64,
        reason: RejectReason,
        retry_after: Option<Nanos>,
        transition: Transition,
    ) -> Result<Permit<'_, W, C>, Rejected> {
        let rejected = Rejected { reason, retry_after, transition };
        // Shared fields: a rejection loads no profile index.
        let shared = self.config.shared();
        if shared.count_rejections {
            // Relaxed: a statistic.
            self.rejected.fetch_add(1, Ordering::Relaxed);
        }
        if shared.shadow {
            Ok(self.permit(generation, Kind::Shadow(rejected), transition))
        } else {
            Err(rejected)
        }
    }

    /// The one compare-and-swap of a transition.
    fn cas(&self, current: u64, next: u64) -> Result<(), u64> {
        // AcqRel: Release publishes what the transitioning thread did before (emptying the
        // window on entering Closed, the probe count that closed) to every thread that acquires
        // the new word; Acquire on both outcomes so that a thread that goes on from the word it
        // read sees the same of the transition that produced it. Strong, not weak: a spurious
        // failure would redraw the jitter and make single-threaded runs irreproducible.
        self.state.compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire).map(|_| ())
    }

    /// Opens the breaker from `word` (closed or half-open) at `now`; returns the new word, or the
    /// word found if another transition came first.
    fn trip(&self, word: u64, now: Nanos, cfg: &BreakerConfig) -> Result<u64, u64> {
        let trips = if TRIPS.get(word) < TRIPS.max() { TRIPS.get(word) + 1 } else { TRIPS.max() };
        let end = now.as_u64().saturating_add(self.open_duration(trips, cfg));
        let next = next_word(word, OPEN, trips, ceil_tick(end));
        self.cas(word, next)?;
        // Relaxed: a statistic; the transition itself is published by the CAS above.
        self.tripped.fetch_add(1, Ordering::Relaxed);
        Ok(next)
    }

    /// The open period after the `trips`-th consecutive trip (`trips >= 1`): the base doubled
    /// `trips - 1` times, capped, plus jitter.
    fn open_duration(&self, trips: u64, cfg: &BreakerConfig) -> u64 {
        let base = cfg.open_duration.as_u64();
        let max = cfg.max_open_duration.as_u64();
        let shift = trips.saturating_sub(1);
        // base << shift <= max exactly when base <= max >> shift.
        let d = if shift < 64 && base <= max >> shift { base << shift } else { max };
        if cfg.jitter_ppm == 0 {
            return d;
        }
        let span = jitter_span(d, cfg.jitter_ppm);
        d.saturating_add(self.rng.below(span.saturating_add(1)))
    }

    /// Takes a probe place in half-open generation `generation`.
    ///
    /// A word with another tag belongs to an older period (it counts as empty) or to a newer one
    /// (`Stale`: the caller's view of the state is out of date). Tags are 13 bits compared
    /// modulo 2¹³, so a tag left 2¹² or more generations ago looks newer; the caller passes the
    /// word back as `wrapped` once it has seen the state unchanged, and while the probe word
    /// still holds exactly that value it counts as empty.
    fn admit_probe(&self, generation: u64, wrapped: Option<u64>) -> ProbeAdmission {
        // Relaxed throughout: the probe word publishes nothing but itself, and every update is a
        // read-modify-write, which reads the latest value in the word's modification order; so
        // the admitted count of one tag is exact, and the limit holds, in any interleaving.
        // A shared field: half-open admission loads no profile index.
        let limit = u64::from(self.config.shared().half_open_probes);
        let mut p = self.probes.load(Ordering::Relaxed);
        loop {
            let tag = P_TAG.get(p);
            let current = if tag == generation {
                p
            } else if tag_is_newer(tag, generation) && wrapped != Some(p) {
                return ProbeAdmission::Stale(p);
            } else {
                // An older period's word: this period starts from zero.
                P_TAG.place(generation)
            };
            if P_ADMITTED.get(current) >= limit {
                return ProbeAdmission::Full;
            }
            // Cannot carry: admitted < limit <= P_ADMITTED.max().
            let next = current + P_ADMITTED.one();
            match self.probes.compare_exchange_weak(p, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return ProbeAdmission::Admitted,
                Err(actual) => p = actual,
            }
        }
    }

    /// Frees the place of a probe of `generation` that will not report.
    fn release_probe(&self, generation: u64) {
        // Relaxed: see `admit_probe`.
        let mut p = self.probes.load(Ordering::Relaxed);
        while P_TAG.get(p) == generation && P_ADMITTED.get(p) > 0 {
            let next = p - P_ADMITTED.one();
            match self.probes.compare_exchange_weak(p, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(actual) => p = actual,
            }
        }
    }

    /// Counts one probe outcome of `generation`; returns the probe word with it, or `None` if
    /// the word belongs to a later period.
    fn count_probe(&self, generation: u64, outcome: Outcome) -> Option<u64> {
        // Relaxed: see `admit_probe`.
        let mut p = self.probes.load(Ordering::Relaxed);
        loop {
            if P_TAG.get(p) != generation {
                return None;
            }
            let bump = |w: u64, f: Field| if f.get(w) < f.max() { w + f.one() } else { w };
            let mut next =
                if outcome.is_failure() { bump(p, P_FAILURES) } else { bump(p, P_SUCCESSES) };
            if outcome.is_slow() {
                next = bump(next, P_SLOW);
            }
            match self.probes.compare_exchange_weak(p, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Some(next),
                Err(actual) => p = actual,
            }
        }
    }

    /// Applies an outcome of a permit of `generation` admitted as `kind`, deciding with the
    /// configuration `pick` returns (called once, and only if the outcome counts).
    fn apply<'s>(
        &'s self,
        generation: u64,
        kind: Kind,
        outcome: Outcome,
        weight: Weight,
        now: Nanos,
        pick: impl FnOnce() -> &'s BreakerConfig,
    ) -> Recorded {
        match kind {
            Kind::Tracked => match self.count_tracked(generation, outcome, weight, now, pick) {
                Ok(recorded) => recorded,
                Err(due) => self.trip_counted(due, now),
            },
            Kind::Probe => self.record_probe(generation, outcome, now, pick),
            Kind::Untracked | Kind::Shadow(_) => Recorded::IGNORED,
        }
    }

    /// Counts a tracked outcome of `generation` and checks the trip rules of the configuration
    /// `pick` returns (called once, and only if the outcome counts in a closed period).
    ///
    /// Inlined, as are the window's `record` and `counts`, so that the C ABI's copy of this path
    /// calls nothing that its no-panic proof cannot see into (`scripts/no-panic-check.sh`).
    #[inline]
    fn count_tracked<'s>(
        &'s self,
        generation: u64,
        outcome: Outcome,
        weight: Weight,
        now: Nanos,
        pick: impl FnOnce() -> &'s BreakerConfig,
    ) -> Result<Recorded, TripDue<'s>> {
        // Acquire: see `try_acquire`.
        let word = self.state.load(Ordering::Acquire);
        let state = STATE.get(word);
        if GENERATION.get(word) != generation || !(state == CLOSED || state == METRICS_ONLY) {
            return Ok(Recorded::IGNORED);
        }
        for _ in 0..weight.get() {
            self.window.record(outcome, now);
        }
        // Relaxed: the failure count is a statistic each recorder reads back from its own
        // read-modify-write; the trip it may cause is decided by the CAS on the state word.
        let consecutive = if outcome.is_failure() {
            let w = u64::from(weight.get());
            self.consecutive.fetch_add(w, Ordering::Relaxed).saturating_add(w)
        } else {
            // Load first: a healthy breaker's successes then write nothing here.
            if self.consecutive.load(Ordering::Relaxed) != 0 {
                self.consecutive.store(0, Ordering::Relaxed);
            }
            0
        };
        if state == METRICS_ONLY {
            return Ok(Recorded::COUNTED);
        }
        // The one configuration of this decision: the rules it checks and the open period it
        // sets come from the same profile.
        let cfg = pick();
        if self.trip_rule_reached(consecutive, now, cfg) {
            Err(TripDue { word, cfg })
        } else {
            Ok(Recorded::COUNTED)
        }
    }

    /// Trips the breaker because a counted outcome reached a trip rule.
    fn trip_counted(&self, due: TripDue<'_>, now: Nanos) -> Recorded {
        match self.trip(due.word, now, due.cfg) {
            Ok(_) => Recorded { transition: Transition::Opened, counted: true },
            // Another thread tripped first, or an operator moved the state.
            Err(_) => Recorded::COUNTED,
        }
    }

    #[inline]
    fn trip_rule_reached(&self, consecutive: u64, now: Nanos, c: &BreakerConfig) -> bool {
        if c.consecutive_failures.is_some_and(|n| consecutive >= u64::from(n)) {
            return true;
        }
        if c.failure_rate_ppm.is_none() && c.slow_rate_ppm.is_none() {
            return false;
        }
        let counts = self.window.counts(now);
        if counts.calls < u64::from(c.min_calls) {
            return false;
        }
        c.failure_rate_ppm.is_some_and(|r| rate_reached(counts.failures, counts.calls, r))
            || c.slow_rate_ppm.is_some_and(|r| rate_reached(counts.slow, counts.calls, r))
    }

    fn record_probe<'s>(
        &'s self,
        generation: u64,
        outcome: Outcome,
        now: Nanos,
        pick: impl FnOnce() -> &'s BreakerConfig,
    ) -> Recorded {
        // Acquire: see `try_acquire`.
        let word = self.state.load(Ordering::Acquire);
        if GENERATION.get(word) != generation || STATE.get(word) != HALF_OPEN {
            return Recorded::IGNORED;
        }
        let c = pick();
        if c.half_open_by_rate {
            let Some(p) = self.count_probe(generation, outcome) else {
                return Recorded::IGNORED;
            };
            // Exactly one report brings the reported count to `half_open_probes` (each report
            // is one read-modify-write that adds one), so exactly one caller decides.
            let probes = u64::from(c.half_open_probes);
            if P_SUCCESSES.get(p) + P_FAILURES.get(p) != probes {
                return Recorded::COUNTED;
            }
            let reopen =
                c.failure_rate_ppm.is_some_and(|r| rate_reached(P_FAILURES.get(p), probes, r))
                    || c.slow_rate_ppm.is_some_and(|r| rate_reached(P_SLOW.get(p), probes, r));
            return if reopen { self.reopen(word, now, c) } else { self.close(word) };
        }
        if outcome.is_failure() || (outcome.is_slow() && c.slow_rate_ppm.is_some()) {
            return self.reopen(word, now, c);
        }
        let Some(p) = self.count_probe(generation, outcome) else {
            return Recorded::IGNORED;
        };
        // Exactly one probe brings the count to `successes_to_close` (the count only grows, one
        // read-modify-write per success), so exactly one caller empties the window and tries to
        // close; a later success of the same period finds the breaker closed or moved on.
        if P_SUCCESSES.get(p) == u64::from(c.successes_to_close) {
            self.close(word)
        } else {
            Recorded::COUNTED
        }
    }

    /// Reopens the breaker from the half-open `word` because of a counted probe outcome.
    fn reopen(&self, word: u64, now: Nanos, cfg: &BreakerConfig) -> Recorded {
        match self.trip(word, now, cfg) {
            Ok(_) => Recorded { transition: Transition::Opened, counted: true },
            // Another transition came first: the outcome no longer belongs to the period.
            Err(_) => Recorded::IGNORED,
        }
    }

    /// Closes the breaker from the half-open `word` because of a counted probe outcome.
    fn close(&self, word: u64) -> Recorded {
        // Empty the evidence before the CAS publishes Closed, so that no caller of the new
        // generation can see the old window (see `cas`).
        self.window.reset();
        self.consecutive.store(0, Ordering::Relaxed);
        match self.cas(word, next_word(word, CLOSED, 0, 0)) {
            Ok(()) => Recorded { transition: Transition::Closed, counted: true },
            // Another transition came first: the outcome no longer belongs to the period.
            Err(_) => Recorded::IGNORED,
        }
    }

    /// An operator transition to `state`: one read-modify-write of the state word.
    fn operate(&self, state: u64, clear: bool) -> State {
        if clear {
            // Before the transition, so that its Release publishes the emptied window (see `cas`).
            self.window.reset();
            self.consecutive.store(0, Ordering::Relaxed);
        }
        // AcqRel: as `cas`.
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| Some(next_word(w, state, 0, 0)));
        let (Ok(w) | Err(w)) = prev;
        State::from_code(STATE.get(w))
    }
}

/// The result of asking for a probe place.
enum ProbeAdmission {
    Admitted,
    Full,
    /// The probe word holds this value, whose tag is newer than the caller's generation.
    Stale(u64),
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    const T0: Nanos = Nanos::ZERO;

    fn ms(n: u64) -> Nanos {
        Nanos::from_millis(n)
    }

    /// A config with only the consecutive rule, a constant open period of whole ticks, no jitter.
    fn consecutive(n: u32) -> BreakerConfig {
        BreakerConfig {
            consecutive_failures: Some(n),
            open_duration: tick_time(1000),
            max_open_duration: tick_time(1000),
            jitter_ppm: 0,
            probe_timeout: tick_time(100),
            ..BreakerConfig::DEFAULT
        }
    }

    fn fail<W: Window>(b: &Breaker<W>, now: Nanos) -> Recorded {
        b.try_acquire(now).unwrap().record(Outcome::Failure, now)
    }

    fn succeed<W: Window>(b: &Breaker<W>, now: Nanos) -> Recorded {
        b.try_acquire(now).unwrap().record(Outcome::Success, now)
    }

    #[test]
    fn layout_is_the_documented_one() {
        assert_eq!(STATE.mask() | GENERATION.mask() | TRIPS.mask() | TIME.mask(), u64::MAX);
        assert_eq!(GENERATION.max() + 1, u64::from(GENERATIONS));
        assert_eq!(ceil_tick(0), 0);
        assert_eq!(ceil_tick(1), 1);
        assert_eq!(ceil_tick(1 << 20), 1);
        assert_eq!(ceil_tick((1 << 20) + 1), 2);
        assert_eq!(ceil_tick(u64::MAX), TIME.max());
        assert!(tag_is_newer(1, 0));
        assert!(tag_is_newer(0, GENERATION.max()), "wraps");
        assert!(!tag_is_newer(0, 0));
        assert!(!tag_is_newer(0, 1));
    }

    /// A clock that counts its readings.
    struct CountingClock {
        now: Nanos,
        reads: core::cell::Cell<u32>,
    }

    impl Clock for CountingClock {
        fn now(&self) -> Nanos {
            self.reads.set(self.reads.get() + 1);
            self.now
        }
    }

    #[test]
    fn a_clocked_admission_reads_the_clock_only_when_the_state_needs_it() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        let clock = CountingClock { now: T0, reads: core::cell::Cell::new(0) };
        b.try_acquire_clocked(&clock).unwrap().ignore();
        assert_eq!(clock.reads.get(), 0, "closed: no read");
        b.force_open();
        assert!(b.try_acquire_clocked(&clock).is_err());
        assert_eq!(clock.reads.get(), 0, "forced open: no read");
        b.force_close();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let r = b.try_acquire_clocked(&clock).unwrap_err();
        assert_eq!(clock.reads.get(), 1, "open: one read, however often the time is used");
        assert_eq!(r.retry_after(), Some(tick_time(1000)));
        let late = CountingClock { now: tick_time(1000), reads: core::cell::Cell::new(0) };
        let probe = b.try_acquire_clocked(&late).unwrap();
        assert!(probe.is_probe());
        assert_eq!(late.reads.get(), 1, "open to half-open: one read");
        probe.ignore();
    }

    #[test]
    fn a_weighted_outcome_counts_as_that_many_calls() {
        assert_eq!(Weight::new(0), None);
        assert_eq!(Weight::new(Weight::MAX + 1), None);
        let w3 = Weight::new(3).unwrap();
        // Consecutive rule: one failure of weight 3 reaches 3.
        let b = CountBreaker::<8>::new(consecutive(3)).unwrap();
        let r = b.try_acquire(T0).unwrap().record_weighted(Outcome::Failure, w3, T0);
        assert_eq!(r.transition, Transition::Opened);
        // The window holds it three times; a success of any weight resets the streak.
        let b = CountBreaker::<8>::new(consecutive(5)).unwrap();
        let p = b.try_acquire(T0).unwrap();
        assert!(p.record_weighted(Outcome::SlowFailure, w3, T0).counted);
        let s = b.snapshot(T0);
        assert_eq!((s.counts.calls, s.counts.failures, s.counts.slow), (3, 3, 3));
        assert_eq!(s.consecutive_failures, 3);
        let p = b.try_acquire(T0).unwrap();
        assert!(p.record_weighted(Outcome::Success, Weight::new(Weight::MAX).unwrap(), T0).counted);
        let s = b.snapshot(T0);
        assert_eq!((s.counts.calls, s.counts.failures, s.consecutive_failures), (8, 0, 0));
        // A probe is one probe: a weighted failure reopens, a weighted success is one success.
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let probe = b.try_acquire(tick_time(1000)).unwrap();
        assert!(probe.is_probe());
        let r = probe.record_weighted(Outcome::Success, w3, tick_time(1000));
        assert_eq!(r.transition, Transition::Closed);
    }

    #[test]
    fn the_state_word_decodes_to_what_try_acquire_admits() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        // SAFETY: a live breaker's word, read atomically as the binding would.
        let read = || unsafe { (*b.state_word().cast::<AtomicU64>()).load(Ordering::Acquire) };
        let p = b.try_acquire(T0).unwrap();
        assert_eq!(tracked_admission(read()), Some(p.generation()));
        assert_eq!(p.record(Outcome::Failure, T0).transition, Transition::Opened);
        assert_eq!(tracked_admission(read()), None, "open");
        let probe = b.try_acquire(tick_time(1000)).unwrap();
        assert_eq!(tracked_admission(read()), None, "half-open");
        assert_eq!(probe.record(Outcome::Success, tick_time(1000)).transition, Transition::Closed);
        let p = b.try_acquire(tick_time(1000)).unwrap();
        assert_eq!(tracked_admission(read()), Some(p.generation()), "a later generation");
        b.force_open();
        assert_eq!(tracked_admission(read()), None, "forced open");
        b.disable();
        assert_eq!(tracked_admission(read()), None, "disabled: untracked, ask try_acquire");
        b.metrics_only();
        assert!(tracked_admission(read()).is_some(), "metrics-only");
    }

    #[test]
    fn the_nth_consecutive_failure_trips() {
        let b = CountBreaker::<8>::new(consecutive(3)).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::None);
        assert_eq!(fail(&b, T0).transition, Transition::None);
        assert_eq!(b.state(), State::Closed);
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        assert_eq!(b.state(), State::Open);
        let s = b.snapshot(T0);
        assert_eq!((s.times_tripped, s.consecutive_trips, s.generation), (1, 1, 1));
    }

    #[test]
    fn a_success_resets_the_consecutive_count() {
        let b = CountBreaker::<8>::new(consecutive(2)).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::None);
        assert_eq!(b.snapshot(T0).consecutive_failures, 1);
        let slow_ok = b.try_acquire(T0).unwrap().record(Outcome::SlowSuccess, T0);
        assert_eq!(slow_ok.transition, Transition::None);
        assert_eq!(b.snapshot(T0).consecutive_failures, 0);
        assert_eq!(fail(&b, T0).transition, Transition::None);
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
    }

    #[test]
    fn failure_rate_trips_exactly_at_threshold_once_min_calls_reached() {
        let config = BreakerConfig {
            consecutive_failures: None,
            failure_rate_ppm: Some(500_000),
            min_calls: 4,
            ..consecutive(1)
        };
        let b = CountBreaker::<4>::new(config).unwrap();
        // 2 failures out of 3 calls: 66 % but below min_calls.
        assert_eq!(fail(&b, T0).transition, Transition::None);
        assert_eq!(fail(&b, T0).transition, Transition::None);
        assert_eq!(succeed(&b, T0).transition, Transition::None);
        // The 4th call is a success that brings the window to min_calls at exactly 50 %: it trips.
        assert_eq!(succeed(&b, T0).transition, Transition::Opened);
    }

    #[test]
    fn failure_rate_just_below_threshold_does_not_trip() {
        let config = BreakerConfig {
            consecutive_failures: None,
            failure_rate_ppm: Some(500_001),
            min_calls: 4,
            ..consecutive(1)
        };
        let b = CountBreaker::<4>::new(config).unwrap();
        for r in [fail(&b, T0), succeed(&b, T0), fail(&b, T0), succeed(&b, T0)] {
            assert_eq!(r.transition, Transition::None);
        }
        assert_eq!(b.snapshot(T0).failure_rate_ppm, Some(500_000));
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn slow_successes_can_trip() {
        let config = BreakerConfig {
            consecutive_failures: None,
            slow_rate_ppm: Some(1_000_000),
            min_calls: 2,
            ..consecutive(1)
        };
        let b = CountBreaker::<2>::new(config).unwrap();
        let p = b.try_acquire(T0).unwrap();
        assert_eq!(p.record(Outcome::SlowSuccess, T0).transition, Transition::None);
        let p = b.try_acquire(T0).unwrap();
        assert_eq!(p.record(Outcome::SlowSuccess, T0).transition, Transition::Opened);
    }

    #[test]
    fn open_period_ends_at_its_exact_tick() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        let opened_at = Nanos::new(5); // not on a tick: the end rounds up
        assert_eq!(fail(&b, opened_at).transition, Transition::Opened);
        let end = tick_time(1001); // ceil((5 + 1000 ticks) / tick) = 1001
        let just_before = Nanos::new(end.as_u64() - 1);
        let r = b.try_acquire(just_before).unwrap_err();
        assert_eq!(r.reason(), RejectReason::Open);
        assert_eq!(r.retry_after(), Some(Nanos::new(1)));
        assert_eq!(b.open_remaining(just_before), Some(Nanos::new(1)));
        let p = b.try_acquire(end).unwrap();
        assert!(p.is_probe());
        assert_eq!(p.transition(), Transition::HalfOpened);
        assert_eq!(b.state(), State::HalfOpen);
        p.ignore();
    }

    #[test]
    fn closed_admission_writes_nothing() {
        let b = CountBreaker::<8>::new(BreakerConfig { count_rejections: true, ..consecutive(1) })
            .unwrap();
        let words = |b: &CountBreaker<8>| {
            [&b.state, &b.probes, &b.consecutive, &b.tripped, &b.rejected]
                .map(|w| w.load(Ordering::Relaxed))
        };
        let before = words(&b);
        for t in 0..100 {
            let p = b.try_acquire(ms(t)).unwrap();
            assert_eq!(p.transition(), Transition::None);
            drop(p); // a dropped closed-state permit releases nothing
        }
        assert_eq!(words(&b), before);
        assert_eq!(b.snapshot(T0).counts, WindowCounts::default());
    }

    #[test]
    fn rejection_in_open_state_writes_nothing() {
        let config = BreakerConfig { jitter_ppm: 1, seed: 7, ..consecutive(1) };
        let b = CountBreaker::<8>::new(config).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let words = |b: &CountBreaker<8>| {
            [&b.state, &b.probes, &b.consecutive].map(|w| w.load(Ordering::Relaxed))
        };
        let before = words(&b);
        for t in 0..100 {
            assert_eq!(b.try_acquire(ms(t)).unwrap_err().reason(), RejectReason::Open);
        }
        assert_eq!(words(&b), before);
        assert_eq!(b.rejected.load(Ordering::Relaxed), 0);
        assert_eq!(b.tripped.load(Ordering::Relaxed), 1);
        // The trip drew the generator once; the rejections did not draw it.
        let reference = AtomicSplitMix64::new(7);
        let _ = reference.next_u64();
        assert_eq!(b.rng.next_u64(), reference.next_u64());
    }

    #[test]
    fn counted_rejections() {
        let b = CountBreaker::<8>::new(BreakerConfig { count_rejections: true, ..consecutive(1) })
            .unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        assert!(b.try_acquire(T0).is_err());
        assert!(b.try_acquire(T0).is_err());
        assert_eq!(b.snapshot(T0).rejected, 2);
        let _ = b.reset();
        assert_eq!(b.snapshot(T0).rejected, 0);
        assert_eq!(b.snapshot(T0).times_tripped, 0);
    }

    #[test]
    fn the_kth_probe_success_closes_and_empties_the_window() {
        let config = BreakerConfig { half_open_probes: 3, successes_to_close: 2, ..consecutive(1) };
        let b = CountBreaker::<8>::new(config).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let t = tick_time(1000);
        let p1 = b.try_acquire(t).unwrap();
        let p2 = b.try_acquire(t).unwrap();
        let p3 = b.try_acquire(t).unwrap();
        assert_eq!(b.try_acquire(t).unwrap_err().reason(), RejectReason::HalfOpenFull);
        assert_eq!(b.snapshot(t).probes_admitted, 3);
        let r1 = p1.record(Outcome::Success, t);
        assert_eq!(r1, Recorded { transition: Transition::None, counted: true });
        assert_eq!(b.snapshot(t).probe_successes, 1);
        assert_eq!(p2.record(Outcome::Success, t).transition, Transition::Closed);
        let s = b.snapshot(t);
        assert_eq!(s.state, State::Closed);
        assert_eq!(s.counts, WindowCounts::default());
        assert_eq!(s.consecutive_trips, 0);
        // The third probe reports late: ignored.
        assert_eq!(p3.record(Outcome::Failure, t), Recorded::IGNORED);
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn a_failed_probe_reopens_with_a_doubled_period() {
        let config = BreakerConfig { max_open_duration: tick_time(10_000), ..consecutive(1) };
        let b = CountBreaker::<8>::new(config).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let t = tick_time(1000);
        let p = b.try_acquire(t).unwrap();
        assert_eq!(p.record(Outcome::Failure, t).transition, Transition::Opened);
        assert_eq!(b.open_remaining(t), Some(tick_time(2000)));
        let s = b.snapshot(t);
        assert_eq!((s.consecutive_trips, s.times_tripped), (2, 2));
        // Third trip: 4000 ticks; fifth: capped at 10 000.
        let t = tick_time(3000);
        let p = b.try_acquire(t).unwrap();
        assert_eq!(p.record(Outcome::Failure, t).transition, Transition::Opened);
        assert_eq!(b.open_remaining(t), Some(tick_time(4000)));
        let t = tick_time(7000);
        let p = b.try_acquire(t).unwrap();
        assert_eq!(p.record(Outcome::Failure, t).transition, Transition::Opened);
        let t = tick_time(15_000);
        let p = b.try_acquire(t).unwrap();
        assert_eq!(p.record(Outcome::Failure, t).transition, Transition::Opened);
        assert_eq!(b.open_remaining(t), Some(tick_time(10_000)));
    }

    #[test]
    fn a_slow_probe_reopens_only_with_a_slow_rule() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let t = tick_time(1000);
        let p = b.try_acquire(t).unwrap();
        assert_eq!(p.record(Outcome::SlowSuccess, t).transition, Transition::Closed);

        let config = BreakerConfig { slow_rate_ppm: Some(900_000), min_calls: 8, ..consecutive(1) };
        let b = CountBreaker::<8>::new(config).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let p = b.try_acquire(t).unwrap();
        assert_eq!(p.record(Outcome::SlowSuccess, t).transition, Transition::Opened);
    }

    fn by_rate(failure: Option<u32>, slow: Option<u32>) -> BreakerConfig {
        BreakerConfig {
            failure_rate_ppm: failure,
            slow_rate_ppm: slow,
            min_calls: 8,
            half_open_probes: 4,
            successes_to_close: 4,
            half_open_by_rate: true,
            ..consecutive(1)
        }
    }

    /// Trips `b` at 0 and takes `n` probes at the end of the open period.
    fn probes<W: Window>(b: &Breaker<W>, n: usize) -> [Option<Permit<'_, W>>; 4] {
        assert_eq!(fail(b, T0).transition, Transition::Opened);
        let t = tick_time(1000);
        core::array::from_fn(|i| (i < n).then(|| b.try_acquire(t).unwrap()))
    }

    #[test]
    fn half_open_by_rate_closes_below_the_threshold_at_the_last_report() {
        let b = CountBreaker::<8>::new(by_rate(Some(500_000), None)).unwrap();
        let [p1, p2, p3, p4] = probes(&b, 4).map(Option::unwrap);
        let t = tick_time(1000);
        assert_eq!(b.try_acquire(t).unwrap_err().reason(), RejectReason::HalfOpenFull);
        assert_eq!(p1.record(Outcome::Success, t), Recorded::COUNTED);
        assert_eq!(p2.record(Outcome::Failure, t), Recorded::COUNTED, "a failure does not reopen");
        assert_eq!(p3.record(Outcome::Success, t), Recorded::COUNTED);
        let s = b.snapshot(t);
        assert_eq!((s.state, s.probe_successes, s.probe_failures), (State::HalfOpen, 2, 1));
        // 1 failure in 4: 25 % < 50 %.
        assert_eq!(p4.record(Outcome::Success, t).transition, Transition::Closed);
    }

    #[test]
    fn half_open_by_rate_reopens_at_the_threshold_at_the_last_report() {
        let b = CountBreaker::<8>::new(by_rate(Some(500_000), None)).unwrap();
        let [p1, p2, p3, p4] = probes(&b, 4).map(Option::unwrap);
        let t = tick_time(1000);
        for (p, o) in [(p1, Outcome::Failure), (p2, Outcome::Success), (p3, Outcome::Failure)] {
            assert_eq!(p.record(o, t), Recorded::COUNTED);
        }
        // 2 failures in 4: 50 % >= 50 %, even though the last probe succeeded.
        assert_eq!(p4.record(Outcome::Success, t).transition, Transition::Opened);
        assert_eq!(b.snapshot(t).consecutive_trips, 2);
    }

    #[test]
    fn half_open_by_rate_judges_slow_probes() {
        let b = CountBreaker::<8>::new(by_rate(None, Some(500_000))).unwrap();
        let [p1, p2, p3, p4] = probes(&b, 4).map(Option::unwrap);
        let t = tick_time(1000);
        for (p, o) in [(p1, Outcome::SlowSuccess), (p2, Outcome::Failure), (p3, Outcome::Success)] {
            assert_eq!(p.record(o, t), Recorded::COUNTED);
        }
        // Failures are not judged without a failure-rate rule; 2 slow in 4 reach 50 %.
        assert_eq!(p4.record(Outcome::SlowFailure, t).transition, Transition::Opened);
    }

    #[test]
    fn half_open_by_rate_waits_for_a_released_place_to_report() {
        let b = CountBreaker::<8>::new(by_rate(Some(1_000_000), None)).unwrap();
        let [p1, p2, p3, p4] = probes(&b, 4).map(Option::unwrap);
        let t = tick_time(1000);
        for p in [p1, p2, p3] {
            assert_eq!(p.record(Outcome::Success, t), Recorded::COUNTED);
        }
        p4.ignore();
        assert_eq!(b.state(), State::HalfOpen);
        let p5 = b.try_acquire(t).unwrap();
        assert_eq!(p5.record(Outcome::Success, t).transition, Transition::Closed);
    }

    #[test]
    fn probe_timeout_reopens_at_its_exact_tick() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let t = Nanos::new(tick_time(1000).as_u64() + 3);
        let p = b.try_acquire(t).unwrap();
        // Deadline: ceil((t + 100 ticks) / tick) = 1101 ticks.
        let deadline = tick_time(1101);
        let before = Nanos::new(deadline.as_u64() - 1);
        assert_eq!(b.try_acquire(before).unwrap_err().reason(), RejectReason::HalfOpenFull);
        let r = b.try_acquire(deadline).unwrap_err();
        assert_eq!((r.reason(), r.transition()), (RejectReason::Open, Transition::Opened));
        assert_eq!(r.retry_after(), Some(tick_time(1000)));
        // The timed-out probe reports: ignored.
        assert_eq!(p.record(Outcome::Success, deadline), Recorded::IGNORED);
        assert_eq!(b.state(), State::Open);
    }

    #[test]
    fn a_wrapped_probe_tag_does_not_block_admission() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        // Plant the word of a period 8191 generations back (tag 3, which modulo 2^13 looks one
        // generation newer than the half-open generation 2 the next admission starts), with all
        // its places taken. Without the wrap rule, admission would retry forever.
        let old = P_TAG.place((2 + 1) & GENERATION.max()) | P_ADMITTED.place(1);
        b.probes.store(old, Ordering::Relaxed);
        let t = tick_time(1000);
        let p = b.try_acquire(t).unwrap();
        assert!(p.is_probe() && p.generation() == 2);
        assert_eq!(b.snapshot(t).probes_admitted, 1);
        assert_eq!(p.record(Outcome::Success, t).transition, Transition::Closed);
    }

    #[test]
    fn an_ignored_probe_frees_its_place() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let t = tick_time(1000);
        let p = b.try_acquire(t).unwrap();
        assert!(b.try_acquire(t).is_err());
        p.ignore();
        let p = b.try_acquire(t).unwrap();
        drop(p); // dropping is ignoring
        let p = b.try_acquire(t).unwrap();
        assert_eq!(p.record(Outcome::Success, t).transition, Transition::Closed);
    }

    #[test]
    fn late_outcomes_of_an_old_generation_are_ignored() {
        let b = CountBreaker::<8>::new(consecutive(2)).unwrap();
        let old = b.try_acquire(T0).unwrap();
        assert_eq!(old.generation(), 0);
        assert_eq!(fail(&b, T0).transition, Transition::None);
        assert_eq!(b.force_close(), State::Closed);
        assert_eq!(old.record(Outcome::Failure, T0), Recorded::IGNORED);
        assert_eq!(b.snapshot(T0).counts.calls, 0, "force_close emptied the window");
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn operator_transitions() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        assert_eq!(b.force_open(), State::Closed);
        let r = b.try_acquire(T0).unwrap_err();
        assert_eq!((r.reason(), r.retry_after()), (RejectReason::ForcedOpen, None));
        assert_eq!(b.try_acquire(Nanos::MAX).unwrap_err().reason(), RejectReason::ForcedOpen);
        assert_eq!(b.open_remaining(T0), None);

        assert_eq!(b.disable(), State::ForcedOpen);
        let p = b.try_acquire(T0).unwrap();
        assert_eq!(p.record(Outcome::Failure, T0), Recorded::IGNORED);
        assert_eq!(b.snapshot(T0).counts.calls, 0);

        assert_eq!(b.metrics_only(), State::Disabled);
        for _ in 0..5 {
            assert_eq!(fail(&b, T0), Recorded::COUNTED);
        }
        let s = b.snapshot(T0);
        assert_eq!(
            (s.state, s.counts.failures, s.consecutive_failures),
            (State::MetricsOnly, 5, 5)
        );

        assert_eq!(b.reset(), State::MetricsOnly);
        let s = b.snapshot(T0);
        assert_eq!((s.state, s.counts.calls, s.consecutive_failures), (State::Closed, 0, 0));
        assert_eq!(s.generation, 4);
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
    }

    #[test]
    fn shadow_mode_admits_and_reports_its_decision() {
        let config = BreakerConfig { shadow: true, count_rejections: true, ..consecutive(1) };
        let b = CountBreaker::<8>::new(config).unwrap();
        assert_eq!(fail(&b, T0).transition, Transition::Opened);
        let p = b.try_acquire(T0).unwrap();
        let would = p.shadow_rejection().unwrap();
        assert_eq!(would.reason(), RejectReason::Open);
        assert_eq!(would.retry_after(), Some(tick_time(1000)));
        assert_eq!(p.record(Outcome::Failure, T0), Recorded::IGNORED);
        assert_eq!(b.snapshot(T0).rejected, 1);
        // The state machine still moves on as if the call had been rejected.
        let t = tick_time(1000);
        let probe = b.try_acquire(t).unwrap();
        assert!(probe.is_probe() && probe.shadow_rejection().is_none());
        assert_eq!(
            b.try_acquire(t).unwrap().shadow_rejection().unwrap().reason(),
            RejectReason::HalfOpenFull
        );
        assert_eq!(probe.record(Outcome::Success, t).transition, Transition::Closed);
    }

    #[test]
    fn jitter_is_seeded_and_bounded() {
        let config = BreakerConfig { jitter_ppm: 500_000, seed: 99, ..consecutive(1) };
        let a = CountBreaker::<8>::new(config).unwrap();
        let b = CountBreaker::<8>::new(config).unwrap();
        let c = CountBreaker::<8>::new(BreakerConfig { seed: 100, ..config }).unwrap();
        for x in [&a, &b, &c] {
            assert_eq!(fail(x, T0).transition, Transition::Opened);
        }
        let (ra, rb, rc) = (a.open_remaining(T0), b.open_remaining(T0), c.open_remaining(T0));
        assert_eq!(ra, rb, "same seed, same period");
        assert_ne!(ra, rc, "another seed, another period");
        for r in [ra, rc] {
            let r = r.unwrap();
            assert!(r >= tick_time(1000) && r <= tick_time(1501), "{r}");
        }
    }

    #[test]
    fn time_window_breaker() {
        let config = BreakerConfig {
            consecutive_failures: None,
            failure_rate_ppm: Some(1_000_000),
            min_calls: 2,
            ..consecutive(1)
        };
        let b = TimeBreaker::<4>::new(config, ms(400)).unwrap();
        assert_eq!(fail(&b, ms(0)).transition, Transition::None);
        // The first failure expired from the window: no trip yet.
        assert_eq!(fail(&b, ms(400)).transition, Transition::None);
        assert_eq!(fail(&b, ms(401)).transition, Transition::Opened);
        assert_eq!(
            TimeBreaker::<4>::new(config, Nanos::new(401)).unwrap_err(),
            ConfigError::DurationNotDivisible {
                field: "window_duration",
                duration_ns: 401,
                divisor: 4
            }
        );
    }

    #[test]
    fn call_records_failures_and_slowness() {
        let clock = crate::clock::ManualClock::new(T0);
        let config = BreakerConfig { slow_call_duration: Some(ms(10)), ..consecutive(2) };
        let b = CountBreaker::<8>::new(config).unwrap();
        let r: Result<Result<(), ()>, Rejected> = b.call(&clock, || {
            clock.advance(ms(11));
            Ok(())
        });
        assert_eq!(r, Ok(Ok(())));
        assert_eq!(b.snapshot(T0).counts.slow, 1);
        let r: Result<Result<(), u8>, Rejected> = b.call(&clock, || {
            clock.advance(ms(10));
            Err(1)
        });
        assert_eq!(r, Ok(Err(1)));
        assert_eq!(b.snapshot(T0).counts, WindowCounts { calls: 2, failures: 1, slow: 1 });
        let _ = b.call(&clock, || Err::<(), u8>(2));
        assert_eq!(b.state(), State::Open);
        let r = b.call(&clock, || Ok::<(), ()>(()));
        assert_eq!(r.unwrap_err().reason(), RejectReason::Open);
        assert_eq!(b.classify(false, ms(10)), Outcome::Success);
        assert_eq!(b.classify(true, Nanos::new(10_000_001)), Outcome::SlowFailure);
    }

    #[test]
    fn a_permit_of_another_breaker_is_not_counted() {
        let a = CountBreaker::<8>::new(consecutive(1)).unwrap();
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        let p = a.try_acquire(T0).unwrap();
        assert_eq!(b.record(p, Outcome::Failure, T0), Recorded::IGNORED);
        assert_eq!((a.state(), b.state()), (State::Closed, State::Closed));
        let p = a.try_acquire(T0).unwrap();
        assert_eq!(a.record(p, Outcome::Failure, T0).transition, Transition::Opened);
    }

    #[test]
    fn backwards_time_never_shortens_an_open_period() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        let t = tick_time(5000);
        assert_eq!(fail(&b, t).transition, Transition::Opened);
        let r = b.try_acquire(T0).unwrap_err();
        assert_eq!(r.retry_after(), Some(tick_time(6000)));
    }

    #[test]
    fn deadlines_saturate_at_the_end_of_time() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        assert_eq!(fail(&b, Nanos::MAX).transition, Transition::Opened);
        assert_eq!(b.open_remaining(Nanos::MAX), Some(Nanos::ZERO));
        // The half-open period this caller starts has a saturated deadline too, so it times out
        // at once and the caller reopens: the last tick of the clock cycles, it never wedges.
        let r = b.try_acquire(Nanos::MAX).unwrap_err();
        assert_eq!((r.reason(), r.transition()), (RejectReason::Open, Transition::Opened));
        assert_eq!(b.snapshot(Nanos::MAX).generation, 3);
    }

    #[test]
    fn runtime_window_sizes_are_validated_against_the_size() {
        let config = BreakerConfig {
            failure_rate_ppm: Some(500_000),
            min_calls: 5,
            ..BreakerConfig::DEFAULT
        };
        assert!(CountBreaker::<64>::with_window_size(config, 5).is_ok());
        assert_eq!(
            CountBreaker::<64>::with_window_size(config, 4).err(),
            Some(ConfigError::MinCallsExceedWindow { min_calls: 5, window: 4 })
        );
        assert_eq!(
            CountBreaker::<64>::with_window_size(config, 65).err(),
            Some(ConfigError::OutOfRange { field: "window_size", min: 1, max: 64, got: 65 })
        );
        let b = TimeBreaker::<16>::with_buckets(config, ms(300), 3).unwrap();
        assert_eq!(b.window().buckets(), 3);
        assert!(TimeBreaker::<16>::with_buckets(config, ms(300), 17).is_err());
    }

    #[test]
    #[allow(clippy::too_many_lines, reason = "one case per rule")]
    fn config_errors_are_precise() {
        let ok = BreakerConfig::DEFAULT;
        let cases: [(BreakerConfig, ConfigError); 14] = [
            (
                BreakerConfig { consecutive_failures: Some(0), ..ok },
                ConfigError::ZeroCount { field: "consecutive_failures" },
            ),
            (
                BreakerConfig { failure_rate_ppm: Some(1_000_001), ..ok },
                ConfigError::OutOfRange {
                    field: "failure_rate_ppm",
                    min: 1,
                    max: 1_000_000,
                    got: 1_000_001,
                },
            ),
            (
                BreakerConfig { failure_rate_ppm: Some(0), ..ok },
                ConfigError::OutOfRange {
                    field: "failure_rate_ppm",
                    min: 1,
                    max: 1_000_000,
                    got: 0,
                },
            ),
            (
                BreakerConfig { slow_rate_ppm: Some(2_000_000), ..ok },
                ConfigError::OutOfRange {
                    field: "slow_rate_ppm",
                    min: 1,
                    max: 1_000_000,
                    got: 2_000_000,
                },
            ),
            (
                BreakerConfig { slow_rate_ppm: Some(1), min_calls: 0, ..ok },
                ConfigError::ZeroCount { field: "min_calls" },
            ),
            (
                BreakerConfig { failure_rate_ppm: Some(1), min_calls: 9, ..ok },
                ConfigError::MinCallsExceedWindow { min_calls: 9, window: 8 },
            ),
            (
                BreakerConfig { slow_call_duration: Some(T0), ..ok },
                ConfigError::ZeroDuration { field: "slow_call_duration" },
            ),
            (
                BreakerConfig { open_duration: T0, ..ok },
                ConfigError::ZeroDuration { field: "open_duration" },
            ),
            (
                BreakerConfig { max_open_duration: ms(1), ..ok },
                ConfigError::FieldsOutOfOrder {
                    field: "max_open_duration",
                    value: 1_000_000,
                    lower_field: "open_duration",
                    lower: 5_000_000_000,
                },
            ),
            (
                BreakerConfig { jitter_ppm: 1_000_001, ..ok },
                ConfigError::OutOfRange {
                    field: "jitter_ppm",
                    min: 0,
                    max: 1_000_000,
                    got: 1_000_001,
                },
            ),
            (
                BreakerConfig { max_open_duration: Nanos::MAX, ..ok },
                ConfigError::DurationOverflow { field: "max_open_duration" },
            ),
            (
                BreakerConfig { half_open_probes: 0, ..ok },
                ConfigError::ZeroCount { field: "half_open_probes" },
            ),
            (
                BreakerConfig { half_open_probes: 4_096, ..ok },
                ConfigError::OutOfRange {
                    field: "half_open_probes",
                    min: 1,
                    max: 4_095,
                    got: 4_096,
                },
            ),
            (
                BreakerConfig { successes_to_close: 2, ..ok },
                ConfigError::SuccessesExceedProbes { successes: 2, probes: 1 },
            ),
        ];
        for (config, err) in cases {
            assert_eq!(CountBreaker::<8>::new(config).unwrap_err(), err);
        }
        assert_eq!(
            CountBreaker::<8>::new(BreakerConfig { successes_to_close: 0, ..ok }).unwrap_err(),
            ConfigError::ZeroCount { field: "successes_to_close" }
        );
        assert_eq!(
            CountBreaker::<8>::new(BreakerConfig { probe_timeout: T0, ..ok }).unwrap_err(),
            ConfigError::ZeroDuration { field: "probe_timeout" }
        );
        assert_eq!(
            CountBreaker::<8>::new(BreakerConfig { half_open_by_rate: true, ..ok }).unwrap_err(),
            ConfigError::MissingRule {
                field: "half_open_by_rate",
                needs: "failure_rate_ppm or slow_rate_ppm"
            }
        );
        // A time window has no capacity bound on min_calls; jitter 0 lets max be Nanos::MAX.
        let big = BreakerConfig {
            failure_rate_ppm: Some(1),
            min_calls: 1_000,
            jitter_ppm: 0,
            max_open_duration: Nanos::MAX,
            ..ok
        };
        assert!(TimeBreaker::<4>::new(big, ms(4)).is_ok());
        assert_eq!(
            ConfigError::MinCallsExceedWindow { min_calls: 9, window: 8 }.to_string(),
            "min_calls must be at most the window size 8, got 9"
        );
        assert_eq!(
            ConfigError::OutOfRange { field: "failure_rate_ppm", min: 1, max: 1_000_000, got: 0 }
                .to_string(),
            "failure_rate_ppm must be in 1..=1000000, got 0"
        );
    }

    #[test]
    fn presets_are_valid() {
        assert!(CountBreaker::<1>::new(BreakerConfig::gobreaker()).is_ok());
        assert!(CountBreaker::<100>::new(BreakerConfig::resilience4j()).is_ok());
        assert!(CountBreaker::<1>::new(BreakerConfig::default()).is_ok());
    }

    #[test]
    fn rejected_displays_its_reason() {
        let r = Rejected {
            reason: RejectReason::Open,
            retry_after: Some(Nanos::new(5)),
            transition: Transition::None,
        };
        assert_eq!(r.to_string(), "circuit breaker is open; retry after 5ns");
    }

    #[test]
    fn tokens_record_like_permits() {
        let b = CountBreaker::<8>::new(consecutive(2)).unwrap();
        let t = b.try_acquire(T0).unwrap().into_token();
        assert_eq!(t.kind(), TokenKind::Tracked);
        assert_eq!(t.generation(), 0);
        assert!(!t.is_probe());
        let r = b.record_token(t, Outcome::Failure, T0);
        assert_eq!(r, Recorded::COUNTED);
        let t = b.try_acquire(T0).unwrap().into_token();
        let r = b.record_token(t, Outcome::Failure, T0);
        assert_eq!(r.transition, Transition::Opened);
        assert_eq!(b.state(), State::Open);
        // A token of the closed generation is stale now.
        assert_eq!(b.record_token(t, Outcome::Failure, T0), Recorded::IGNORED);
        // Rebuilt from its parts, a token is the same token.
        assert_eq!(PermitToken::from_parts(t.generation(), t.kind()), t);
    }

    #[test]
    fn probe_token_holds_its_place_until_ignored_or_recorded() {
        let b = CountBreaker::<8>::new(consecutive(1)).unwrap();
        let _ = fail(&b, T0);
        let end = b.open_remaining(T0).unwrap();
        let probe = b.try_acquire(end).unwrap().into_token();
        assert!(probe.is_probe());
        // The token is plain data: the probe's place stays taken after the permit is gone.
        assert_eq!(b.try_acquire(end).unwrap_err().reason(), RejectReason::HalfOpenFull);
        b.ignore_token(probe);
        let probe = b.try_acquire(end).unwrap().into_token();
        let r = b.record_token(probe, Outcome::Success, end);
        assert_eq!(r, Recorded { transition: Transition::Closed, counted: true });
        assert_eq!(b.state(), State::Closed);
    }

    #[test]
    fn shadow_and_untracked_tokens_are_not_counted() {
        let config = BreakerConfig { shadow: true, ..consecutive(1) };
        let b = CountBreaker::<8>::new(config).unwrap();
        let _ = b.force_open();
        let t = b.try_acquire(T0).unwrap().into_token();
        assert_eq!(t.kind(), TokenKind::Shadow);
        assert_eq!(b.record_token(t, Outcome::Failure, T0), Recorded::IGNORED);
        let _ = b.disable();
        let t = b.try_acquire(T0).unwrap().into_token();
        assert_eq!(t.kind(), TokenKind::Untracked);
        assert_eq!(b.record_token(t, Outcome::Failure, T0), Recorded::IGNORED);
        assert_eq!(b.snapshot(T0).counts.calls, 0);
        // A made-up generation never matches.
        let _ = b.force_close();
        let forged = PermitToken::from_parts(GENERATIONS, TokenKind::Tracked);
        assert_eq!(b.record_token(forged, Outcome::Failure, T0), Recorded::IGNORED);
    }
}
