//! The count-based window: the last `N` outcomes.

use super::{Outcome, WindowCounts};
use crate::div::Divisor;
use crate::error::ConfigError;
use crate::sync::{AtomicU64, CachePadded, Ordering, loom_const_fn, zeroed_array};
use crate::word::Field;

/// Slot word: `| lap:61 | code:3 |`. `lap` is `seq / N + 1` for the record `seq` that wrote it
/// (0 = never written); `code` is an [`Outcome`] as `u8`, or [`EMPTY`].
///
/// Invariant: a slot's lap only grows (every write is a CAS that checks it), so the slot always
/// holds the newest record that mapped to it, whatever order the writers ran in.
const SLOT_CODE: Field = Field::new(0, 3);
const SLOT_LAP: Field = Field::new(3, 61);
/// The code of a slot that holds no outcome (never written, or emptied by `reset`).
const EMPTY: u64 = 0;

/// Counts word: three signed 21-bit fields, `| slow:22 | failures:21 | calls:21 |` (the top field
/// takes the spare bit). It is the sum, modulo 2⁶⁴, of the contributions of every slot write
/// applied so far, so a field can be transiently negative (see [`decode`]); each field is the sum
/// of one bit per slot, so it never exceeds `N` plus the number of writes in progress.
const CALLS: Field = Field::new(0, 21);
const FAILURES: Field = Field::new(21, 21);
const SLOW: Field = Field::new(42, 22);
const _: () = assert!(Field::disjoint(&[CALLS, FAILURES, SLOW]));
const _: () = assert!(Field::disjoint(&[SLOT_CODE, SLOT_LAP]));

/// The largest `N`. Leaves the counts fields 2²⁰ − 2¹⁶ of headroom for writes in progress.
pub(crate) const MAX_N: usize = 1 << 16;

/// The most slot writes of one [`CountWindow::record_batch`] whose effect on the counts is held
/// back before it is applied: a batch in progress counts as this many writes in progress.
pub const BATCH_CHUNK: usize = 1024;

/// What a slot code adds to the counts word.
const fn contribution(code: u64) -> u64 {
    match code {
        1 => CALLS.one(),                               // Success
        2 => CALLS.one() + FAILURES.one(),              // Failure
        3 => CALLS.one() + SLOW.one(),                  // SlowSuccess
        4 => CALLS.one() + FAILURES.one() + SLOW.one(), // SlowFailure
        _ => 0,                                         // EMPTY
    }
}

/// Sign-extends the low 21 bits of `x`.
const fn sext21(x: i64) -> i64 {
    (x << 43) >> 43
}

/// Decodes the counts word into `(calls, failures, slow)`.
///
/// The word is `calls + failures·2²¹ + slow·2⁴²` modulo 2⁶⁴ with each field a signed integer of
/// magnitude below 2²⁰, so the sum fits in an `i64` exactly and the fields are recovered as
/// balanced base-2²¹ digits.
const fn decode(word: u64) -> (i64, i64, i64) {
    #[allow(clippy::cast_possible_wrap, reason = "the word is a two's-complement sum, see above")]
    let sum = word as i64;
    let calls = sext21(sum);
    let rest = (sum - calls) >> 21;
    let failures = sext21(rest);
    let slow = (rest - failures) >> 21;
    (calls, failures, slow)
}

