//! The bulkhead: a semaphore of permits that bounds how many calls run at once.
//!
//! [`Bulkhead`] holds its whole admission state (permits in flight, the limit, shadow mode, and
//! the low bits of its counters) in one atomic word, so one compare-and-swap decides every
//! admission and every release. [`Permit`] gives the permits back when dropped. The limit can be
//! moved while permits are out ([`Bulkhead::resize`]), by hand or by an adaptive limit
//! ([`crate::adaptive`]).
//!
//! The exact semantics, boundaries and concurrency guarantees are in
//! `docs/semantics/bulkhead.md`, included below.
#![doc = include_str!("../../docs/semantics/bulkhead.md")]

use core::fmt;

use crate::error::ConfigError;
use crate::sync::{AtomicU64, CachePadded, Ordering, loom_const_fn, zeroed_array};
use crate::word::Field;

/// State word: `| in_flight:24 | limit:23 | shadow:1 | admitted:8 | rejected:8 |`.
///
/// - `in_flight`: permits handed out and not yet released. Only an admission raises it and only a
///   release lowers it. It is the top field so that a release can be one `fetch_sub`: subtracting
///   from the top field never borrows from another field, even when it wraps (an over-release,
///   which is then undone, see [`Bulkhead::release`]).
/// - `limit`: the configured limit, at most [`MAX_LIMIT`].
/// - `shadow`: 1 in shadow mode (decide and count, but admit).
/// - `admitted`, `rejected`: the counters modulo 256, always written with [`Field::set`] inside a
///   CAS. The admission or refusal that wraps a field back to 0 adds 256 to the matching spill
///   word after its CAS (see [`Bulkhead::snapshot`]), so the hot path never touches a second
///   cache line except once in 256 decisions.
///
/// Invariant (outside shadow mode, and except after a `resize` downwards or during an
/// over-release): `in_flight <= limit`.
const REJECTED: Field = Field::new(0, 8);
const ADMITTED: Field = Field::new(8, 8);
const SHADOW: Field = Field::new(16, 1);
const LIMIT: Field = Field::new(17, 23);
const IN_FLIGHT: Field = Field::new(40, 24);
const _: () = assert!(Field::disjoint(&[IN_FLIGHT, LIMIT, SHADOW, ADMITTED, REJECTED]));

/// What one wrap of a counter field is worth in its spill word.
const COUNTER_WRAP: u64 = ADMITTED.max() + 1;
const _: () = assert!(ADMITTED.max() == REJECTED.max());

/// The largest limit a bulkhead accepts: 2²³ − 1 = 8,388,607 permits.
pub const MAX_LIMIT: u32 = (1 << 23) - 1;

/// The most permits that can be in flight at once: 2²⁴ − 1 = 16,777,215. Reached only in shadow
/// mode (which admits beyond the limit) or after a downward resize; an acquisition that would go
/// past it is refused even in shadow mode, because it could not be counted.
pub const MAX_IN_FLIGHT: u32 = (1 << 24) - 1;

/// The spill words (see [`Bulkhead::spill`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spill {
    Admitted,
    Rejected,
    OverReleases,
}

/// Why [`Bulkhead::try_acquire`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rejected {
    /// Not enough permits are free now; they may be after releases.
    Full {
        /// Permits requested.
        requested: u32,
        /// Permits in flight when the refusal was decided.
        in_flight: u32,
        /// The limit when the refusal was decided.
        limit: u32,
    },
    /// More permits were requested than the limit: no number of releases can admit this request
    /// at the current limit (only a [`resize`](Bulkhead::resize) upwards could).
    ExceedsLimit {
        /// Permits requested.
        requested: u32,
        /// The limit when the refusal was decided.
        limit: u32,
    },
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Rejected::Full { requested, in_flight, limit } => write!(
                f,
                "bulkhead full: {requested} permits requested, {in_flight} of {limit} in flight"
            ),
            Rejected::ExceedsLimit { requested, limit } => {
                write!(f, "{requested} permits requested, more than the limit of {limit}")
            }
        }
    }
}

impl core::error::Error for Rejected {}

/// A release of more permits than were in flight, refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReleaseError {
    /// `released` permits were given back while only `in_flight` were out. Nothing was released:
    /// the state is unchanged, and the event is counted in
    /// [`BulkheadSnapshot::over_releases`].
    OverRelease {
        /// Permits the caller tried to release.
        released: u32,
        /// Permits in flight at that moment.
        in_flight: u32,
    },
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReleaseError::OverRelease { released, in_flight } => {
                write!(f, "release of {released} permits refused: only {in_flight} are in flight")
            }
        }
    }
}

