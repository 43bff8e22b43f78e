//! A token-bucket rate limiter implemented as GCRA on one atomic word.
//!
//! [`RateLimiter`] admits permits at a sustained rate with a burst allowance, for single calls
//! ([`try_acquire`](RateLimiter::try_acquire)) or weighted ones (bytes, money:
//! [`try_acquire_n`](RateLimiter::try_acquire_n)); it says when `n` permits could be admitted
//! ([`wait_time`](RateLimiter::wait_time)), takes permits now for a later time
//! ([`reserve`](RateLimiter::reserve), [`cancel`](RateLimiter::cancel)), and changes its rate and
//! burst at run time ([`reconfigure`](RateLimiter::reconfigure)) without losing its fill level.
//!
//! Like every primitive of the crate it never reads a clock (`now` is an argument), never
//! allocates, never locks, and keeps its whole state inside the value.
//!
//! The exact semantics (formulas, boundaries, backward time, reconfiguration, reservations,
//! consistency of refusals, comparison with peers) are in `docs/semantics/rate-limiter.md`,
//! included below.
#![doc = include_str!("../../docs/semantics/rate-limiter.md")]

use core::convert::Infallible;

use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::sync::{AtomicU64, CachePadded, Ordering, fence, loom_const_fn};
use crate::word::Field;

/// State word: `| pending:1 | generation:3 | tat:60 |`.
///
/// - `tat`: the theoretical arrival time, in nanoseconds since the limiter's origin: the instant
///   at which the bucket would be full again if nothing more were taken. Only acquisitions and
///   reservations move it, and only forward; `cancel` and `reconfigure` may move it back.
/// - `generation`: which configuration slot is in force (`generation & 1`), modulo 8. Bumped by
///   every `reconfigure`, so a decision taken under one configuration can never be committed on
///   a word converted to another (its CAS fails).
/// - `pending`: a `reconfigure` is writing the spare slot; a second one is refused meanwhile.
///   Acquisitions ignore it (they keep it as it is).
const TAT: Field = Field::new(0, 60);
const GENERATION: Field = Field::new(60, 3);
const PENDING: Field = Field::new(63, 1);
const _: () = assert!(Field::disjoint(&[TAT, GENERATION, PENDING]));

/// The layout of the state word a binding needs to decide acquisitions itself
/// ([`RateLimiter::raw_words`]): `tat` in the low `TAT_BITS` bits, the generation in the next
/// [`GENERATION_BITS`] bits (its low bit selects the configuration slot), and above it one bit
/// that only `reconfigure` uses.
pub const TAT_BITS: u32 = 60;
/// See [`TAT_BITS`].
pub const GENERATION_BITS: u32 = 3;
const _: () = assert!(TAT.mask() == (1 << TAT_BITS) - 1);
const _: () = assert!(GENERATION.mask() == ((1 << GENERATION_BITS) - 1) << TAT_BITS);
const _: () = assert!(PENDING.mask() == 1 << (TAT_BITS + GENERATION_BITS));

/// The largest `interval × burst`, in nanoseconds: 2⁵⁶ ns, about 2.28 years.
pub const MAX_SPAN_NS: u64 = 1 << 56;
/// The largest theoretical arrival time the word holds.
const TAT_MAX: u64 = TAT.max();
/// The last instant (since the origin) the limiter can tell apart: 2⁶⁰ − 2⁵⁶ − 1 ns, about 34.3
/// years. Later `now` values read as this one, so a `tat` of `now + span` always fits the word.
pub const MAX_RELATIVE_NOW_NS: u64 = TAT_MAX - MAX_SPAN_NS;
/// The largest rate, in permits per second: one per nanosecond.
pub const MAX_RATE_PER_SECOND: u64 = 1_000_000_000;

/// A validated rate and burst: `burst` permits, one more every `interval`.
///
/// # Semantics
///
/// The bucket holds at most `burst` permits and gains one every `interval` nanoseconds (the
/// emission interval `T`). Its *span* `τ = interval × burst` is the time an empty bucket takes to
/// fill. Ranges: `interval` in `1..=2⁵⁶` ns, `burst` in `1..=2⁵⁶`, and `τ <= 2⁵⁶` ns
/// ([`MAX_SPAN_NS`], about 2.28 years).
///
/// # Examples
///
/// ```
/// use portcullis::{ConfigError, Nanos, limiter::Quota};
/// let q = Quota::per_second(100, 10).unwrap();
/// assert_eq!(q.interval(), Nanos::from_millis(10));
/// assert_eq!((q.burst(), q.span()), (10, Nanos::from_millis(100)));
/// // 3 per second cannot be an exact number of nanoseconds: the interval rounds up, so the
/// // limiter never admits faster than asked.
/// assert_eq!(Quota::per_second(3, 1).unwrap().interval(), Nanos::new(333_333_334));
/// assert_eq!(
///     Quota::per_second(0, 10).unwrap_err(),
///     ConfigError::OutOfRange { field: "rate", min: 1, max: 1_000_000_000, got: 0 }
/// );
/// ```
///
/// # Errors
///
/// Each constructor returns the first rule broken: [`ConfigError::OutOfRange`] (naming `rate`,
/// `interval` or `burst`) or [`ConfigError::BurstSpanOverflow`].
///
/// # Panics
///
/// Never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Quota {
    interval: u64,
    burst: u64,
}

impl Quota {
    /// `rate` permits per second (the interval is `⌈10⁹ / rate⌉` ns), at most `burst` at once.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] when `rate` is 0 or above [`MAX_RATE_PER_SECOND`]; then as
    /// [`Quota::per_interval`].
    pub const fn per_second(rate: u64, burst: u64) -> Result<Quota, ConfigError> {
        if rate == 0 || rate > MAX_RATE_PER_SECOND {
            return Err(ConfigError::OutOfRange {
                field: "rate",
                min: 1,
                max: MAX_RATE_PER_SECOND,
                got: rate,
            });
        }
        Quota::per_interval(Nanos::new(MAX_RATE_PER_SECOND.div_ceil(rate)), burst)
    }

    /// One permit every `interval`, at most `burst` at once.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] when `interval` is 0 or above 2⁵⁶ ns;
    /// [`ConfigError::OutOfRange`] when `burst` is 0 or above 2⁵⁶;
    /// [`ConfigError::BurstSpanOverflow`] when `interval × burst` exceeds [`MAX_SPAN_NS`].
    pub const fn per_interval(interval: Nanos, burst: u64) -> Result<Quota, ConfigError> {
        let interval = interval.as_u64();
        if interval == 0 || interval > MAX_SPAN_NS {
            return Err(ConfigError::OutOfRange {
                field: "interval",
                min: 1,
                max: MAX_SPAN_NS,
                got: interval,
            });
        }
        if burst == 0 || burst > MAX_SPAN_NS {
            return Err(ConfigError::OutOfRange {
                field: "burst",
                min: 1,
                max: MAX_SPAN_NS,
                got: burst,
            });
        }
        match interval.checked_mul(burst) {
            Some(span) if span <= MAX_SPAN_NS => Ok(Quota { interval, burst }),
            _ => Err(ConfigError::BurstSpanOverflow {
                field: "burst",
                interval_ns: interval,
                burst,
                max_ns: MAX_SPAN_NS,
            }),
        }
    }

    /// The emission interval: the time one permit takes to come back.
    #[must_use]
    pub const fn interval(&self) -> Nanos {
        Nanos::new(self.interval)
    }

    /// The largest number of permits the bucket holds.
    #[must_use]
    pub const fn burst(&self) -> u64 {
        self.burst
    }

    /// `interval × burst`: the time an empty bucket takes to fill.
    #[must_use]
    pub const fn span(&self) -> Nanos {
        // Cannot overflow: checked at construction.
        Nanos::new(self.interval.saturating_mul(self.burst))
    }
}

/// Whether a new limiter's bucket starts full or empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Start {
    /// `burst` permits available at once (governor, x/time/rate and resilience4j start full).
    #[default]
    Full,
    /// No permit available at construction; the first comes back one interval later.
    Empty,
}

/// How a [`RateLimiter`] is built: its quota and three options.
///
/// # Examples
///
/// ```
/// use portcullis::limiter::{Quota, RateLimiterConfig, Start};
/// let config = RateLimiterConfig::new(Quota::per_second(50, 5).unwrap())
///     .start(Start::Empty)
///     .counting(true)
///     .shadow(false);
/// assert_eq!(config.quota.burst(), 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimiterConfig {
    /// Rate and burst.
    pub quota: Quota,
    /// Full or empty at construction.
    pub start: Start,
    /// Count admitted and rejected decisions (two padded counters, one `fetch_add` per
    /// decision). Off by default: the admit path is then one load and one CAS, and a refusal
    /// writes nothing at all.
    pub counting: bool,
    /// Decide and count, but always let the caller through: the decision says what an enforcing
    /// limiter would have done ([`Decision::ShadowAdmitted`]).
    pub shadow: bool,
}