/// The last `N` call outcomes, lock-free, with O(1) record and O(1) read.
///
/// # Semantics
///
/// Records are numbered in the order they claim a position (`seq`, one `fetch_add`); record `seq`
/// goes to place `seq % N` (a fixed slot, see `Head::slot`) and evicts what was there. (`N` here is the window's size: the capacity
/// `N` for [`new`](Self::new), or the size given to [`with_size`](Self::with_size).) [`counts`](Self::counts) reports how many of
/// the outcomes in the slots are calls, failures and slow calls. Recorded by one thread (or by
/// threads ordered by happens-before), the window is exactly "the last `N` outcomes": the `k`-th
/// record is counted from the moment `record` returns until the `(k + N)`-th record returns.
///
/// Under concurrent recorders (see `docs/semantics/windows.md` for the proof obligations that the
/// loom models check):
/// - once no record is in progress, the counts equal the last `N` records in `seq` order, exactly
///   as if they had been recorded one at a time;
/// - while `r` records are in progress, each reported field is within `r` of that, and reported
///   counts always satisfy `failures <= calls`, `slow <= calls` and `calls <= N`.
///
/// Differences with resilience4j's `COUNT_BASED` window: the same "last N calls" definition, but
/// resilience4j updates its ring under a `synchronized` block; gobreaker has no window at all (it
/// counts since the start of its `Interval`, see `docs/semantics/windows.md`).
///
/// # Cost
///
/// `record`: a `fetch_add` on the head, a load and a CAS on the slot, and a `fetch_add` on the
/// counts only when the evicted outcome differs from the new one (so a healthy window of
/// successes does two read-modify-writes). `counts`: one load. Lock-free: the slot CAS retries
/// only when another thread changed the slot (a concurrent `reset`, or a later lap, after which it
/// gives up).
///
/// # Examples
///
/// ```
/// use portcullis::window::{CountWindow, Outcome};
/// static WINDOW: CountWindow<4> = CountWindow::new();
/// for o in [Outcome::Success, Outcome::Failure, Outcome::SlowFailure, Outcome::Success] {
///     WINDOW.record(o);
/// }
/// WINDOW.record(Outcome::Success); // evicts the first Success
/// let c = WINDOW.counts();
/// assert_eq!((c.calls, c.failures, c.slow), (4, 2, 1));
/// assert_eq!(c.failure_rate_ppm(), Some(500_000));
/// ```
///
/// A window of zero slots does not compile:
///
/// ```compile_fail
/// let w = portcullis::window::CountWindow::<0>::new();
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct CountWindow<const N: usize> {
    /// Records claimed so far (`seq` of the next record), and the window size beside it.
    head: CachePadded<Head>,
    /// The packed counts (see [`CALLS`]).
    counts: CachePadded<AtomicU64>,
    slots: [AtomicU64; N],
}

/// The words every record reads first, on one cache line: the record's `fetch_add` brings the
/// line in, and the size (never written after construction) comes with it.
#[derive(Debug)]
struct Head {
    /// Records claimed so far (`seq` of the next record). Never wraps in practice (2⁶⁴ records).
    seq: AtomicU64,
    /// The number of slots in use, `1..=N`, fixed at construction; record `seq` goes to place
    /// `seq % size` in lap `seq / size + 1`, divided without a division instruction.
    size: Divisor,
}

impl Head {
    loom_const_fn! {
        fn new(size: u64) -> Head {
            Head { seq: AtomicU64::new(0), size: Divisor::new(size) }
        }
    }

    /// The slot that holds place `r` (`r < size`) of the window's order.
    ///
    /// Places are laid out in 8 columns of `rows = ⌊size / 8⌋`: the first `8·rows` places go to slot
    /// `(r % 8)·rows + r / 8`, so consecutive places (the records that concurrent callers make
    /// at the same moment) are `rows` slots apart, on different cache lines once the window
    /// holds 64 places or more; the last `size % 8` places keep their own index. Each lap still
    /// writes every slot once, so this only moves the slots in memory: what a record evicts,
    /// and every count, is as with slot `r`.
    #[inline]
    const fn slot(&self, r: u64) -> usize {
        let rows = self.size.get() / 8;
        let full = rows * 8;
        let slot = if r < full { (r % 8) * rows + r / 8 } else { r };
        #[allow(clippy::cast_possible_truncation, reason = "slot < size <= N <= 65536")]
        let slot = slot as usize;
        slot
    }
}

impl<const N: usize> CountWindow<N> {
    /// Checked when `new` is instantiated: `N` must be in `1..=65536`.
    const VALID: () = assert!(N >= 1 && N <= MAX_N, "CountWindow size N must be in 1..=65536");