impl core::error::Error for ReleaseError {}

/// A bulkhead's counters and state at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BulkheadSnapshot {
    /// Acquisitions decided as admissions since construction (each counts once, whatever its
    /// number of permits).
    pub admitted: u64,
    /// Acquisitions decided as refusals since construction. In shadow mode this includes the
    /// acquisitions that were refused by the rule but let through.
    pub rejected: u64,
    /// Releases refused because they would have released more permits than were in flight.
    pub over_releases: u64,
    /// Permits in flight.
    pub in_flight: u32,
    /// The limit.
    pub limit: u32,
    /// Permits free now: `limit − in_flight`, or 0 when `in_flight >= limit`.
    pub available: u32,
    /// Whether the bulkhead is in shadow mode.
    pub shadow: bool,
}

/// The result of a successful acquisition, before it is wrapped in a [`Permit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Admission {
    in_flight: u32,
    /// `limit + 1` when shadow mode let through an acquisition that the rule refused at `limit`;
    /// 0 when the rule admitted (see [`Permit::would_reject`]).
    refused_at: u32,
}

/// A semaphore of permits on one atomic word: bounds the calls running at once.
///
/// # Semantics
///
/// An acquisition of `n` permits is admitted if and only if `in_flight + n <= limit`, all or
/// nothing; then `in_flight` grows by `n` until the permits are released. `n = 0` is admitted
/// whenever `in_flight <= limit`. A release of more permits than are in flight is refused and
/// reported ([`ReleaseError::OverRelease`]): capacity never grows by mistake.
/// [`resize`](Self::resize) moves the limit while permits are out; after a resize downwards,
/// `in_flight` may exceed the new limit until releases bring it down, and nothing is admitted
/// until then. In shadow mode ([`set_shadow`](Self::set_shadow)) every decision is made and counted
/// as usual, but a refused acquisition is let through: its [`Permit`] reports what the bulkhead
/// would have done ([`Permit::would_reject`]).
///
/// # Concurrency
///
/// Every admission, release and counted refusal is one read-modify-write of the state word, so
/// it is linearizable: a counted refusal is confirmed by the compare-and-swap that counts it,
/// which reads the latest value of the word. A bulkhead built with
/// [`count_refusals(false)`](Self::count_refusals) decides a refusal on one load instead, which
/// writes nothing but may be stale by a concurrent release (see `docs/semantics/bulkhead.md`).
/// The one exception is a caller's
/// over-release, which is undone after the fact and can make acquisitions concurrent with it be
/// refused ([`release`](Self::release)). The bulkhead never has more than `limit`
/// permits out, except as described for a downward resize and for shadow mode.
///
/// # Examples
///
/// ```
/// use portcullis::bulkhead::{Bulkhead, Rejected};
/// let bulkhead = Bulkhead::new(2).unwrap();
/// let a = bulkhead.try_acquire(1).unwrap();
/// let b = bulkhead.try_acquire(1).unwrap();
/// assert!(matches!(bulkhead.try_acquire(1), Err(Rejected::Full { in_flight: 2, .. })));
/// drop(a); // releases its permit
/// let c = bulkhead.try_acquire(1).unwrap();
/// let s = bulkhead.snapshot();
/// assert_eq!((s.admitted, s.rejected, s.in_flight, s.available), (3, 1, 2, 0));
/// # drop((b, c));
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Bulkhead {
    /// The state word (see [`IN_FLIGHT`]) and the read-only flag beside it, on one cache line.
    state: CachePadded<Hot>,
    /// Spill words: admitted and rejected in multiples of 256, and the over-release count. On a
    /// cache line of their own: written once per 256 decisions, they stay out of the hot line.
    spill: CachePadded<[AtomicU64; 3]>,
}

/// What the hot path reads: the state word, and beside it (never written after construction)
/// whether refusals are counted.
#[derive(Debug)]
struct Hot {
    word: AtomicU64,
    count_refusals: bool,
}

impl core::ops::Deref for Hot {
    type Target = AtomicU64;
    fn deref(&self) -> &AtomicU64 {
        &self.word
    }
}