impl RateLimiterConfig {
    /// `quota`, starting full, without counters, enforcing.
    #[must_use]
    pub const fn new(quota: Quota) -> RateLimiterConfig {
        RateLimiterConfig { quota, start: Start::Full, counting: false, shadow: false }
    }

    /// With the bucket full or empty at construction.
    #[must_use]
    pub const fn start(self, start: Start) -> RateLimiterConfig {
        RateLimiterConfig { start, ..self }
    }

    /// With or without the admitted/rejected counters.
    #[must_use]
    pub const fn counting(self, counting: bool) -> RateLimiterConfig {
        RateLimiterConfig { counting, ..self }
    }

    /// In shadow mode (always admit, report what would have happened) or enforcing.
    #[must_use]
    pub const fn shadow(self, shadow: bool) -> RateLimiterConfig {
        RateLimiterConfig { shadow, ..self }
    }
}

/// The answer of [`RateLimiter::try_acquire`] and [`RateLimiter::try_acquire_n`].
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Admitted: the permits are taken.
    Admitted,
    /// Refused; nothing was taken. The same request would be admitted `retry_after` from `now`
    /// if nothing else were taken meanwhile (exact for the state the decision read).
    Rejected {
        /// How long until the request fits.
        retry_after: Nanos,
    },
    /// Shadow mode: let through, but an enforcing limiter would have refused it. Nothing was
    /// taken (the bucket evolves as an enforcing one would).
    ShadowAdmitted {
        /// How long until the request would have fit.
        retry_after: Nanos,
    },
}

impl Decision {
    /// Whether the caller may proceed ([`Admitted`](Decision::Admitted) or
    /// [`ShadowAdmitted`](Decision::ShadowAdmitted)).
    #[must_use]
    pub const fn is_admitted(self) -> bool {
        !matches!(self, Decision::Rejected { .. })
    }

    /// Whether an enforcing limiter admits it (only [`Admitted`](Decision::Admitted)).
    #[must_use]
    pub const fn would_admit(self) -> bool {
        matches!(self, Decision::Admitted)
    }
}

/// More permits were asked for than the bucket can ever hold: waiting would never help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InsufficientCapacity {
    /// The permits asked for.
    pub requested: u64,
    /// The burst in force when the request was decided.
    pub burst: u64,
}

impl core::fmt::Display for InsufficientCapacity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} permits requested but the burst is {}", self.requested, self.burst)
    }
}

impl core::error::Error for InsufficientCapacity {}

/// Why [`RateLimiter::reserve`] took nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReserveError {
    /// More permits than the burst: never possible.
    InsufficientCapacity(InsufficientCapacity),
    /// The permits would become valid later than `max_wait` from `now` (or beyond the range of
    /// the limiter's clock).
    TooFar {
        /// How long the reservation would have had to wait.
        wait: Nanos,
    },
}

impl core::fmt::Display for ReserveError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReserveError::InsufficientCapacity(e) => e.fmt(f),
            ReserveError::TooFar { wait } => {
                write!(f, "the permits would be valid only after {wait}, beyond the wait allowed")
            }
        }
    }
}

impl core::error::Error for ReserveError {}

/// Another [`RateLimiter::reconfigure`] is in progress; nothing was changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReconfigureInProgress;

impl core::fmt::Display for ReconfigureInProgress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("another reconfiguration of this limiter is in progress")
    }
}

impl core::error::Error for ReconfigureInProgress {}

/// Permits taken by [`RateLimiter::reserve`] for a later time.
///
/// Not `Clone`: [`RateLimiter::cancel`] consumes it, so it can be given back at most once. It
/// belongs to the limiter that made it; passing it to another limiter is not detected beyond
/// what the word comparison catches.
#[must_use = "a reservation holds permits: wait until `ready_at`, or `cancel` it"]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Reservation {
    permits: u64,
    ready_at: Nanos,
    /// The state word the reservation's CAS wrote: `cancel` undoes it only if it is still there.
    word: u64,
    /// `permits × interval` under the configuration in force.
    cost: u64,
}

impl Reservation {
    /// The permits reserved.
    #[must_use]
    pub const fn permits(&self) -> u64 {
        self.permits
    }

    /// The instant (on the caller's clock) from which the permits may be used.
    #[must_use]
    pub const fn ready_at(&self) -> Nanos {
        self.ready_at
    }

    /// How long after `now` the permits become valid (zero if they already are).
    #[must_use]
    pub const fn delay_from(&self, now: Nanos) -> Nanos {
        self.ready_at.saturating_sub(now)
    }
}

/// A [`Reservation`] as plain data, for callers that cannot keep the Rust value (the C ABI, a
/// reservation kept in shared memory).
///
/// # Semantics
///
/// `permits` and `ready_at` mean what they mean on the reservation; `word` and `cost` are what
/// [`RateLimiter::cancel`] needs and have no meaning of their own. Unlike a reservation, a raw
/// reservation can be copied, so nothing stops it from being cancelled twice: the second cancel
/// finds the state word changed (the first moved it back) and gives nothing back, unless the
/// word has since returned to exactly the value the reservation left, in which case it undoes a
/// reservation of the same cost made meanwhile. Cancel each reservation at most once.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, limiter::{Quota, RateLimiter, RateLimiterConfig, Reservation}};
/// let limiter = RateLimiter::new(
///     RateLimiterConfig::new(Quota::per_second(10, 1).unwrap()),
///     Nanos::ZERO,
/// );
/// let _ = limiter.try_acquire(Nanos::ZERO);
/// let raw = limiter.reserve(1, Nanos::ZERO, Nanos::from_secs(1)).unwrap().into_raw();
/// assert_eq!(raw.ready_at, Nanos::from_millis(100));
/// assert!(limiter.cancel(Reservation::from_raw(raw), Nanos::ZERO));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RawReservation {
    /// The permits reserved.
    pub permits: u64,
    /// The instant from which the permits may be used.
    pub ready_at: Nanos,
    /// The state word the reservation wrote (opaque).
    pub word: u64,
    /// What the reservation cost, in nanoseconds of the interval in force (opaque).
    pub cost: u64,
}

impl Reservation {
    /// The reservation as plain data; [`Reservation::from_raw`] turns it back.
    #[must_use = "a reservation holds permits: keep the raw form to cancel it"]
    pub const fn into_raw(self) -> RawReservation {
        RawReservation {
            permits: self.permits,
            ready_at: self.ready_at,
            word: self.word,
            cost: self.cost,
        }
    }

    /// A reservation from its plain-data form (see [`RawReservation`] for what a copied or
    /// made-up one can do: at most undo a reservation of the same cost).
    #[must_use = "a reservation holds permits: wait until `ready_at`, or `cancel` it"]
    pub const fn from_raw(raw: RawReservation) -> Reservation {
        Reservation { permits: raw.permits, ready_at: raw.ready_at, word: raw.word, cost: raw.cost }
    }
}

/// What a [`RateLimiter`] holds at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimiterSnapshot {
    /// Permits that `try_acquire_n` would admit at `now` (0 while reservations are pending
    /// beyond the bucket).
    pub available: u64,
    /// The emission interval in force.
    pub interval: Nanos,
    /// The burst in force.
    pub burst: u64,
    /// Decisions that admitted (including reservations), when counting is on.
    pub admitted: Option<u64>,
    /// Decisions that refused (including shadow refusals, `InsufficientCapacity` and
    /// reservations refused as too far), when counting is on.
    pub rejected: Option<u64>,
    /// Whether the limiter is in shadow mode.
    pub shadow: bool,
}