    loom_const_fn! {
        /// An empty window of `N` slots. `N` outside `1..=65536` fails to compile.
        #[must_use]
        #[allow(clippy::let_unit_value, reason = "evaluates the compile-time check")]
        pub fn new() -> Self {
            let () = Self::VALID;
            CountWindow {
                head: CachePadded(Head::new(N as u64)),
                counts: CachePadded(AtomicU64::new(0)),
                slots: zeroed_array(),
            }
        }
    }

    loom_const_fn! {
        /// An empty window that holds the last `size` outcomes, using `size` of its `N` slots:
        /// for callers (such as the C ABI) that choose the size at run time under a fixed
        /// capacity.
        ///
        /// # Errors
        ///
        /// [`ConfigError::OutOfRange`] (field `window_size`) unless `1 <= size <= N`.
        ///
        /// ```
        /// use portcullis::window::CountWindow;
        /// let w = CountWindow::<1024>::with_size(10).unwrap();
        /// assert_eq!(w.size(), 10);
        /// assert!(CountWindow::<8>::with_size(9).is_err());
        /// ```
        pub fn with_size(size: usize) -> Result<Self, ConfigError> {
            if size == 0 || size > N {
                return Err(ConfigError::OutOfRange {
                    field: "window_size",
                    min: 1,
                    max: N as u64,
                    got: size as u64,
                });
            }
            let mut w = Self::new();
            w.head.0 = Head::new(size as u64);
            Ok(w)
        }
    }

    /// The number of outcomes the window holds when full (`N` unless built by
    /// [`with_size`](Self::with_size)).
    #[must_use]
    pub const fn size(&self) -> usize {
        #[allow(clippy::cast_possible_truncation, reason = "size <= N, a usize")]
        let size = self.head.0.size.get() as usize;
        size
    }

    /// Records one outcome, evicting the outcome recorded `N` records earlier.
    ///
    /// Returns `false` only if, while this call ran, `N` later records already overwrote its
    /// slot (possible only under concurrency): the outcome was then evicted before it landed.
    #[inline]
    pub fn record(&self, outcome: Outcome) -> bool {
        // Relaxed everywhere in this function: the window publishes no memory but its own words.
        // Every update is a read-modify-write, and an RMW always reads the latest value in its
        // word's modification order, which is all the counting argument needs (the sum of the
        // applied slot contributions equals the counts word). A reader that is ordered after a
        // record by some other synchronization sees its effect by coherence.
        let seq = self.head.seq.fetch_add(1, Ordering::Relaxed);
        self.write(seq, outcome)
    }

    /// Records `outcomes` in order, as that many calls of [`record`](Self::record) would, for a
    /// fraction of their cost: one `fetch_add` claims all their positions, each outcome takes one
    /// compare-and-swap on its slot, and their effect on the counts is applied with one
    /// `fetch_add` per [`BATCH_CHUNK`] outcomes. Returns how many landed (`outcomes.len()` unless
    /// concurrent records overwrote some first, as for `record`). A concurrent reader may see
    /// part of the batch: it is not atomic as a whole.
    pub fn record_batch(&self, outcomes: &[Outcome]) -> usize {
        let Ok(k) = u64::try_from(outcomes.len()) else {
            return 0; // unreachable: a slice length fits in u64 on every supported target
        };
        if k == 0 {
            return 0;
        }
        // Relaxed, as in `record`.
        let first = self.head.seq.fetch_add(k, Ordering::Relaxed);
        let mut landed = 0;
        // The slot and lap of each position, stepped instead of divided per outcome.
        let n = self.head.size.get();
        let (laps, mut index) = self.head.size.div_rem(first);
        let mut lap = laps + 1;
        for chunk in outcomes.chunks(BATCH_CHUNK) {
            let mut delta = 0u64;
            for &outcome in chunk {
                if let Some(d) = self.place(index, lap, outcome) {
                    delta = delta.wrapping_add(d);
                    landed += 1;
                }
                index += 1;
                if index == n {
                    index = 0;
                    lap += 1;
                }
            }
            if delta != 0 {
                self.counts.fetch_add(delta, Ordering::Relaxed);
            }
        }
        landed
    }