impl Bulkhead {
    loom_const_fn! {
        /// A bulkhead of `limit` permits, none in flight, not in shadow mode.
        ///
        /// A limit of 0 is allowed: it admits nothing until resized.
        ///
        /// # Errors
        ///
        /// [`ConfigError::OutOfRange`] if `limit > MAX_LIMIT`.
        pub fn new(limit: u32) -> Result<Bulkhead, ConfigError> {
            if limit > MAX_LIMIT {
                return Err(ConfigError::OutOfRange {
                    field: "limit",
                    min: 0,
                    max: MAX_LIMIT as u64,
                    got: limit as u64,
                });
            }
            Ok(Bulkhead {
                state: CachePadded(Hot {
                    word: AtomicU64::new(LIMIT.place(limit as u64)),
                    count_refusals: true,
                }),
                spill: CachePadded(zeroed_array()),
            })
        }
    }

    loom_const_fn! {
        /// This bulkhead, with refusals counted (`true`, the default of [`new`](Self::new)) or
        /// not (`false`). Chosen once, before the bulkhead is shared.
        ///
        /// Counting a refusal is a write: a compare-and-swap on the state word, which also makes
        /// the refusal linearizable. Without counting, a refusal is decided on one load and writes
        /// nothing, so callers refused under overload do not contend with the releases that would
        /// free permits; [`BulkheadSnapshot::rejected`] then stays 0 (except in shadow mode,
        /// whose would-be refusals are admissions and are counted with them), and a refusal is
        /// only as fresh as that load (see [`try_acquire`](Self::try_acquire)).
        ///
        /// ```
        /// use portcullis::bulkhead::Bulkhead;
        /// let bulkhead = Bulkhead::new(1).unwrap().count_refusals(false);
        /// let _held = bulkhead.try_acquire(1).unwrap();
        /// assert!(bulkhead.try_acquire(1).is_err());
        /// assert_eq!(bulkhead.snapshot().rejected, 0, "the refusal wrote nothing");
        /// assert!(!bulkhead.counts_refusals());
        /// ```
        #[must_use]
        pub fn count_refusals(mut self, on: bool) -> Bulkhead {
            self.state.0.count_refusals = on;
            self
        }
    }

    /// Whether refusals are counted (see [`count_refusals`](Self::count_refusals)).
    #[must_use]
    pub const fn counts_refusals(&self) -> bool {
        self.state.0.count_refusals
    }

    fn spill(&self, which: Spill) -> &AtomicU64 {
        let [admitted, rejected, over_releases] = &self.spill.0;
        match which {
            Spill::Admitted => admitted,
            Spill::Rejected => rejected,
            Spill::OverReleases => over_releases,
        }
    }