/// The addresses and constants a binding needs to decide [`RateLimiter::try_acquire_n`] itself,
/// with atomics of its own and no call (the Go package does, to avoid a cgo call per decision).
///
/// # Semantics
///
/// Only for a limiter with neither counting nor shadow mode (their decisions also write a
/// counter or admit a refusal: call the limiter). With `now` the caller's reading on the
/// limiter's clock, the binding decides `n >= 1` permits exactly as `try_acquire_n` does:
///
/// 1. `rel = min(now − origin, MAX_RELATIVE_NOW_NS)` (0 when `now < origin`).
/// 2. Load the state word with acquire (or stronger) ordering: `word`.
/// 3. Load the four slot words (any ordering; after the load of `word`) and take the pair of
///    `word`'s generation: `(slots[0], slots[1])` if bit `TAT_BITS` of `word` is 0, else
///    `(slots[2], slots[3])`, as `(interval, span)`.
/// 4. `cost = n × interval`; if it overflows 64 bits or exceeds `span`, the request exceeds the
///    capacity (go to 7).
/// 5. `tat = word & (2^TAT_BITS − 1)`; `new_tat = max(tat, rel) + cost` (cannot overflow);
///    if `new_tat − rel <= span`, compare-and-swap the word from `word` to
///    `(word & !(2^TAT_BITS − 1)) | new_tat` with release (or stronger) ordering: every bit above
///    `tat` is kept as it is. Success: admitted. Failure: go back to 2.
/// 6. Otherwise it is refused, and would fit `new_tat − rel − span` nanoseconds later.
/// 7. Before returning a refusal, load the word again (acquire, after the slot loads); if its
///    generation (`TAT_BITS + 1 ..`, [`GENERATION_BITS`] bits) differs from `word`'s, a
///    reconfiguration completed meanwhile and the slot may have been half-written: go back to 3
///    with the new word.
///
/// `n == 0` is admitted without reading anything. The slot words are never written through these
/// pointers; the state word only by the compare-and-swap of step 5.
#[cfg(not(loom))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawWords {
    /// The state word.
    pub state: *const u64,
    /// The two configuration slots: interval and span (ns) of even generations, then of odd
    /// ones.
    pub slots: *const [u64; 4],
    /// The clock reading `tat` is relative to.
    pub origin: Nanos,
    /// Whether the limiter counts its decisions (then decide by calling it).
    pub counting: bool,
    /// Whether the limiter is in shadow mode (then decide by calling it).
    pub shadow: bool,
}

/// One configuration slot: `interval` and `span` (`interval × burst`), in nanoseconds.
///
/// `repr(C)`, as [`Config`]: [`RateLimiter::raw_words`] hands out the two slots as four
/// consecutive words.
#[derive(Debug)]
#[repr(C)]
struct Slot {
    interval: AtomicU64,
    span: AtomicU64,
}

impl Slot {
    loom_const_fn! {
        fn new(q: Quota) -> Slot {
            Slot {
                interval: AtomicU64::new(q.interval),
                span: AtomicU64::new(q.interval.saturating_mul(q.burst)),
            }
        }
    }
}

/// The configuration a decision reads, in nanoseconds.
#[derive(Clone, Copy, Debug)]
struct Params {
    interval: u64,
    span: u64,
}

impl Params {
    const fn burst(self) -> u64 {
        // interval >= 1 by construction; the guard keeps the division total for a torn read
        // that the caller discards anyway.
        self.span / if self.interval == 0 { 1 } else { self.interval }
    }

    /// `n × interval` if it fits the bucket, else the refusal.
    const fn cost(self, n: u64) -> Result<u64, InsufficientCapacity> {
        match n.checked_mul(self.interval) {
            Some(cost) if cost <= self.span => Ok(cost),
            _ => Err(InsufficientCapacity { requested: n, burst: self.burst() }),
        }
    }
}

/// GCRA: the word after taking `cost` nanoseconds of permits at `now`, or the wait until they
/// fit. Pure; every operation's decision is this function or a read-only variant of it.
///
/// `new_tat = max(tat, now) + cost` is admitted iff `new_tat − now <= span`; otherwise the wait
/// is `new_tat − now − span`, after which it is admitted exactly.
const fn gcra(word: u64, p: Params, cost: u64, now: u64) -> Result<u64, u64> {
    let tat = TAT.get(word);
    // tat <= 2⁶⁰, cost <= 2⁵⁶: no overflow.
    let new_tat = if tat > now { tat } else { now } + cost;
    let debt = new_tat - now;
    if debt <= p.span {
        // new_tat <= now + span <= MAX_RELATIVE_NOW_NS + MAX_SPAN_NS = TAT_MAX: it fits the field.
        Ok(TAT.set(word, new_tat))
    } else {
        Err(debt - p.span)
    }
}

/// Permits available at `now` for the state `word` under `p`.
const fn available(word: u64, p: Params, now: u64) -> u64 {
    let debt = TAT.get(word).saturating_sub(now);
    if debt >= p.span || p.interval == 0 { 0 } else { (p.span - debt) / p.interval }
}

/// The theoretical arrival time that keeps the fill level of `tat` (under `old`) under `new`.
///
/// The fill level is `(span − debt) / interval` permits, fractional, possibly negative (debt of
/// pending reservations); it is kept exactly, capped at the new burst, and rounded so that no
/// fraction of a permit is gained: the new debt rounds up.
fn convert(tat: u64, old: Params, new: Params, now: u64) -> u64 {
    let debt = u128::from(tat.saturating_sub(now));
    let (old_span, old_i) = (u128::from(old.span), u128::from(old.interval.max(1)));
    let (new_span, new_i) = (u128::from(new.span), u128::from(new.interval));
    let new_debt = if debt <= old_span {
        // Level a = (old_span − debt) / old_i >= 0; new debt = new_span − min(a, burst')·new_i.
        let kept = ((old_span - debt) * new_i) / old_i; // floor: never gain a fraction
        new_span.saturating_sub(kept)
    } else {
        // Negative fill level: keep the debt beyond the bucket, in permits.
        new_span + ((debt - old_span) * new_i).div_ceil(old_i)
    };
    let tat = u128::from(now) + new_debt;
    u64::try_from(tat).map_or(TAT_MAX, |t| t.min(TAT_MAX))
}

/// Why a read-modify-write of the state word declined to write.
enum Refusal<E> {
    /// The request does not fit the bucket now: the wait.
    Wait(u64),
    /// An operation-specific refusal.
    Other(E),
}

/// A token bucket implemented as GCRA on one atomic word, with the caller's clock.
///
/// # Semantics
///
/// Built from a [`Quota`] (`burst` permits, one more every `interval`). With `tat` the
/// theoretical arrival time and `τ = interval × burst`, a request for `n` permits at `now` is
/// admitted iff `max(tat, now) + n·interval − now <= τ`, and then sets
/// `tat = max(tat, now) + n·interval`. So a full bucket admits `burst` permits at once, then one
/// per `interval`; idle time refills it to exactly `burst`, never more. A refused request
/// reports `retry_after`, the exact wait after which it would be admitted if nothing else were
/// taken. `n == 0` is always admitted, takes nothing and writes nothing. `n > burst` is
/// [`InsufficientCapacity`], never a wait.
///
/// Time: readings are relative to the `now` given at construction (the *origin*); a `now` before
/// the origin reads as the origin, and the limiter tells instants apart for about 34 years after
/// it (later readings read as that last instant: refill stops, so it refuses rather than
/// over-admits). A `now` earlier than one already seen is not an error: it sees less refill (the
/// `tat` already set stays), so it never admits a burst and never panics.
///
/// See `docs/semantics/rate-limiter.md` for reservations, reconfiguration and the consistency of
/// concurrent decisions: every admission is one CAS (linearizable, the limit is never exceeded);
/// a refusal is decided by loads, and is linearizable with respect to acquisitions and
/// reservations, but may be based on the state from just before a `cancel` or `reconfigure`
/// that completed concurrently.
///
/// # Cost
///
/// Admit: one load of the state word, four loads of the two configuration slots (a read-mostly
/// cache line of their own, issued in parallel with the first) and one CAS, plus one `fetch_add`
/// with counting on. Refuse: the same loads, an acquire fence (free on x86-64) and a reload of
/// the state word, plus one `fetch_add` with counting on. Lock-free: a CAS fails only when
/// another thread changed the word, which means that thread made progress; a refusal never
/// waits for acquisitions and retries only when a reconfiguration completes during it.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, limiter::{Decision, Quota, RateLimiter, RateLimiterConfig}};
/// // 10 per second, bursts of 2.
/// let quota = Quota::per_second(10, 2).unwrap();
/// static LIMITER: RateLimiter = RateLimiter::new(
///     RateLimiterConfig::new(match Quota::per_second(10, 2) { Ok(q) => q, Err(_) => panic!() }),
///     Nanos::ZERO,
/// );
/// let t = Nanos::from_secs(1);
/// assert_eq!(LIMITER.try_acquire(t), Decision::Admitted);
/// assert_eq!(LIMITER.try_acquire(t), Decision::Admitted);
/// assert_eq!(LIMITER.try_acquire(t), Decision::Rejected { retry_after: quota.interval() });
/// assert_eq!(LIMITER.try_acquire(t.saturating_add(quota.interval())), Decision::Admitted);
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct RateLimiter {
    /// The state word (see [`TAT`]), alone on its cache line: it is the only word every
    /// admission writes.
    state: CachePadded<AtomicU64>,
    /// What decisions only read: the two configuration slots, the origin and the flags. On a
    /// line of its own so that admissions on other cores (which invalidate the state's line) do
    /// not evict it; only `reconfigure` writes it.
    config: CachePadded<Config>,
    /// Admitted decisions (written only with counting on).
    admitted: CachePadded<AtomicU64>,
    /// Refused decisions (written only with counting on).
    rejected: CachePadded<AtomicU64>,
}