    /// Writes record `seq` into its slot unless a later lap is already there.
    fn write(&self, seq: u64, outcome: Outcome) -> bool {
        let (laps, index) = self.head.size.div_rem(seq);
        match self.place(index, laps + 1, outcome) {
            Some(delta) => {
                if delta != 0 {
                    self.counts.fetch_add(delta, Ordering::Relaxed);
                }
                true
            }
            None => false,
        }
    }

    /// Places the record of lap `lap` at place `index` (record `seq` has `index = seq % size`,
    /// `lap = seq / size + 1`) unless a later lap is already there, and returns what the write
    /// changes in the counts word (to be added by the caller), or `None` if the record was
    /// already evicted.
    fn place(&self, index: u64, lap: u64, outcome: Outcome) -> Option<u64> {
        let new = SLOT_LAP.place(lap) | SLOT_CODE.place(outcome as u64);
        let slot = self.slots.get(self.head.slot(index))?; // always Some: slot < size <= N
        let mut cur = slot.load(Ordering::Relaxed);
        loop {
            if SLOT_LAP.get(cur) >= lap {
                // A record N or more positions later already wrote this slot: ours is evicted.
                return None;
            }
            match slot.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        Some(contribution(outcome as u64).wrapping_sub(contribution(SLOT_CODE.get(cur))))
    }

    /// The outcomes in the window now: one load.
    #[must_use]
    pub fn counts(&self) -> WindowCounts {
        let (calls, failures, slow) = decode(self.counts.load(Ordering::Relaxed));
        clamp(calls, failures, slow, self.head.size.get())
    }

    /// Empties every slot. Each slot is emptied by one CAS, so a concurrent record lands either
    /// before (and is removed) or after (and is kept); the counts stay equal to the slots.
    pub fn reset(&self) {
        for slot in &self.slots {
            let mut cur = slot.load(Ordering::Relaxed);
            while SLOT_CODE.get(cur) != EMPTY {
                // Keep the lap: a late writer of an older lap must still lose to it.
                let emptied = SLOT_CODE.set(cur, EMPTY);
                match slot.compare_exchange_weak(cur, emptied, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => {
                        let delta = 0u64.wrapping_sub(contribution(SLOT_CODE.get(cur)));
                        self.counts.fetch_add(delta, Ordering::Relaxed);
                        break;
                    }
                    Err(actual) => cur = actual,
                }
            }
        }
    }
}

impl<const N: usize> Default for CountWindow<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Clamps transient values (writes in progress) into `0 <= failures, slow <= calls <= max`.
#[inline]
fn clamp(calls: i64, failures: i64, slow: i64, max: u64) -> WindowCounts {
    let calls = u64::try_from(calls).unwrap_or(0).min(max);
    let failures = u64::try_from(failures).unwrap_or(0).min(calls);
    let slow = u64::try_from(slow).unwrap_or(0).min(calls);
    WindowCounts { calls, failures, slow }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The interleaved layout is a permutation of the slots in use, and puts consecutive places
    /// on different cache lines once the window has 64 places.
    #[test]
    fn slot_layout_is_a_permutation() {
        let sizes = (1..=300).chain([1_000, 4_099, MAX_N as u64]);
        for size in sizes {
            let head = Head::new(size);
            let mut seen = [0u64; MAX_N / 64];
            for r in 0..size {
                let slot = head.slot(r);
                assert!(slot < usize::try_from(size).unwrap(), "size {size}: slot {slot}");
                assert!(
                    seen[slot / 64] & (1 << (slot % 64)) == 0,
                    "size {size}: slot {slot} twice"
                );
                seen[slot / 64] |= 1 << (slot % 64);
                if size >= 64 && r + 1 < size / 8 * 8 {
                    assert!(head.slot(r + 1).abs_diff(slot) >= 8, "size {size}: {r} and {}", r + 1);
                }
            }
        }
    }

    #[test]
    fn decode_recovers_negative_and_positive_fields() {
        for (c, f, s) in [(0i64, 0i64, 0i64), (5, -1, 3), (-2, 7, -3), (65_536, 65_536, 65_536)] {
            #[allow(clippy::cast_sign_loss)]
            let word = (c as u64)
                .wrapping_add((f as u64).wrapping_mul(FAILURES.one()))
                .wrapping_add((s as u64).wrapping_mul(SLOW.one()));
            assert_eq!(decode(word), (c, f, s));
        }
    }

    #[test]
    fn evicts_exactly_n_records_later() {
        let w = CountWindow::<3>::new();
        assert!(w.record(Outcome::Failure));
        assert_eq!(w.counts(), WindowCounts { calls: 1, failures: 1, slow: 0 });
        w.record(Outcome::Success);
        w.record(Outcome::SlowSuccess);
        assert_eq!(w.counts(), WindowCounts { calls: 3, failures: 1, slow: 1 });
        w.record(Outcome::Success); // the 4th record evicts the 1st (the failure)
        assert_eq!(w.counts(), WindowCounts { calls: 3, failures: 0, slow: 1 });
        w.record(Outcome::Success);
        w.record(Outcome::Success); // evicts the SlowSuccess
        assert_eq!(w.counts(), WindowCounts { calls: 3, failures: 0, slow: 0 });
    }

    #[test]
    fn reset_empties_and_refills() {
        let w = CountWindow::<2>::new();
        w.record(Outcome::SlowFailure);
        w.record(Outcome::Failure);
        w.reset();
        assert_eq!(w.counts(), WindowCounts::default());
        w.record(Outcome::Failure);
        assert_eq!(w.counts(), WindowCounts { calls: 1, failures: 1, slow: 0 });
        w.record(Outcome::Success);
        w.record(Outcome::Success);
        assert_eq!(w.counts(), WindowCounts { calls: 2, failures: 0, slow: 0 });
    }

    #[test]
    fn stale_writer_loses_to_newer_lap() {
        let w = CountWindow::<2>::new();
        // Records 0 and 2 map to slot 0. Record 2 writes first; the stalled record 0 then
        // arrives and must not overwrite it.
        assert!(w.write(2, Outcome::Failure));
        assert!(!w.write(0, Outcome::Success), "a record of an older lap is dropped");
        assert_eq!(w.counts(), WindowCounts { calls: 1, failures: 1, slow: 0 });
        assert!(w.write(1, Outcome::SlowSuccess));
        assert_eq!(w.counts(), WindowCounts { calls: 2, failures: 1, slow: 1 });
    }

    #[test]
    fn largest_window_fills_exactly() {
        let w = CountWindow::<MAX_N>::new();
        for i in 0..(2 * MAX_N) {
            w.record(if i % 2 == 0 { Outcome::SlowFailure } else { Outcome::Success });
        }
        let c = w.counts();
        assert_eq!(
            (c.calls, c.failures, c.slow),
            (MAX_N as u64, MAX_N as u64 / 2, MAX_N as u64 / 2)
        );
    }
}

#[cfg(all(test, not(loom)))]
mod size_tests {
    use super::*;

    #[test]
    fn runtime_size_evicts_at_size_not_capacity() {
        let w = CountWindow::<64>::with_size(3).unwrap();
        w.record(Outcome::Failure);
        w.record(Outcome::Success);
        w.record(Outcome::Success);
        assert_eq!(w.counts(), WindowCounts { calls: 3, failures: 1, slow: 0 });
        w.record(Outcome::Success);
        assert_eq!(w.counts(), WindowCounts { calls: 3, failures: 0, slow: 0 });
        assert_eq!(
            CountWindow::<4>::with_size(0).unwrap_err(),
            ConfigError::OutOfRange { field: "window_size", min: 1, max: 4, got: 0 }
        );
        assert_eq!(CountWindow::<4>::with_size(4).unwrap().size(), 4);
    }
}