    /// Tries to take `n` permits now, all or nothing.
    ///
    /// # Semantics
    ///
    /// Admitted if and only if `in_flight + n <= limit` at the moment of the decision (its
    /// linearization point, one compare-and-swap). In shadow mode, an acquisition that the rule
    /// refuses is admitted anyway and the permit says so ([`Permit::would_reject`]); only an
    /// acquisition that would take `in_flight` past [`MAX_IN_FLIGHT`] is really refused then.
    ///
    /// # Errors
    ///
    /// [`Rejected::ExceedsLimit`] if `n > limit`, otherwise [`Rejected::Full`] if
    /// `in_flight + n > limit`.
    ///
    /// # Progress
    ///
    /// Lock-free: one load, then one compare-and-swap, retried only when another thread changed
    /// the word in between; one decision in 256 adds a `fetch_add` to a spill word. A counted
    /// refusal costs what an admission costs (one CAS); an uncounted one
    /// ([`count_refusals(false)`](Self::count_refusals)) is the load alone and writes nothing.
    ///
    /// # Consistency of a refusal
    ///
    /// A counted refusal is linearizable: the CAS that counts it reads the latest value of the
    /// word. An uncounted refusal is decided on one load: it is true of a value of the word no
    /// older than any change that happens-before the call (a release this thread made, or one it
    /// synchronized with), but it may miss a release running concurrently with it.
    ///
    /// # Panics
    ///
    /// Never.
    #[inline]
    pub fn try_acquire(&self, n: u32) -> Result<Permit<'_>, Rejected> {
        self.acquire_inner(n, self.state.count_refusals).map(|admission| self.permit(n, admission))
    }

    /// The guard of an admission of `n` permits.
    #[inline]
    const fn permit(&self, n: u32, admission: Admission) -> Permit<'_> {
        Permit {
            bulkhead: self,
            permits: n,
            in_flight: admission.in_flight,
            refused_at: admission.refused_at,
        }
    }

    /// Like [`try_acquire`](Self::try_acquire), for callers that manage the release themselves
    /// (the C ABI): on success the caller owns `n` permits and must give them back with
    /// [`release`](Self::release). Returns the permits in flight just after the admission.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    #[inline]
    pub fn try_acquire_raw(&self, n: u32) -> Result<u32, Rejected> {
        self.acquire_inner(n, self.state.count_refusals).map(|a| a.in_flight)
    }

    /// The acquisition: decides on the latest word, and either commits the admission or confirms
    /// (and, when `count_refusal`, counts) the refusal with an RMW.
    #[allow(
        clippy::inline_always,
        reason = "with a plain #[inline], LLVM keeps one out-of-line copy for both callers, and \
                  an acquire + release costs 81 instead of 61 instructions \
                  (benches/instructions.txt)"
    )]
    #[inline(always)]
    fn acquire_inner(&self, n: u32, count_refusal: bool) -> Result<Admission, Rejected> {
        // Relaxed: this value is only the first guess of the CAS below, which re-reads the word.
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            match decide(cur, n) {
                Decision::Admit { new, shadow_refused, wrapped } => {
                    // Acquire on success: pairs with the Release of the `release` (or of any RMW
                    // later in its release sequence) that freed these permits, so that whatever
                    // the previous holder did under its permits happens-before this holder's
                    // work: the bulkhead of 1 is a mutex. Relaxed on failure: we only retry.
                    match self.state.compare_exchange_weak(
                        cur,
                        new,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => {
                            if wrapped {
                                self.carry(if shadow_refused {
                                    Spill::Rejected
                                } else {
                                    Spill::Admitted
                                });
                            }
                            #[allow(
                                clippy::cast_possible_truncation,
                                reason = "IN_FLIGHT is 24 bits wide"
                            )]
                            let in_flight = IN_FLIGHT.get(new) as u32;
                            #[allow(
                                clippy::cast_possible_truncation,
                                reason = "LIMIT is 23 bits wide"
                            )]
                            let refused_at =
                                if shadow_refused { LIMIT.get(new) as u32 + 1 } else { 0 };
                            return Ok(Admission { in_flight, refused_at });
                        }
                        Err(actual) => cur = actual,
                    }
                }
                Decision::Refuse { reason, new, wrapped } => {
                    if !count_refusal {
                        return Err(reason);
                    }
                    // The refusal is confirmed by this CAS: an RMW reads the latest value in the
                    // word's modification order, so if it succeeds, the refusal was true of the
                    // latest state (linearizable). If another thread changed the word since our
                    // read, the CAS fails and we decide again on its value. Relaxed: a refusal
                    // hands over no memory.
                    match self.state.compare_exchange_weak(
                        cur,
                        new,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => {
                            if wrapped {
                                self.carry(Spill::Rejected);
                            }
                            return Err(reason);
                        }
                        Err(actual) => cur = actual,
                    }
                }
            }
        }
    }

    /// Adds one wrap of a counter field to its spill word.
    fn carry(&self, which: Spill) {
        // Release: pairs with the Acquire load of the spill word in `snapshot`, so that a snapshot
        // that sees this carry also sees the wrap of the field in the state word (which is
        // sequenced before), and never counts the same 256 twice.
        self.spill(which).fetch_add(COUNTER_WRAP, Ordering::Release);
    }

    /// Gives back `n` permits taken by [`try_acquire_raw`](Self::try_acquire_raw) or
    /// [`Permit::into_raw`].
    ///
    /// # Semantics
    ///
    /// All or nothing: if `n` is more than the permits in flight, nothing is released, the
    /// over-release is counted ([`BulkheadSnapshot::over_releases`]) and reported. Releasing 0
    /// permits always succeeds and changes nothing.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::OverRelease`] if `n > in_flight`.
    ///
    /// # Concurrency
    ///
    /// A correct release is one `fetch_sub`. An over-release is detected from the value that
    /// `fetch_sub` returns and undone by a `fetch_add`; between the two, concurrent acquisitions
    /// see `in_flight` wrapped to a huge value and are refused. So refusals stay linearizable in
    /// every execution without over-releases, and an over-release (a caller's bug) can at worst
    /// cause spurious refusals while it is being undone; it never admits anything extra.
    ///
    /// # Progress
    ///
    /// Wait-free: one `fetch_sub` (and one `fetch_add` to undo an over-release).
    ///
    /// # Panics
    ///
    /// Never.
    #[inline]
    pub fn release(&self, n: u32) -> Result<(), ReleaseError> {
        let n64 = u64::from(n);
        if n64 > IN_FLIGHT.max() {
            // More than can ever be in flight: refused without touching the word.
            return Err(self.over_release(n, self.state.load(Ordering::Relaxed)));
        }
        let delta = IN_FLIGHT.place(n64);
        // Release: pairs with the Acquire of the admission that reuses these permits (see
        // `acquire_inner`). `in_flight` is the top field, so the subtraction never borrows from
        // the fields below it, even when it wraps.
        let prev = self.state.fetch_sub(delta, Ordering::Release);
        if n64 > IN_FLIGHT.get(prev) {
            // An over-release: `in_flight` wrapped to a huge value. Undo it (the addition wraps
            // back exactly, whatever other releases and admissions did meanwhile, because both
            // are additions modulo 2²⁴ in the top field). Meanwhile acquisitions saw a full
            // bulkhead: the only way a caller's bug shows through to others. Relaxed: the undo
            // publishes nothing.
            self.state.fetch_add(delta, Ordering::Relaxed);
            return Err(self.over_release(n, prev));
        }
        Ok(())
    }

    /// Counts and reports an over-release of `n` seen on `word`.
    fn over_release(&self, n: u32, word: u64) -> ReleaseError {
        self.spill(Spill::OverReleases).fetch_add(1, Ordering::Relaxed);
        #[allow(clippy::cast_possible_truncation, reason = "IN_FLIGHT is 24 bits wide")]
        let in_flight = IN_FLIGHT.get(word) as u32;
        ReleaseError::OverRelease { released: n, in_flight }
    }

    /// Sets the limit to `limit` and returns the previous one, while permits may be out.
    ///
    /// # Semantics
    ///
    /// Upwards: the new permits are available at once. Downwards: permits in flight stay out;
    /// `in_flight` may exceed the new limit until releases bring it down, and no acquisition is
    /// admitted until `in_flight + n <= limit` again. Nothing is ever revoked.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] if `limit > MAX_LIMIT`; the limit is unchanged.
    ///
    /// # Progress
    ///
    /// Lock-free (one CAS, retried when another thread changed the word).
    pub fn resize(&self, limit: u32) -> Result<u32, ConfigError> {
        if limit > MAX_LIMIT {
            return Err(ConfigError::OutOfRange {
                field: "limit",
                min: 0,
                max: u64::from(MAX_LIMIT),
                got: u64::from(limit),
            });
        }
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            let new = LIMIT.set(cur, u64::from(limit));
            // AcqRel: a caller that publishes a limit computed from other state (an adaptive
            // limit) and then re-reads that state relies on the resize that follows its own in
            // the word's order seeing what it published (see `adaptive::feed`).
            match self.state.compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Relaxed) {
                #[allow(clippy::cast_possible_truncation, reason = "LIMIT is 23 bits wide")]
                Ok(_) => return Ok(LIMIT.get(cur) as u32),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Turns shadow mode on or off; returns whether it was on.
    ///
    /// In shadow mode, acquisitions are decided and counted as usual, but a refused one is
    /// admitted anyway ([`Permit::would_reject`] says what would have happened). Permits taken in
    /// either mode are released the same way, so the mode can change while permits are out.
    pub fn set_shadow(&self, on: bool) -> bool {
        // Relaxed: the mode publishes no memory; the RMW keeps the rest of the word intact.
        let prev = if on {
            self.state.fetch_or(SHADOW.mask(), Ordering::Relaxed)
        } else {
            self.state.fetch_and(!SHADOW.mask(), Ordering::Relaxed)
        };
        SHADOW.get(prev) == 1
    }

    /// The limit now.
    #[must_use]
    pub fn limit(&self) -> u32 {
        #[allow(clippy::cast_possible_truncation, reason = "LIMIT is 23 bits wide")]
        let limit = LIMIT.get(self.state.load(Ordering::Relaxed)) as u32;
        limit
    }

    /// The permits in flight now.
    #[must_use]
    pub fn in_flight(&self) -> u32 {
        #[allow(clippy::cast_possible_truncation, reason = "IN_FLIGHT is 24 bits wide")]
        let in_flight = IN_FLIGHT.get(self.state.load(Ordering::Relaxed)) as u32;
        in_flight
    }

    /// The counters and the state now.
    ///
    /// # Semantics
    ///
    /// `in_flight`, `limit`, `available` and `shadow` come from one load of the state word, so
    /// they are consistent with each other. The counters are exact whenever no decision is in
    /// progress; while decisions run, each counter may read low by 256 for each decision that is
    /// between the wrap of its counter field and the carry to the spill word (a few
    /// instructions), never high.
    ///
    /// # Progress
    ///
    /// Wait-free: four loads.
    #[must_use]
    pub fn snapshot(&self) -> BulkheadSnapshot {
        // Spill words first, with Acquire (pairs with the Release of `carry`): a carry seen here
        // had its wrap in the state word happen-before, so the state load below sees the wrapped
        // field and the 256 is not counted twice.
        let admitted_spill = self.spill(Spill::Admitted).load(Ordering::Acquire);
        let rejected_spill = self.spill(Spill::Rejected).load(Ordering::Acquire);
        let over_releases = self.spill(Spill::OverReleases).load(Ordering::Relaxed);
        let word = self.state.load(Ordering::Relaxed);
        #[allow(clippy::cast_possible_truncation, reason = "fields of 24 and 23 bits")]
        let (in_flight, limit) = (IN_FLIGHT.get(word) as u32, LIMIT.get(word) as u32);
        BulkheadSnapshot {
            admitted: admitted_spill.saturating_add(ADMITTED.get(word)),
            rejected: rejected_spill.saturating_add(REJECTED.get(word)),
            over_releases,
            in_flight,
            limit,
            available: limit.saturating_sub(in_flight),
            shadow: SHADOW.get(word) == 1,
        }
    }

    /// Waits up to `timeout` for `n` permits (with the `std` feature).
    ///
    /// # Semantics
    ///
    /// Tries at once; while the bulkhead is full, the thread parks with
    /// [`std::thread::park_timeout`] for a bounded, doubling interval (from 20 µs up to 1 ms,
    /// never past the deadline) and tries again; no spinning. It is not woken by a release: a
    /// freed permit is noticed within one backoff interval (at most 1 ms), and waiters are not
    /// served in order (a newcomer may take a permit first). When `timeout` has passed, one final
    /// attempt decides. The whole wait counts as one decision: one admission, or one refusal.
    /// A request of more permits than the limit ([`Rejected::ExceedsLimit`]) is refused at once:
    /// waiting cannot help unless the limit is raised.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire), once the timeout has passed.
    ///
    /// # Progress
    ///
    /// Blocking, bounded by `timeout` plus one backoff interval (and the scheduler).
    #[cfg(feature = "std")]
    pub fn acquire_timeout(
        &self,
        n: u32,
        timeout: core::time::Duration,
    ) -> Result<Permit<'_>, Rejected> {
        use core::time::Duration;
        const FIRST: Duration = Duration::from_micros(20);
        const MAX: Duration = Duration::from_millis(1);
        let start = std::time::Instant::now();
        let mut backoff = FIRST;
        loop {
            match self.acquire_inner(n, false) {
                Ok(admission) => return Ok(self.permit(n, admission)),
                Err(Rejected::ExceedsLimit { .. }) => return self.try_acquire(n),
                Err(Rejected::Full { .. }) => {}
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return self.try_acquire(n);
            }
            std::thread::park_timeout(backoff.min(timeout.saturating_sub(elapsed)));
            backoff = backoff.saturating_mul(2).min(MAX);
        }
    }
}