#[derive(Debug)]
#[repr(C)]
struct Config {
    /// The configuration of even generations.
    even: Slot,
    /// The configuration of odd generations.
    odd: Slot,
    /// The caller's clock reading that `tat` is relative to.
    origin: u64,
    counting: bool,
    shadow: bool,
}

// The four words of `RawWords::slots`: even interval, even span, odd interval, odd span.
#[cfg(not(loom))]
const _: () = {
    use core::mem::offset_of;
    assert!(offset_of!(Slot, interval) == 0 && offset_of!(Slot, span) == 8);
    assert!(offset_of!(Config, even) == 0 && offset_of!(Config, odd) == 16);
    assert!(size_of::<AtomicU64>() == 8 && align_of::<AtomicU64>() == 8);
};

impl Config {
    /// The slot of `generation`.
    const fn slot(&self, generation: u64) -> &Slot {
        if generation & 1 == 0 { &self.even } else { &self.odd }
    }
}

impl RateLimiter {
    loom_const_fn! {
        /// A limiter with `config`, whose clock origin is `now` (pass the current reading of the
        /// clock that will feed it; `Nanos::ZERO` for a clock that starts at boot).
        ///
        /// With [`Start::Empty`] the first permit comes back at `now + interval`.
        ///
        /// # Panics
        ///
        /// Never (the quota is already validated).
        #[must_use]
        pub fn new(config: RateLimiterConfig, now: Nanos) -> RateLimiter {
            let q = config.quota;
            let tat = match config.start {
                Start::Full => 0,
                Start::Empty => q.interval.saturating_mul(q.burst),
            };
            RateLimiter {
                state: CachePadded(AtomicU64::new(tat)),
                config: CachePadded(Config {
                    even: Slot::new(q),
                    odd: Slot::new(q),
                    origin: now.as_u64(),
                    counting: config.counting,
                    shadow: config.shadow,
                }),
                admitted: CachePadded(AtomicU64::new(0)),
                rejected: CachePadded(AtomicU64::new(0)),
            }
        }
    }

    /// `now` relative to the origin, clamped to the range the word tells apart.
    #[inline]
    fn rel(&self, now: Nanos) -> u64 {
        let t = now.as_u64().saturating_sub(self.config.origin);
        if t > MAX_RELATIVE_NOW_NS { MAX_RELATIVE_NOW_NS } else { t }
    }

    /// The caller's clock reading for a relative instant.
    fn abs(&self, rel: u64) -> Nanos {
        Nanos::new(rel.saturating_add(self.config.origin))
    }

    /// The configuration in force for `word`.
    #[inline]
    fn params(&self, word: u64) -> Params {
        // Relaxed: the slot was written before the release CAS that installed this generation,
        // and `word` was read by an acquire load (or acquire CAS failure) of a value in that
        // CAS's release sequence (every later write to the word is a read-modify-write), so the
        // writes are visible. A slot being rewritten for a later generation can only be read
        // here with a stale `word`; the CAS or the validation in `read` then rejects the result.
        //
        // Both slots are loaded and the right one selected afterwards: the loads' addresses then
        // do not depend on `word`, so they issue in parallel with it instead of after it (one L1
        // latency less on the admit path; they stay after the acquire load in program order).
        let (even, odd) = (&self.config.even, &self.config.odd);
        let e = (even.interval.load(Ordering::Relaxed), even.span.load(Ordering::Relaxed));
        let o = (odd.interval.load(Ordering::Relaxed), odd.span.load(Ordering::Relaxed));
        let (interval, span) = if GENERATION.get(word) & 1 == 0 { e } else { o };
        Params { interval, span }
    }

    /// Runs `f` on a consistent (word, configuration) pair without writing: one load, the slot,
    /// then an acquire fence and a reload that must find the same generation.
    ///
    /// The validation is the read side of a sequence lock. The slot of generation `g` is
    /// rewritten only by the `reconfigure` that moves the word from `g + 1` to `g + 2`; that one
    /// first claims the word (sets `pending` on generation `g + 1`) and then issues a release
    /// fence before its slot stores. So if the slot loads saw any of those stores, the fence pair
    /// makes the reload see generation `g + 1` or later, and the pair is retried. A reload that
    /// differs only in `tat` (acquisitions meanwhile) or in `pending` (a reconfiguration writing
    /// the *other* slot) does not retry: the pair read is a state the word had during the call.
    /// So reads never wait for acquisitions; they retry only when a reconfiguration completes
    /// during the read (lock-free; wait-free while the configuration does not change).
    #[inline]
    fn read<T>(&self, f: impl Fn(u64, Params) -> T) -> (u64, T) {
        // Acquire: pairs with the release CAS of `reconfigure` (see `params`).
        let mut word = self.state.load(Ordering::Acquire);
        loop {
            let out = f(word, self.params(word));
            // Acquire fence: keeps the slot loads above before the reload below.
            fence(Ordering::Acquire);
            let again = self.state.load(Ordering::Acquire);
            if GENERATION.get(again) == GENERATION.get(word) {
                return (word, out);
            }
            word = again;
        }
    }

    /// The one read-modify-write loop of the limiter: `decide` maps the current word and its
    /// configuration to a new word (written by CAS) or a refusal (nothing written).
    ///
    /// A refusal is returned only for a validated (word, configuration) pair (see [`read`]); an
    /// admission only if the CAS finds the exact word it was decided on, which proves the
    /// configuration read with it was still in force.
    ///
    /// [`read`]: RateLimiter::read
    #[inline]
    fn update<T, E>(
        &self,
        decide: impl Fn(u64, Params) -> Result<(u64, T), Refusal<E>>,
    ) -> Result<T, Refusal<E>> {
        // Acquire: pairs with the release CAS of `reconfigure` (see `params`).
        let mut word = self.state.load(Ordering::Acquire);
        loop {
            match decide(word, self.params(word)) {
                Ok((new, out)) => {
                    // Release on success: keeps the word a release sequence headed by the last
                    // `reconfigure` even on targets where it matters; Acquire on failure: the
                    // returned word is used with its slot at once (see `params`).
                    match self.state.compare_exchange_weak(
                        word,
                        new,
                        Ordering::Release,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => return Ok(out),
                        Err(actual) => word = actual,
                    }
                }
                Err(refusal) => {
                    // Validated as in `read`: retried only if a reconfiguration completed.
                    fence(Ordering::Acquire);
                    let again = self.state.load(Ordering::Acquire);
                    if GENERATION.get(again) == GENERATION.get(word) {
                        return Err(refusal);
                    }
                    word = again;
                }
            }
        }
    }