/// The outcome of [`decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    /// Admit: install `new`. `shadow_refused`: shadow mode admits what the rule refused.
    /// `wrapped`: the counter field this decision counts in wrapped to 0.
    Admit { new: u64, shadow_refused: bool, wrapped: bool },
    /// Refuse for `reason`; `new` is the word with the refusal counted.
    Refuse { reason: Rejected, new: u64, wrapped: bool },
}

/// `word` with the counter `field` advanced by one (modulo 256), and whether it wrapped.
const fn count(word: u64, field: Field) -> (u64, bool) {
    let next = field.get(word) + 1;
    let wrapped = next > field.max();
    (field.set(word, next), wrapped)
}

/// The rule: why acquiring `n` permits with `in_flight` out of `limit` is refused, or `None`.
#[allow(clippy::cast_possible_truncation, reason = "fields of 24 and 23 bits")]
const fn rule(in_flight: u64, n: u32, limit: u64) -> Option<Rejected> {
    if n as u64 > limit {
        Some(Rejected::ExceedsLimit { requested: n, limit: limit as u32 })
    } else if in_flight + n as u64 > limit {
        Some(Rejected::Full { requested: n, in_flight: in_flight as u32, limit: limit as u32 })
    } else {
        None
    }
}

/// The acquisition rule, as a pure function of the state word: what acquiring `n` permits does.
const fn decide(word: u64, n: u32) -> Decision {
    let in_flight = IN_FLIGHT.get(word);
    let wanted = in_flight + n as u64; // < 2²⁴ + 2³²: no overflow
    match rule(in_flight, n, LIMIT.get(word)) {
        None => {
            let (new, wrapped) = count(IN_FLIGHT.set(word, wanted), ADMITTED);
            Decision::Admit { new, shadow_refused: false, wrapped }
        }
        Some(reason) => {
            if SHADOW.get(word) == 1 && wanted <= IN_FLIGHT.max() {
                let (new, wrapped) = count(IN_FLIGHT.set(word, wanted), REJECTED);
                Decision::Admit { new, shadow_refused: true, wrapped }
            } else {
                let (new, wrapped) = count(word, REJECTED);
                Decision::Refuse { reason, new, wrapped }
            }
        }
    }
}