    #[inline]
    fn count(&self, counter: &AtomicU64) {
        if self.config.counting {
            // Relaxed: a statistic; no memory is published through it.
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Takes one permit at `now` if one is available.
    ///
    /// # Semantics
    ///
    /// As [`try_acquire_n`](RateLimiter::try_acquire_n) with `n = 1`; one permit always fits the
    /// bucket, so there is no capacity error.
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{Nanos, limiter::{Quota, RateLimiter, RateLimiterConfig}};
    /// let limiter = RateLimiter::new(
    ///     RateLimiterConfig::new(Quota::per_second(1, 1).unwrap()),
    ///     Nanos::ZERO,
    /// );
    /// assert!(limiter.try_acquire(Nanos::ZERO).is_admitted());
    /// assert!(!limiter.try_acquire(Nanos::from_millis(999)).is_admitted());
    /// assert!(limiter.try_acquire(Nanos::from_secs(1)).is_admitted());
    /// ```
    ///
    /// # Panics
    ///
    /// Never.
    #[inline]
    pub fn try_acquire(&self, now: Nanos) -> Decision {
        let now = self.rel(now);
        let result = self.update(|word, p| {
            // One permit costs `interval <= span`: it always fits the bucket.
            gcra(word, p, p.interval, now).map(|w| (w, ())).map_err(Refusal::<Infallible>::Wait)
        });
        match result {
            Ok(()) => {
                self.count(&self.admitted);
                Decision::Admitted
            }
            Err(Refusal::Wait(wait)) => self.refused(wait),
            Err(Refusal::Other(never)) => match never {},
        }
    }

    #[inline]
    fn refused(&self, wait: u64) -> Decision {
        self.count(&self.rejected);
        let retry_after = Nanos::new(wait);
        if self.config.shadow {
            Decision::ShadowAdmitted { retry_after }
        } else {
            Decision::Rejected { retry_after }
        }
    }

    /// Takes `n` permits at `now`, all or nothing.
    ///
    /// # Semantics
    ///
    /// Admitted iff `max(tat, now) + n·interval − now <= interval × burst`; then `tat` moves to
    /// `max(tat, now) + n·interval` by one CAS. Otherwise nothing is written and the decision
    /// carries the exact `retry_after`. `n == 0` is admitted without reading or writing
    /// anything (and is not counted). In shadow mode a refusal is returned as
    /// [`Decision::ShadowAdmitted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{Nanos, limiter::*};
    /// // 1,000 bytes per millisecond, up to 4,000 at once.
    /// let quota = Quota::per_interval(Nanos::new(1_000), 4_000).unwrap();
    /// let limiter = RateLimiter::new(RateLimiterConfig::new(quota), Nanos::ZERO);
    /// assert_eq!(limiter.try_acquire_n(3_000, Nanos::ZERO), Ok(Decision::Admitted));
    /// assert_eq!(
    ///     limiter.try_acquire_n(1_500, Nanos::ZERO),
    ///     Ok(Decision::Rejected { retry_after: Nanos::new(500_000) })
    /// );
    /// assert_eq!(
    ///     limiter.try_acquire_n(4_001, Nanos::ZERO),
    ///     Err(InsufficientCapacity { requested: 4_001, burst: 4_000 })
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`InsufficientCapacity`] when `n` exceeds the burst in force (counted as rejected, also
    /// in shadow mode: it is a request that can never succeed, not a load decision).
    ///
    /// # Panics
    ///
    /// Never.
    pub fn try_acquire_n(&self, n: u64, now: Nanos) -> Result<Decision, InsufficientCapacity> {
        if n == 0 {
            return Ok(Decision::Admitted);
        }
        let now = self.rel(now);
        let result = self.update(|word, p| {
            let cost = p.cost(n).map_err(Refusal::Other)?;
            gcra(word, p, cost, now).map(|w| (w, ())).map_err(Refusal::Wait)
        });
        match result {
            Ok(()) => {
                self.count(&self.admitted);
                Ok(Decision::Admitted)
            }
            Err(Refusal::Wait(wait)) => Ok(self.refused(wait)),
            Err(Refusal::Other(e)) => {
                self.count(&self.rejected);
                Err(e)
            }
        }
    }

    /// How long after `now` `n` permits could be admitted, without taking them.
    ///
    /// # Semantics
    ///
    /// `max(0, max(tat, now) + n·interval − now − interval × burst)`: zero if they are available
    /// now. Exact for the state read: `try_acquire_n(n, now + wait)` admits if nothing else was
    /// taken, and `try_acquire_n(n, now + wait − 1)` refuses. Under concurrency it is a value the
    /// state had during the call (see the consistency section of the semantics page). Counts
    /// nothing. `n == 0` waits zero, as it is always admitted.
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{Nanos, limiter::*};
    /// let limiter = RateLimiter::new(
    ///     RateLimiterConfig::new(Quota::per_second(10, 5).unwrap()).start(Start::Empty),
    ///     Nanos::ZERO,
    /// );
    /// assert_eq!(limiter.wait_time(2, Nanos::ZERO), Ok(Nanos::from_millis(200)));
    /// assert_eq!(limiter.wait_time(2, Nanos::from_millis(250)), Ok(Nanos::ZERO));
    /// assert!(limiter.wait_time(6, Nanos::ZERO).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`InsufficientCapacity`] when `n` exceeds the burst in force.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn wait_time(&self, n: u64, now: Nanos) -> Result<Nanos, InsufficientCapacity> {
        if n == 0 {
            return Ok(Nanos::ZERO); // as `try_acquire_n(0, _)`: always admitted
        }
        let now = self.rel(now);
        let (_, out) = self.read(|word, p| {
            let cost = p.cost(n)?;
            Ok(Nanos::new(match gcra(word, p, cost, now) {
                Ok(_) => 0,
                Err(wait) => wait,
            }))
        });
        out
    }

    /// Takes `n` permits now for use from a later instant, if that instant is at most `max_wait`
    /// after `now`.
    ///
    /// # Semantics
    ///
    /// Sets `tat = max(tat, now) + n·interval` unconditionally (within `max_wait`), so the bucket
    /// may go into debt beyond empty: later requests wait until the reserved permits have come
    /// back. The permits are valid from `ready_at = now + max(0, tat − now − interval × burst)`
    /// (the same instant [`wait_time`](RateLimiter::wait_time) reports). Counted as admitted.
    /// `n == 0` returns a reservation ready at `now` and changes nothing.
    /// Shadow mode does not apply: a reservation is a scheduling answer, not an admission.
    ///
    /// Cancellation ([`cancel`](RateLimiter::cancel)) gives the permits back only if nothing was
    /// admitted or reserved after the reservation (or everything after it was cancelled too),
    /// no `reconfigure` happened since, and `ready_at` is still in the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{Nanos, limiter::*};
    /// let limiter = RateLimiter::new(
    ///     RateLimiterConfig::new(Quota::per_second(10, 1).unwrap()),
    ///     Nanos::ZERO,
    /// );
    /// let first = limiter.reserve(1, Nanos::ZERO, Nanos::MAX).unwrap();
    /// assert_eq!(first.ready_at(), Nanos::ZERO);
    /// let second = limiter.reserve(1, Nanos::ZERO, Nanos::MAX).unwrap();
    /// assert_eq!(second.ready_at(), Nanos::from_millis(100));
    /// assert_eq!(
    ///     limiter.reserve(1, Nanos::ZERO, Nanos::from_millis(150)),
    ///     Err(ReserveError::TooFar { wait: Nanos::from_millis(200) })
    /// );
    /// assert!(limiter.cancel(second, Nanos::from_millis(10))); // nothing taken after it
    /// assert_eq!(limiter.wait_time(1, Nanos::from_millis(10)), Ok(Nanos::from_millis(90)));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ReserveError::InsufficientCapacity`] when `n` exceeds the burst;
    /// [`ReserveError::TooFar`] when the permits would be valid later than `now + max_wait`, or
    /// when the debt would leave the range of the state word. Nothing is taken on error.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn reserve(
        &self,
        n: u64,
        now: Nanos,
        max_wait: Nanos,
    ) -> Result<Reservation, ReserveError> {
        if n == 0 {
            // As `try_acquire_n(0, _)`: ready now, nothing read, written or counted.
            return Ok(Reservation { permits: 0, ready_at: now, word: 0, cost: 0 });
        }
        let rel = self.rel(now);
        let max_wait = max_wait.as_u64();
        let result = self.update(|word, p| {
            let cost =
                p.cost(n).map_err(|e| Refusal::Other(ReserveError::InsufficientCapacity(e)))?;
            let tat = TAT.get(word);
            let new_tat = if tat > rel { tat } else { rel } + cost;
            let wait = (new_tat - rel).saturating_sub(p.span);
            if wait > max_wait || new_tat > TAT_MAX {
                return Err(Refusal::Other(ReserveError::TooFar { wait: Nanos::new(wait) }));
            }
            let new = TAT.set(word, new_tat);
            Ok((new, (new, cost, rel + wait)))
        });
        match result {
            Ok((word, cost, ready)) => {
                self.count(&self.admitted);
                Ok(Reservation { permits: n, ready_at: self.abs(ready), word, cost })
            }
            Err(Refusal::Other(e)) => {
                self.count(&self.rejected);
                Err(e)
            }
            Err(Refusal::Wait(_)) => {
                // `decide` above never returns `Wait`.
                self.count(&self.rejected);
                Err(ReserveError::TooFar { wait: Nanos::MAX })
            }
        }
    }

    /// Gives back the permits of `reservation` if nothing was taken after it; returns whether it
    /// did.
    ///
    /// # Semantics
    ///
    /// One CAS from the word the reservation wrote to the same word with `tat` moved back by the
    /// reservation's cost. It succeeds only if the state word is exactly the one the reservation
    /// left: no admission or reservation after it (unless those were all cancelled first), no
    /// `reconfigure` since. It does nothing (returns `false`) once `now >= ready_at`: the permits
    /// are then in use. `n == 0` reservations return `true` and change nothing.
    ///
    /// This is stricter than x/time/rate's `Reservation.CancelAt`, which gives back the
    /// reserved tokens minus those reserved after it (a partial refund); here a refund is all or
    /// nothing, so a cancelled reservation never lets a later one start earlier than promised.
    ///
    /// # Panics
    ///
    /// Never.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "consuming the reservation is the point: it can be cancelled at most once"
    )]
    pub fn cancel(&self, reservation: Reservation, now: Nanos) -> bool {
        if reservation.cost == 0 {
            return true;
        }
        if now >= reservation.ready_at {
            return false;
        }
        let word = reservation.word;
        let back = TAT.set(word, TAT.get(word).saturating_sub(reservation.cost));
        // Strong CAS: a spurious failure would lose the refund for good. Release: as every write
        // of the word (see `update`); Relaxed on failure: the value is not used.
        self.state.compare_exchange(word, back, Ordering::Release, Ordering::Relaxed).is_ok()
    }

    /// Replaces the rate and burst at `now`, keeping the fill level.
    ///
    /// # Semantics
    ///
    /// The fill level at `now` is `(τ − max(0, tat − now)) / interval` permits (a fraction, and
    /// negative while reservations hold the bucket in debt). It is kept exactly, capped at the new
    /// burst, and rounded down to whole nanoseconds of the new interval so that no fraction of a
    /// permit is gained: a full bucket of 10 reconfigured to a burst of 100 holds 10 and refills
    /// towards 100; one holding 30 reconfigured to a burst of 20 holds 20; a debt of 3 permits
    /// stays a debt of 3 permits at the new rate (cut at the end of the 60-bit word, about 34
    /// years after the origin, if it would reach past it). Decisions that start after `reconfigure`
    /// returns use the new quota; a decision running concurrently is committed under the quota
    /// it read or retried (the generation in the word makes its CAS fail). Outstanding
    /// reservations can no longer be cancelled.
    ///
    /// Lock-free with respect to acquisitions (they never wait for it). Two concurrent
    /// reconfigurations do not wait either: the second returns [`ReconfigureInProgress`]. (A
    /// reconfiguration that never finishes, because its thread was killed between its two CASes,
    /// would leave later reconfigurations refused; acquisitions are never affected.)
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{Nanos, limiter::*};
    /// let limiter = RateLimiter::new(
    ///     RateLimiterConfig::new(Quota::per_second(10, 10).unwrap()),
    ///     Nanos::ZERO,
    /// );
    /// assert!(limiter.try_acquire_n(4, Nanos::ZERO).unwrap().is_admitted()); // 6 left
    /// limiter.reconfigure(Quota::per_second(100, 50).unwrap(), Nanos::ZERO).unwrap();
    /// assert_eq!(limiter.snapshot(Nanos::ZERO).available, 6); // kept, at the new rate
    /// assert_eq!(limiter.snapshot(Nanos::from_millis(10)).available, 7);
    /// ```
    ///
    /// # Errors
    ///
    /// [`ReconfigureInProgress`] when another `reconfigure` of this limiter has not finished.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn reconfigure(&self, quota: Quota, now: Nanos) -> Result<(), ReconfigureInProgress> {
        let now = self.rel(now);
        // 1. Claim: set `pending`. Acquire: the old slot (read below) was published by the
        // release CAS that installed this generation.
        let mut word = self.state.load(Ordering::Acquire);
        loop {
            if PENDING.get(word) == 1 {
                return Err(ReconfigureInProgress);
            }
            match self.state.compare_exchange_weak(
                word,
                PENDING.set(word, 1),
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        let generation = GENERATION.get(word);
        let old = self.params(word);
        let next_generation = (generation + 1) & GENERATION.max();
        let spare = self.config.slot(next_generation);
        // 2. Write the spare slot. Release fence: a reader whose slot loads see these stores
        // also sees `pending` (or later) on its validating reload (see `read`).
        fence(Ordering::Release);
        spare.interval.store(quota.interval, Ordering::Relaxed);
        spare.span.store(quota.interval.saturating_mul(quota.burst), Ordering::Relaxed);
        let new =
            Params { interval: quota.interval, span: quota.interval.saturating_mul(quota.burst) };
        // 3. Install: convert `tat` and bump the generation, clearing `pending`. Acquisitions may
        // still move `tat` meanwhile (under the old generation), so convert what the CAS finds.
        // Release: publishes the slot stores to every acquire load of this word or a later one.
        let mut current = PENDING.set(word, 1);
        loop {
            let tat = convert(TAT.get(current), old, new, now);
            let next = GENERATION.set(TAT.set(0, tat), next_generation);
            match self.state.compare_exchange_weak(
                current,
                next,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }

    /// The quota in force.
    #[must_use]
    pub fn quota(&self) -> Quota {
        let (_, p) = self.read(|_, p| p);
        Quota { interval: p.interval, burst: p.burst() }
    }

    /// The addresses of the state word and the configuration slots, the origin and the flags, for
    /// a binding that decides acquisitions itself (see [`RawWords`] for the exact procedure). The
    /// pointers are valid while the limiter lives; nothing may be written through them but the
    /// compare-and-swap [`RawWords`] describes.
    #[cfg(not(loom))]
    #[must_use]
    pub fn raw_words(&self) -> RawWords {
        RawWords {
            state: self.state.as_ptr().cast_const(),
            // From the whole `Config`, so the pointer covers both slots (layout checked above).
            slots: core::ptr::from_ref::<Config>(&self.config).cast::<[u64; 4]>(),
            origin: Nanos::new(self.config.origin),
            counting: self.config.counting,
            shadow: self.config.shadow,
        }
    }

    /// Counters, available permits at `now`, rate and burst, read without writing.
    ///
    /// # Semantics
    ///
    /// `available`, `interval` and `burst` come from one consistent (word, configuration) pair;
    /// the counters are read after it and are each exact at some instant of the call.
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{Nanos, limiter::*};
    /// let limiter = RateLimiter::new(
    ///     RateLimiterConfig::new(Quota::per_second(10, 3).unwrap()).counting(true),
    ///     Nanos::ZERO,
    /// );
    /// for _ in 0..4 {
    ///     let _ = limiter.try_acquire(Nanos::ZERO);
    /// }
    /// let s = limiter.snapshot(Nanos::ZERO);
    /// assert_eq!((s.admitted, s.rejected, s.available), (Some(3), Some(1), 0));
    /// assert_eq!(limiter.snapshot(Nanos::from_millis(250)).available, 2);
    /// ```
    ///
    /// # Panics
    ///
    /// Never.
    #[must_use]
    pub fn snapshot(&self, now: Nanos) -> RateLimiterSnapshot {
        let now = self.rel(now);
        let (_, (available, p)) = self.read(|word, p| (available(word, p, now), p));
        let counter = |c: &AtomicU64| self.config.counting.then(|| c.load(Ordering::Relaxed));
        RateLimiterSnapshot {
            available,
            interval: Nanos::new(p.interval),
            burst: p.burst(),
            admitted: counter(&self.admitted),
            rejected: counter(&self.rejected),
            shadow: self.config.shadow,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn limiter(rate: u64, burst: u64) -> RateLimiter {
        RateLimiter::new(
            RateLimiterConfig::new(Quota::per_second(rate, burst).unwrap()),
            Nanos::ZERO,
        )
    }

    #[test]
    fn quota_errors_name_the_rule() {
        assert_eq!(
            Quota::per_second(1_000_000_001, 1),
            Err(ConfigError::OutOfRange {
                field: "rate",
                min: 1,
                max: 1_000_000_000,
                got: 1_000_000_001
            })
        );
        assert_eq!(
            Quota::per_interval(Nanos::ZERO, 1),
            Err(ConfigError::OutOfRange { field: "interval", min: 1, max: MAX_SPAN_NS, got: 0 })
        );
        assert_eq!(
            Quota::per_interval(Nanos::new(MAX_SPAN_NS + 1), 1).unwrap_err(),
            ConfigError::OutOfRange {
                field: "interval",
                min: 1,
                max: MAX_SPAN_NS,
                got: MAX_SPAN_NS + 1
            }
        );
        assert_eq!(
            Quota::per_second(10, 0),
            Err(ConfigError::OutOfRange { field: "burst", min: 1, max: MAX_SPAN_NS, got: 0 })
        );
        assert_eq!(
            Quota::per_interval(Nanos::new(1 << 30), 1 << 30),
            Err(ConfigError::BurstSpanOverflow {
                field: "burst",
                interval_ns: 1 << 30,
                burst: 1 << 30,
                max_ns: MAX_SPAN_NS
            })
        );
        assert!(Quota::per_interval(Nanos::new(1 << 28), 1 << 28).is_ok());
        assert_eq!(
            Quota::per_interval(Nanos::new(3), u64::MAX).unwrap_err(),
            ConfigError::OutOfRange { field: "burst", min: 1, max: MAX_SPAN_NS, got: u64::MAX }
        );
    }

    #[test]
    fn burst_then_one_per_interval_exactly() {
        let l = limiter(10, 3); // T = 100 ms
        let t0 = Nanos::from_secs(5);
        for _ in 0..3 {
            assert_eq!(l.try_acquire(t0), Decision::Admitted);
        }
        assert_eq!(l.try_acquire(t0), Decision::Rejected { retry_after: Nanos::from_millis(100) });
        let t1 = t0.saturating_add(Nanos::from_millis(100));
        assert_eq!(
            l.try_acquire(t1.saturating_sub(Nanos::new(1))),
            Decision::Rejected { retry_after: Nanos::new(1) }
        );
        assert_eq!(l.try_acquire(t1), Decision::Admitted);
        assert!(!l.try_acquire(t1).is_admitted());
    }

    #[test]
    fn idle_refill_is_capped_at_burst() {
        let l = limiter(1_000, 5);
        let t = Nanos::from_secs(3_600);
        assert_eq!(l.snapshot(t).available, 5);
        assert_eq!(l.try_acquire_n(5, t), Ok(Decision::Admitted));
        assert!(!l.try_acquire(t).is_admitted());
    }

    #[test]
    fn backward_time_never_admits_a_burst() {
        let l = limiter(10, 2);
        let t = Nanos::from_secs(3_700);
        assert!(l.try_acquire_n(2, t).unwrap().is_admitted());
        // The clock jumps back an hour: no refill is credited.
        assert!(!l.try_acquire(Nanos::from_secs(100)).is_admitted());
        assert!(!l.try_acquire(Nanos::ZERO).is_admitted());
        assert_eq!(l.snapshot(Nanos::ZERO).available, 0);
        assert_eq!(l.wait_time(1, Nanos::from_secs(100)), Ok(Nanos::from_millis(3_600_100)));
        assert!(l.try_acquire(Nanos::from_millis(3_700_100)).is_admitted());
    }

    #[test]
    fn start_empty_gives_the_first_permit_one_interval_later() {
        let cfg = RateLimiterConfig::new(Quota::per_second(4, 2).unwrap()).start(Start::Empty);
        let l = RateLimiter::new(cfg, Nanos::from_secs(100));
        let t = Nanos::from_secs(100);
        assert_eq!(l.try_acquire(t), Decision::Rejected { retry_after: Nanos::from_millis(250) });
        assert!(l.try_acquire(t.saturating_add(Nanos::from_millis(250))).is_admitted());
        // Before the origin reads as the origin.
        assert_eq!(l.snapshot(Nanos::ZERO).available, 0);
    }

    #[test]
    fn zero_permits_are_always_admitted_and_change_nothing() {
        let l = limiter(1, 1);
        assert!(l.try_acquire(Nanos::ZERO).is_admitted());
        assert_eq!(l.try_acquire_n(0, Nanos::ZERO), Ok(Decision::Admitted));
        assert_eq!(l.wait_time(0, Nanos::ZERO), Ok(Nanos::ZERO));
        assert_eq!(l.wait_time(1, Nanos::ZERO), Ok(Nanos::from_secs(1)));
        let r = l.reserve(0, Nanos::ZERO, Nanos::ZERO).unwrap();
        assert_eq!(r.ready_at(), Nanos::ZERO);
        assert!(l.cancel(r, Nanos::ZERO));
        assert_eq!(l.wait_time(1, Nanos::ZERO), Ok(Nanos::from_secs(1)));
    }

    #[test]
    fn cancel_refunds_only_if_nothing_came_after() {
        let l = limiter(10, 1);
        let t = Nanos::ZERO;
        let _first = l.reserve(1, t, Nanos::MAX).unwrap();
        let ra = l.reserve(1, t, Nanos::MAX).unwrap();
        let rb = l.reserve(1, t, Nanos::MAX).unwrap();
        assert_eq!(
            (ra.ready_at(), rb.ready_at()),
            (Nanos::from_millis(100), Nanos::from_millis(200))
        );
        assert_eq!(ra.delay_from(Nanos::from_millis(30)), Nanos::from_millis(70));
        // `a` has `b` after it: no refund. Then `b` is cancelled; a fresh `c` takes its place.
        let b_word = rb.word;
        assert!(l.cancel(rb, t));
        assert_eq!(l.state.load(Ordering::Relaxed), ra.word);
        let rc = l.reserve(1, t, Nanos::MAX).unwrap();
        assert_eq!(rc.word, b_word);
        assert!(!l.cancel(ra, Nanos::from_millis(100)), "ready_at reached: in use");
        assert!(!l.cancel(rc, Nanos::from_millis(200)));
        let rd = l.reserve(1, t, Nanos::MAX).unwrap();
        assert!(l.try_acquire(Nanos::from_secs(5)).is_admitted());
        assert!(!l.cancel(rd, t), "something was admitted after it");
    }

    #[test]
    fn reserve_refuses_beyond_max_wait_and_writes_nothing() {
        let l = limiter(10, 2);
        assert_eq!(
            l.reserve(3, Nanos::ZERO, Nanos::MAX),
            Err(ReserveError::InsufficientCapacity(InsufficientCapacity {
                requested: 3,
                burst: 2
            }))
        );
        let _r = l.reserve(2, Nanos::ZERO, Nanos::ZERO).unwrap();
        let before = l.state.load(Ordering::Relaxed);
        assert_eq!(
            l.reserve(2, Nanos::ZERO, Nanos::from_millis(199)),
            Err(ReserveError::TooFar { wait: Nanos::from_millis(200) })
        );
        assert_eq!(l.state.load(Ordering::Relaxed), before);
        let r = l.reserve(2, Nanos::ZERO, Nanos::from_millis(200)).unwrap();
        assert_eq!(r.ready_at(), Nanos::from_millis(200));
        assert_eq!(r.permits(), 2);
        // In debt: nothing available, and a try waits for the debt too.
        assert_eq!(l.snapshot(Nanos::ZERO).available, 0);
        assert_eq!(l.wait_time(1, Nanos::ZERO), Ok(Nanos::from_millis(300)));
    }

    #[test]
    fn reserve_never_leaves_the_word() {
        let q = Quota::per_interval(Nanos::new(MAX_SPAN_NS), 1).unwrap();
        let l = RateLimiter::new(RateLimiterConfig::new(q), Nanos::ZERO);
        let mut last = Nanos::ZERO;
        let mut refused = false;
        for _ in 0..40 {
            match l.reserve(1, Nanos::ZERO, Nanos::MAX) {
                Ok(r) => {
                    assert!(r.ready_at() >= last);
                    last = r.ready_at();
                }
                Err(ReserveError::TooFar { .. }) => refused = true,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(refused, "16 reservations of 2^56 ns fill the 2^60 ns word");
        assert!(TAT.get(l.state.load(Ordering::Relaxed)) <= TAT_MAX);
    }

    #[test]
    fn end_of_range_refuses_rather_than_over_admits() {
        let l = limiter(1, 1);
        assert!(l.try_acquire(Nanos::MAX).is_admitted());
        assert!(!l.try_acquire(Nanos::MAX).is_admitted());
        assert!(!l.try_acquire(Nanos::new(u64::MAX - 1)).is_admitted());
    }

    #[test]
    fn shadow_admits_but_reports_and_counts() {
        let cfg =
            RateLimiterConfig::new(Quota::per_second(1, 1).unwrap()).shadow(true).counting(true);
        let l = RateLimiter::new(cfg, Nanos::ZERO);
        assert_eq!(l.try_acquire(Nanos::ZERO), Decision::Admitted);
        let d = l.try_acquire(Nanos::ZERO);
        assert_eq!(d, Decision::ShadowAdmitted { retry_after: Nanos::from_secs(1) });
        assert!(d.is_admitted() && !d.would_admit());
        assert_eq!(
            l.try_acquire_n(2, Nanos::ZERO),
            Err(InsufficientCapacity { requested: 2, burst: 1 })
        );
        let s = l.snapshot(Nanos::ZERO);
        assert_eq!((s.admitted, s.rejected, s.shadow), (Some(1), Some(2), true));
        // The shadow refusal took nothing: the bucket is back after one interval.
        assert_eq!(l.try_acquire(Nanos::from_secs(1)), Decision::Admitted);
    }

    #[test]
    fn counters_are_none_when_off() {
        let l = limiter(1, 1);
        let _ = l.try_acquire(Nanos::ZERO);
        let s = l.snapshot(Nanos::ZERO);
        assert_eq!((s.admitted, s.rejected, s.shadow), (None, None, false));
        assert_eq!((s.interval, s.burst), (Nanos::from_secs(1), 1));
    }

    #[test]
    fn reconfigure_keeps_the_fill_level() {
        // Full bucket of 10 -> burst 100: holds 10, refills towards 100.
        let l = limiter(10, 10);
        l.reconfigure(Quota::per_second(10, 100).unwrap(), Nanos::ZERO).unwrap();
        assert_eq!(l.snapshot(Nanos::ZERO).available, 10);
        assert_eq!(l.snapshot(Nanos::from_secs(1)).available, 20);
        assert_eq!(l.snapshot(Nanos::from_secs(100)).available, 100);
        assert_eq!(l.quota(), Quota::per_second(10, 100).unwrap());
        // 30 available -> burst 20: capped at 20.
        let l = limiter(10, 40);
        assert!(l.try_acquire_n(10, Nanos::ZERO).unwrap().is_admitted());
        l.reconfigure(Quota::per_second(10, 20).unwrap(), Nanos::ZERO).unwrap();
        assert_eq!(l.snapshot(Nanos::ZERO).available, 20);
        // A debt of 3 permits (reservations) stays 3 permits at the new rate.
        let l = limiter(10, 1);
        let _r = l.reserve(1, Nanos::ZERO, Nanos::MAX).unwrap();
        let _r = l.reserve(1, Nanos::ZERO, Nanos::MAX).unwrap();
        let _r = l.reserve(1, Nanos::ZERO, Nanos::MAX).unwrap();
        let _r = l.reserve(1, Nanos::ZERO, Nanos::MAX).unwrap();
        assert_eq!(l.wait_time(1, Nanos::ZERO), Ok(Nanos::from_millis(400)));
        l.reconfigure(Quota::per_second(100, 1).unwrap(), Nanos::ZERO).unwrap();
        assert_eq!(l.wait_time(1, Nanos::ZERO), Ok(Nanos::from_millis(40)));
        // Half a permit is not rounded up into a whole one.
        let l = limiter(2, 1); // T = 500 ms
        assert!(l.try_acquire(Nanos::ZERO).is_admitted());
        l.reconfigure(Quota::per_second(1, 1).unwrap(), Nanos::from_millis(250)).unwrap();
        assert_eq!(l.wait_time(1, Nanos::from_millis(250)), Ok(Nanos::from_millis(500)));
    }

    #[test]
    fn reconfigure_is_refused_while_another_is_pending() {
        let l = limiter(10, 10);
        let w = l.state.load(Ordering::Relaxed);
        l.state.store(PENDING.set(w, 1), Ordering::Relaxed);
        assert_eq!(
            l.reconfigure(Quota::per_second(1, 1).unwrap(), Nanos::ZERO),
            Err(ReconfigureInProgress)
        );
        // Acquisitions go on and keep the bit.
        assert!(l.try_acquire(Nanos::ZERO).is_admitted());
        assert_eq!(PENDING.get(l.state.load(Ordering::Relaxed)), 1);
        l.state.store(w, Ordering::Relaxed);
        // Eight reconfigurations wrap the generation and still alternate slots.
        for i in 1..=9 {
            l.reconfigure(Quota::per_second(i, i).unwrap(), Nanos::ZERO).unwrap();
            assert_eq!(l.quota(), Quota::per_second(i, i).unwrap());
        }
    }

    /// The procedure of [`RawWords`], written against the raw pointers as a binding would.
    fn raw_try_acquire(raw: RawWords, n: u64, now: u64) -> Result<Decision, InsufficientCapacity> {
        const TAT_MASK: u64 = (1 << TAT_BITS) - 1;
        let generation = |w: u64| (w >> TAT_BITS) & ((1 << GENERATION_BITS) - 1);
        if n == 0 {
            return Ok(Decision::Admitted);
        }
        let rel = now.saturating_sub(raw.origin.as_u64()).min(MAX_RELATIVE_NOW_NS);
        // SAFETY: the pointers of a live limiter, read and CASed as atomics.
        let (state, slots) =
            unsafe { (&*raw.state.cast::<AtomicU64>(), &*raw.slots.cast::<[AtomicU64; 4]>()) };
        let mut word = state.load(Ordering::Acquire);
        loop {
            let s = slots.each_ref().map(|a| a.load(Ordering::Relaxed));
            let (interval, span) =
                if generation(word) & 1 == 0 { (s[0], s[1]) } else { (s[2], s[3]) };
            let refusal = match n.checked_mul(interval) {
                Some(cost) if cost <= span => {
                    let tat = word & TAT_MASK;
                    let new_tat = tat.max(rel) + cost;
                    if new_tat - rel <= span {
                        let new = (word & !TAT_MASK) | new_tat;
                        match state.compare_exchange(
                            word,
                            new,
                            Ordering::Release,
                            Ordering::Acquire,
                        ) {
                            Ok(_) => return Ok(Decision::Admitted),
                            Err(actual) => {
                                word = actual;
                                continue;
                            }
                        }
                    }
                    Ok(Decision::Rejected { retry_after: Nanos::new(new_tat - rel - span) })
                }
                _ => Err(InsufficientCapacity { requested: n, burst: span / interval }),
            };
            let again = state.load(Ordering::Acquire);
            if generation(again) == generation(word) {
                return refusal;
            }
            word = again;
        }
    }

    #[test]
    fn raw_words_decide_as_try_acquire_n() {
        use crate::rng::SplitMix64;
        let quotas = [
            Quota::per_second(10, 3).unwrap(),
            Quota::per_interval(Nanos::new(7), 1_000).unwrap(),
            Quota::per_interval(Nanos::new(MAX_SPAN_NS), 1).unwrap(),
            Quota::per_interval(Nanos::new(1), MAX_SPAN_NS).unwrap(),
        ];
        let mut rng = SplitMix64::new(7);
        for (i, q) in quotas.iter().enumerate() {
            let config = RateLimiterConfig::new(*q);
            let origin = Nanos::new(1_000 * i as u64);
            let (fast, slow) = (RateLimiter::new(config, origin), RateLimiter::new(config, origin));
            let raw = fast.raw_words();
            assert!(!raw.counting && !raw.shadow);
            assert_eq!(raw.origin, origin);
            let mut now = origin.as_u64();
            let mut seen = [0u32; 3]; // admitted, refused, above the capacity
            for step in 0..20_000 {
                now = match rng.below(20) {
                    // Anywhere, at every magnitude, beyond the range included.
                    0 => rng.next_u64() >> rng.below(64),
                    1 => now.saturating_sub(rng.below(1 << 40)),
                    _ => now.saturating_add(rng.below(q.interval().as_u64().saturating_mul(2))),
                };
                let n = match rng.below(10) {
                    0 => rng.next_u64(),
                    1 => 0,
                    _ => rng.below(4),
                };
                match rng.below(50) {
                    0 => {
                        let q = quotas[usize::try_from(rng.below(4)).unwrap()];
                        fast.reconfigure(q, Nanos::new(now)).unwrap();
                        slow.reconfigure(q, Nanos::new(now)).unwrap();
                    }
                    1 => {
                        let (a, b) = (Nanos::new(now), Nanos::new(rng.next_u64() >> 4));
                        let r = (
                            fast.reserve(n, a, b).map(Reservation::into_raw),
                            slow.reserve(n, a, b),
                        );
                        assert_eq!(r.0, r.1.map(Reservation::into_raw));
                    }
                    _ => {
                        let d = raw_try_acquire(raw, n, now);
                        assert_eq!(
                            d,
                            slow.try_acquire_n(n, Nanos::new(now)),
                            "quota {i}, step {step}, n {n}, now {now}"
                        );
                        seen[match d {
                            Ok(Decision::Admitted) => 0,
                            Ok(_) => 1,
                            Err(_) => 2,
                        }] += 1;
                    }
                }
                assert_eq!(fast.state.load(Ordering::Relaxed), slow.state.load(Ordering::Relaxed));
            }
            assert!(seen.iter().all(|&k| k > 100), "quota {i}: {seen:?}");
        }
    }

    /// The size stated in `docs/semantics/rate-limiter.md`: four cache-line pairs.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn size_matches_the_documentation() {
        assert_eq!(core::mem::size_of::<RateLimiter>(), 512);
        assert_eq!(core::mem::align_of::<RateLimiter>(), 128);
    }

    #[test]
    fn long_run_admits_burst_plus_rate_times_duration() {
        // R = 50/s, B = 7, over T = 20 s polled every 3 ms: B + R·T ± 1.
        let l = limiter(50, 7);
        let mut admitted = 0u64;
        let mut t = 0u64;
        while t <= 20_000_000_000 {
            while l.try_acquire(Nanos::new(t)).is_admitted() {
                admitted += 1;
            }
            t += 3_000_000;
        }
        assert!((7 + 50 * 20 - 1..=7 + 50 * 20 + 1).contains(&admitted), "{admitted}");
    }

    #[test]
    fn raw_reservation_round_trips_and_cancels_once() {
        let limiter = RateLimiter::new(
            RateLimiterConfig::new(Quota::per_second(10, 1).unwrap()),
            Nanos::ZERO,
        );
        assert!(limiter.try_acquire(Nanos::ZERO).is_admitted());
        let raw = limiter.reserve(1, Nanos::ZERO, Nanos::from_secs(1)).unwrap().into_raw();
        assert_eq!(raw.permits, 1);
        assert_eq!(raw.ready_at, Nanos::from_millis(100));
        assert_eq!(limiter.wait_time(1, Nanos::ZERO), Ok(Nanos::from_millis(200)));
        assert!(limiter.cancel(Reservation::from_raw(raw), Nanos::ZERO));
        assert_eq!(limiter.wait_time(1, Nanos::ZERO), Ok(Nanos::from_millis(100)));
        // A copy cancelled again gives nothing more back.
        assert!(!limiter.cancel(Reservation::from_raw(raw), Nanos::ZERO));
        assert_eq!(limiter.wait_time(1, Nanos::ZERO), Ok(Nanos::from_millis(100)));
    }
}