/// Permits held from a [`Bulkhead`], given back when dropped.
///
/// # Examples
///
/// ```
/// use portcullis::bulkhead::Bulkhead;
/// let bulkhead = Bulkhead::new(4).unwrap();
/// {
///     let permit = bulkhead.try_acquire(3).unwrap();
///     assert_eq!(permit.permits(), 3);
///     assert_eq!(bulkhead.in_flight(), 3);
/// } // dropped: released
/// assert_eq!(bulkhead.in_flight(), 0);
///
/// // Handing the permits to code that releases them by hand (the C ABI):
/// let n = bulkhead.try_acquire(2).unwrap().into_raw();
/// assert_eq!(bulkhead.in_flight(), 2);
/// bulkhead.release(n).unwrap();
/// assert!(bulkhead.release(1).is_err(), "over-release is refused");
/// ```
#[must_use = "dropping a permit releases it at once"]
#[derive(Debug)]
pub struct Permit<'a> {
    bulkhead: &'a Bulkhead,
    permits: u32,
    in_flight: u32,
    /// See [`Admission::refused_at`]: the refusal is rebuilt when asked, so that the guard is
    /// three words (a guard passed through memory is written just before its release).
    refused_at: u32,
}

impl Permit<'_> {
    /// The number of permits held.
    #[must_use]
    pub const fn permits(&self) -> u32 {
        self.permits
    }

    /// The permits in flight just after this admission, this one included: the concurrency the
    /// call ran at, which is what an adaptive limit wants to know ([`crate::adaptive::Sample`]).
    #[must_use]
    pub const fn in_flight_at_admission(&self) -> u32 {
        self.in_flight
    }

    /// In shadow mode, the refusal the bulkhead would have made; `None` when the rule admitted.
    #[must_use]
    pub const fn would_reject(&self) -> Option<Rejected> {
        match self.refused_at.checked_sub(1) {
            // The rule again, on the values it refused: `in_flight` includes these permits.
            Some(limit) => {
                rule(self.in_flight.saturating_sub(self.permits) as u64, self.permits, limit as u64)
            }
            None => None,
        }
    }

    /// Gives up the guard without releasing: the caller now owns [`permits`](Self::permits)
    /// permits and must release them with [`Bulkhead::release`] (or never, to shrink the
    /// bulkhead's capacity for good).
    #[must_use = "the returned permits must be released with Bulkhead::release"]
    pub fn into_raw(self) -> u32 {
        let n = self.permits;
        core::mem::forget(self);
        n
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        // A permit's release can fail only if someone else over-released on its behalf (a raw
        // `release` without a matching acquisition); that error was counted when it happened,
        // and a destructor has no one to report to.
        let _ = self.bulkhead.release(self.permits);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_exactly() {
        let b = Bulkhead::new(3).unwrap();
        let p = b.try_acquire(2).unwrap();
        assert_eq!(p.in_flight_at_admission(), 2);
        let q = b.try_acquire(1).unwrap();
        assert_eq!(
            b.try_acquire(1).unwrap_err(),
            Rejected::Full { requested: 1, in_flight: 3, limit: 3 }
        );
        assert_eq!(b.try_acquire(0).map(|p| p.permits()), Ok(0), "0 fits when in_flight <= limit");
        drop(p);
        assert_eq!(
            b.try_acquire(4).unwrap_err(),
            Rejected::ExceedsLimit { requested: 4, limit: 3 }
        );
        assert!(b.try_acquire(2).is_ok());
        drop(q);
        let s = b.snapshot();
        assert_eq!((s.admitted, s.rejected, s.in_flight), (4, 2, 0));
    }

    #[test]
    fn over_release_is_refused_and_counted() {
        let b = Bulkhead::new(2).unwrap();
        let n = b.try_acquire(1).unwrap().into_raw();
        assert_eq!(b.release(2), Err(ReleaseError::OverRelease { released: 2, in_flight: 1 }));
        assert_eq!(b.in_flight(), 1, "nothing released");
        b.release(n).unwrap();
        assert_eq!(b.release(1), Err(ReleaseError::OverRelease { released: 1, in_flight: 0 }));
        assert_eq!(b.release(0), Ok(()));
        let s = b.snapshot();
        assert_eq!((s.over_releases, s.in_flight, s.limit, s.available), (2, 0, 2, 2));
    }

    #[test]
    fn resize_down_keeps_permits_and_blocks_until_drained() {
        let b = Bulkhead::new(4).unwrap();
        let p = b.try_acquire(4).unwrap();
        assert_eq!(b.resize(2), Ok(4));
        assert_eq!(b.snapshot().available, 0);
        assert!(matches!(b.try_acquire(0), Err(Rejected::Full { in_flight: 4, limit: 2, .. })));
        drop(p);
        assert!(b.try_acquire(2).is_ok());
        assert_eq!(
            b.resize(MAX_LIMIT + 1),
            Err(ConfigError::OutOfRange {
                field: "limit",
                min: 0,
                max: u64::from(MAX_LIMIT),
                got: u64::from(MAX_LIMIT + 1),
            })
        );
        assert_eq!(b.limit(), 2);
        assert_eq!(b.resize(MAX_LIMIT), Ok(2));
    }

    #[test]
    fn shadow_mode_admits_and_says_what_it_would_have_done() {
        let b = Bulkhead::new(1).unwrap();
        assert!(!b.set_shadow(true));
        let p = b.try_acquire(1).unwrap();
        assert_eq!(p.would_reject(), None);
        let q = b.try_acquire(1).unwrap();
        assert_eq!(q.would_reject(), Some(Rejected::Full { requested: 1, in_flight: 1, limit: 1 }));
        assert_eq!(b.in_flight(), 2);
        let s = b.snapshot();
        assert_eq!((s.admitted, s.rejected, s.shadow), (1, 1, true));
        assert!(b.set_shadow(false));
        assert!(b.try_acquire(1).is_err());
        drop((p, q));
        assert_eq!(b.in_flight(), 0);
    }

    #[test]
    fn shadow_mode_refuses_past_the_field() {
        let b = Bulkhead::new(MAX_LIMIT).unwrap();
        b.set_shadow(true);
        let n = b.try_acquire(MAX_IN_FLIGHT).unwrap().into_raw();
        assert_eq!(n, MAX_IN_FLIGHT);
        assert!(b.try_acquire(1).is_err(), "cannot count past MAX_IN_FLIGHT");
        b.release(n).unwrap();
    }

    #[test]
    fn counters_carry_past_the_field_width() {
        let b = Bulkhead::new(1).unwrap();
        for _ in 0..1_000 {
            drop(b.try_acquire(1).unwrap());
        }
        let _held = b.try_acquire(1).unwrap();
        for _ in 0..700 {
            assert!(b.try_acquire(1).is_err());
        }
        let s = b.snapshot();
        assert_eq!((s.admitted, s.rejected), (1_001, 700));
    }

    /// The size stated in `docs/semantics/bulkhead.md`.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn size_matches_the_documentation() {
        assert_eq!(core::mem::size_of::<Bulkhead>(), 256);
    }

    #[test]
    fn limit_zero_admits_nothing() {
        let b = Bulkhead::new(0).unwrap();
        assert_eq!(
            b.try_acquire(1).unwrap_err(),
            Rejected::ExceedsLimit { requested: 1, limit: 0 }
        );
        assert!(b.try_acquire(0).is_ok());
        assert!(Bulkhead::new(MAX_LIMIT + 1).is_err());
    }

    #[test]
    fn huge_requests_do_not_overflow() {
        let b = Bulkhead::new(MAX_LIMIT).unwrap();
        b.set_shadow(true);
        assert!(b.try_acquire(u32::MAX).is_err());
        assert_eq!(b.in_flight(), 0);
    }

    #[cfg(feature = "std")]
    #[test]
    fn acquire_timeout_waits_for_a_release() {
        extern crate std;
        use core::time::Duration;
        let b = Bulkhead::new(1).unwrap();
        let p = b.try_acquire(1).unwrap();
        let t0 = std::time::Instant::now();
        assert!(b.acquire_timeout(1, Duration::from_millis(5)).is_err());
        assert!(t0.elapsed() >= Duration::from_millis(5));
        assert_eq!(b.snapshot().rejected, 1, "a timed-out wait is one refusal");
        assert!(matches!(
            b.acquire_timeout(2, Duration::from_secs(60)),
            Err(Rejected::ExceedsLimit { .. })
        ));
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(10));
                drop(p);
            });
            let got = b.acquire_timeout(1, Duration::from_secs(10));
            assert!(got.is_ok());
        });
        assert_eq!(b.snapshot().admitted, 2);
    }
}
