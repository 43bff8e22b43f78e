//! The time-based window: the outcomes of the last `K` buckets of time.

use core::time::Duration;

use super::{Outcome, WindowCounts};
use crate::clock::Nanos;
use crate::div::Divisor;
use crate::error::ConfigError;
use crate::sync::{AtomicU64, CachePadded, Ordering, loom_const_fn, zeroed_array};
use crate::word::Field;

/// Both bucket words carry the bucket's lap (`epoch / K`) modulo 2²⁴ in their top bits.
const TAG: Field = Field::new(40, 24);
/// Calls word: `| tag:24 | calls:40 |`.
const CALLS: Field = Field::new(0, 40);
/// Outcomes word: `| tag:24 | slow:20 | failures:20 |`.
const FAILURES: Field = Field::new(0, 20);
const SLOW: Field = Field::new(20, 20);
const _: () = assert!(Field::disjoint(&[TAG, CALLS]));
const _: () = assert!(Field::disjoint(&[TAG, SLOW, FAILURES]));

/// Half the tag space: a tag up to this many laps ahead of another is newer, further is older.
const TAG_HALF: u64 = 1 << 23;

/// The largest `K`.
pub(crate) const MAX_K: usize = 4096;

/// Whether tag `a` is a later lap than tag `b` (modular, within half the tag space).
const fn is_newer(a: u64, b: u64) -> bool {
    let d = a.wrapping_sub(b) & TAG.max();
    d != 0 && d < TAG_HALF
}

/// The outcomes of the last `K` buckets of time, each `duration / K` wide, lock-free.
///
/// (`K` below is the number of buckets in use: the capacity `K` for [`new`](Self::new), or the
/// count given to [`with_buckets`](Self::with_buckets).)
///
/// # Semantics
///
/// Time is cut into *epochs* of `W = duration / K` nanoseconds aligned on `Nanos::ZERO`: an
/// outcome recorded at `now` belongs to epoch `now / W`. The window's own time is the newest epoch
/// any record has reached (`E`); a read at `now` looks at epoch `e = max(now / W, E)`, so a clock
/// that steps backwards never brings back expired outcomes nor hides recent ones.
///
/// - A read at epoch `e` counts exactly the outcomes of epochs `e − K + 1 ..= e`: the current,
///   partly elapsed bucket and the `K − 1` before it. An outcome recorded at time `t` is therefore
///   counted by reads at every `now < (t / W + K) · W` and by none at or after that instant (the
///   exact expiry boundary; times from one clock, `E` not past it).
/// - A record whose epoch is already outside the window (`now / W <= E − K`, possible when `now`
///   goes backwards or a caller is late) is not counted, and `record` returns `false`. A record
///   with an earlier `now` that is still inside the window is counted in its own bucket.
/// - A jump of `K` or more buckets ahead expires everything older at once: the first record of the
///   new epoch empties every bucket it finds stale ("sweep"), and reads at such a time see an
///   empty window even before any record arrives. After an idle gap of 2²² window lengths or
///   more (bucket tags are laps modulo 2²⁴), the sweep empties every bucket unconditionally, so a
///   record made concurrently with that first record may be lost; nothing stale ever returns.
/// - Per bucket, calls saturate at 2⁴⁰ − 1 and failures and slow calls at 2²⁰ − 1 (1,048,575):
///   counts never wrap. Size `W` so one bucket sees fewer calls than that.
///
/// Under concurrency: every counted outcome is one CAS on its bucket, so once no record is in
/// progress the counts equal the sequential model of the records in any order consistent with
/// their CASes; a reader concurrent with records sees each bucket word before or after each CAS,
/// and `failures <= calls`, `slow <= calls` always hold in what it is given (clamped). The
/// failures of a record may be visible a moment before its call (two words per bucket).
///
/// Differences with resilience4j's `TIME_BASED` window: resilience4j uses one-second buckets
/// (`slidingWindowSize` seconds) and moves the window under a lock; here the width is
/// `duration / K` for any `K`, and nothing locks. gobreaker clears all its counts at each
/// `Interval` boundary (a tumbling window, not a sliding one).
///
/// # Cost
///
/// `record`: one load of the newest epoch, a load and a CAS on the bucket's calls word, and for a
/// failure or slow call a load and a CAS on its outcomes word; once per bucket width, the first
/// record of a new epoch also sweeps the `K` buckets. `counts`: `2K + 1` loads. Lock-free.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, window::{Outcome, TimeWindow}};
/// // 10 buckets of 100 ms.
/// let w = TimeWindow::<10>::new(Nanos::from_secs(1)).unwrap();
/// w.record(Outcome::Failure, Nanos::from_millis(50));
/// w.record(Outcome::Success, Nanos::from_millis(120));
/// assert_eq!(w.counts(Nanos::from_millis(999)).failures, 1);
/// assert_eq!(w.counts(Nanos::from_millis(999)).calls, 2);
/// // The failure (epoch 0) expires exactly at (0 + 10) * 100 ms.
/// assert_eq!(w.counts(Nanos::from_millis(1_000)).failures, 0);
/// assert_eq!(w.counts(Nanos::from_millis(1_000)).calls, 1);
/// ```
///
/// # Errors
///
/// [`new`](Self::new) rejects a zero duration and one that `K` does not divide.
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct TimeWindow<const K: usize> {
    /// Bucket width `W` in nanoseconds, at least 1 (the epoch of `now` is `now / W`).
    bucket_ns: Divisor,
    /// Buckets in use, `1..=K`, fixed at construction (epoch `e` is bucket `e % buckets` in lap
    /// `e / buckets`).
    buckets: Divisor,
    /// One more than the newest epoch a record has reached (0: no record yet). Only grows.
    newest: CachePadded<AtomicU64>,
    /// Per bucket, `| tag | calls |`.
    calls: [AtomicU64; K],
    /// Per bucket, `| tag | slow | failures |`.
    outcomes: [AtomicU64; K],
}

impl<const K: usize> TimeWindow<K> {
    /// Checked when `new` is instantiated: `K` must be in `1..=4096`.
    const VALID: () =
        assert!(K >= 1 && K <= MAX_K, "TimeWindow bucket count K must be in 1..=4096");

    loom_const_fn! {
        /// An empty window covering `duration`, cut into `K` buckets of `duration / K`.
        ///
        /// # Errors
        ///
        /// [`ConfigError::ZeroDuration`] if `duration` is zero;
        /// [`ConfigError::DurationNotDivisible`] if `K` does not divide it (every bucket must have
        /// the same whole-nanosecond width, so the expiry boundary is exact). A `K` outside
        /// `1..=4096` fails to compile.
        #[allow(clippy::let_unit_value, reason = "evaluates the compile-time check")]
        pub fn new(duration: Nanos) -> Result<Self, ConfigError> {
            Self::with_buckets(duration, K)
        }
    }

    loom_const_fn! {
        /// An empty window covering `duration` with `buckets` of its `K` buckets, each
        /// `duration / buckets` wide: for callers (such as the C ABI) that choose the bucket
        /// count at run time under a fixed capacity.
        ///
        /// # Errors
        ///
        /// [`ConfigError::OutOfRange`] (field `window_buckets`) unless `1 <= buckets <= K`, then
        /// as [`new`](Self::new) with `buckets` in place of `K`.
        ///
        /// ```
        /// use portcullis::{Nanos, window::TimeWindow};
        /// let w = TimeWindow::<60>::with_buckets(Nanos::from_secs(10), 10).unwrap();
        /// assert_eq!(w.bucket_width(), Nanos::from_secs(1));
        /// assert!(TimeWindow::<8>::with_buckets(Nanos::from_secs(9), 9).is_err());
        /// ```
        #[allow(clippy::let_unit_value, reason = "evaluates the compile-time check")]
        pub fn with_buckets(duration: Nanos, buckets: usize) -> Result<Self, ConfigError> {
            let () = Self::VALID;
            if buckets == 0 || buckets > K {
                return Err(ConfigError::OutOfRange {
                    field: "window_buckets",
                    min: 1,
                    max: K as u64,
                    got: buckets as u64,
                });
            }
            let d = duration.as_u64();
            let k = buckets as u64;
            if d == 0 {
                return Err(ConfigError::ZeroDuration { field: "window_duration" });
            }
            if !d.is_multiple_of(k) {
                return Err(ConfigError::DurationNotDivisible {
                    field: "window_duration",
                    duration_ns: d,
                    divisor: k,
                });
            }
            Ok(TimeWindow {
                bucket_ns: Divisor::new(d / k),
                buckets: Divisor::new(k),
                newest: CachePadded(AtomicU64::new(0)),
                calls: zeroed_array(),
                outcomes: zeroed_array(),
            })
        }
    }

    /// [`new`](Self::new) from a [`Duration`].
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), plus [`ConfigError::DurationOverflow`] for a duration that does not
    /// fit in 64 bits of nanoseconds.
    pub fn from_duration(duration: Duration) -> Result<Self, ConfigError> {
        match Nanos::from_duration(duration) {
            Some(d) => Self::new(d),
            None => Err(ConfigError::DurationOverflow { field: "window_duration" }),
        }
    }

    /// The width of one bucket.
    #[must_use]
    pub const fn bucket_width(&self) -> Nanos {
        Nanos::new(self.bucket_ns.get())
    }

    /// The span the window covers (all its buckets).
    #[must_use]
    pub const fn duration(&self) -> Nanos {
        Nanos::new(self.bucket_ns.get() * self.buckets.get())
    }

    /// The number of buckets in use (`K` unless built by [`with_buckets`](Self::with_buckets)).
    #[must_use]
    pub const fn buckets(&self) -> usize {
        #[allow(clippy::cast_possible_truncation, reason = "buckets <= K, a usize")]
        let b = self.buckets.get() as usize;
        b
    }

    /// The epoch of `now`. The last epoch is kept free so that `epoch + 1` never overflows.
    const fn epoch(&self, now: Nanos) -> u64 {
        let e = self.bucket_ns.div(now.as_u64());
        if e == u64::MAX { u64::MAX - 1 } else { e }
    }

    /// Records one outcome at `now`; returns `false` if its epoch is already outside the window.
    #[inline]
    pub fn record(&self, outcome: Outcome, now: Nanos) -> bool {
        // Relaxed throughout: the window publishes nothing but its own words, every update is an
        // RMW (which reads the latest value of its word), and each counted outcome is exactly one
        // successful CAS per word; see `CountWindow::record` for the same argument.
        let e = self.epoch(now);
        let k = self.buckets.get();
        let seen = self.newest.load(Ordering::Relaxed);
        if seen != 0 && (seen - 1).saturating_sub(e) >= k {
            return false;
        }
        // The lap and bucket of `e`, used by the sweep and by the record itself.
        let (lap, bucket) = self.buckets.div_rem(e);
        if e >= seen {
            let prev = self.newest.fetch_max(e + 1, Ordering::Relaxed);
            if prev <= e {
                // This call moved the window's time forward from `prev - 1` to `e`. Tags are laps
                // modulo 2^24, so after a jump of 2^22 laps or more a stale bucket's tag can no
                // longer be told from a fresh one: empty every bucket unconditionally then.
                let jump = lap - self.buckets.div(prev.saturating_sub(1));
                self.sweep(lap, bucket, prev != 0 && jump >= TAG_HALF / 2);
            }
        }
        #[allow(clippy::cast_possible_truncation, reason = "e % K < K <= 4096")]
        let slot = bucket as usize;
        let tag = TAG.get(TAG.place(lap));
        let (Some(calls), Some(outcomes)) = (self.calls.get(slot), self.outcomes.get(slot)) else {
            return false; // unreachable: slot < K
        };
        if !bump(calls, tag, |w| if CALLS.get(w) < CALLS.max() { w + CALLS.one() } else { w }) {
            return false;
        }
        if outcome.is_failure() || outcome.is_slow() {
            bump(outcomes, tag, |w| {
                let mut w = w;
                if outcome.is_failure() && FAILURES.get(w) < FAILURES.max() {
                    w += FAILURES.one();
                }
                if outcome.is_slow() && SLOW.get(w) < SLOW.max() {
                    w += SLOW.one();
                }
                w
            });
        }
        true
    }

    /// Empties every bucket whose lap is older than the one the window's epoch `e` expects there
    /// (every bucket, if `all`); `e` is given as its `lap = e / k` and `bucket = e % k`.
    #[inline]
    fn sweep(&self, lap: u64, bucket: u64, all: bool) {
        let buckets = self.calls.iter().zip(&self.outcomes).take(self.buckets());
        for (s, (calls, outcomes)) in buckets.enumerate() {
            let Some(tag) = expected_tag(lap, bucket, s as u64) else { continue };
            for word in [calls, outcomes] {
                if all {
                    word.swap(TAG.place(tag), Ordering::Relaxed);
                    continue;
                }
                let mut cur = word.load(Ordering::Relaxed);
                loop {
                    let t = TAG.get(cur);
                    if t == tag || (is_newer(t, tag) && !is_empty(cur)) {
                        break;
                    }
                    match word.compare_exchange_weak(
                        cur,
                        TAG.place(tag),
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
            }
        }
    }

    /// The outcomes in the window at `now` (or at the newest recorded time, if later).
    #[must_use]
    #[inline]
    pub fn counts(&self, now: Nanos) -> WindowCounts {
        let seen = self.newest.load(Ordering::Relaxed);
        if seen == 0 {
            return WindowCounts::default();
        }
        let newest = seen - 1;
        let e = self.epoch(now).max(newest);
        if e - newest >= self.buckets.get() {
            return WindowCounts::default();
        }
        let (mut calls, mut failures, mut slow) = (0u64, 0u64, 0u64);
        let buckets = self.calls.iter().zip(&self.outcomes).take(self.buckets());
        let (lap, bucket) = self.buckets.div_rem(e);
        for (s, (cw, ow)) in buckets.enumerate() {
            let Some(tag) = expected_tag(lap, bucket, s as u64) else { continue };
            let c = cw.load(Ordering::Relaxed);
            if TAG.get(c) == tag {
                calls += CALLS.get(c);
            }
            let o = ow.load(Ordering::Relaxed);
            if TAG.get(o) == tag {
                failures += FAILURES.get(o);
                slow += SLOW.get(o);
            }
        }
        WindowCounts { calls, failures: failures.min(calls), slow: slow.min(calls) }
    }

    /// Empties every bucket. Each bucket word is emptied by one CAS, so a concurrent record lands
    /// before (and is removed) or after (and is kept).
    pub fn reset(&self) {
        for word in self.calls.iter().chain(&self.outcomes) {
            let mut cur = word.load(Ordering::Relaxed);
            loop {
                let emptied = TAG.place(TAG.get(cur));
                if cur == emptied {
                    break;
                }
                match word.compare_exchange_weak(cur, emptied, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => break,
                    Err(actual) => cur = actual,
                }
            }
        }
    }
}

/// The tag bucket `s` of `k` holds when the window's epoch `e` is in lap `lap = e / k` at bucket
/// `bucket = e % k`: that of the newest epoch `<= e` that maps to `s`, or `None` if there is none
/// yet (early times, `e < k − 1`). That epoch is `lap·k + s` in this lap if `s <= bucket`, else
/// `(lap − 1)·k + s` in the previous one, which exists only if `lap >= 1`.
const fn expected_tag(lap: u64, bucket: u64, s: u64) -> Option<u64> {
    if s <= bucket {
        Some(TAG.get(TAG.place(lap)))
    } else if lap >= 1 {
        Some(TAG.get(TAG.place(lap - 1)))
    } else {
        None
    }
}

/// Whether a bucket word counts nothing (whatever its tag). The all-zero initial words have tag
/// 0, an arbitrary lap, so a word that counts nothing is free to take any tag: no count is lost
/// and readers expecting another lap read zero either way.
const fn is_empty(word: u64) -> bool {
    word & !TAG.mask() == 0
}

/// Adds to a bucket word with `add`, first resetting it if it holds an older lap (or nothing);
/// returns `false` (and writes nothing) if it holds counts of a newer lap: the outcome arrived
/// after its bucket was reused.
#[inline]
fn bump(word: &AtomicU64, tag: u64, add: impl Fn(u64) -> u64) -> bool {
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        let t = TAG.get(cur);
        let base = if t == tag {
            cur
        } else if is_newer(t, tag) && !is_empty(cur) {
            return false;
        } else {
            TAG.place(tag)
        };
        let next = add(base);
        if next == cur {
            return true; // saturated: nothing to write
        }
        match word.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(actual) => cur = actual,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ms(n: u64) -> Nanos {
        Nanos::from_millis(n)
    }

    /// `expected_tag` from the lap and bucket of `e` equals its definition: the tag of the newest
    /// epoch `<= e` that maps to bucket `s`, found by stepping back from `e`.
    #[test]
    fn expected_tag_is_the_newest_epoch_of_the_bucket() {
        for k in 1..=9u64 {
            for e in 0..60u64 {
                for s in 0..k {
                    let newest = (0..=e).rev().find(|x| x % k == s);
                    let want = newest.map(|x| TAG.get(TAG.place(x / k)));
                    assert_eq!(expected_tag(e / k, e % k, s), want, "e {e} k {k} s {s}");
                }
            }
        }
    }

    #[test]
    fn rejects_bad_durations() {
        assert_eq!(
            TimeWindow::<3>::new(Nanos::ZERO).unwrap_err(),
            ConfigError::ZeroDuration { field: "window_duration" }
        );
        assert_eq!(
            TimeWindow::<3>::new(Nanos::new(10)).unwrap_err(),
            ConfigError::DurationNotDivisible {
                field: "window_duration",
                duration_ns: 10,
                divisor: 3
            }
        );
        assert_eq!(
            TimeWindow::<3>::from_duration(Duration::MAX).unwrap_err(),
            ConfigError::DurationOverflow { field: "window_duration" }
        );
        let w = TimeWindow::<4>::new(Nanos::new(4)).unwrap();
        assert_eq!(w.bucket_width(), Nanos::new(1));
        assert_eq!(w.duration(), Nanos::new(4));
    }

    #[test]
    fn expiry_boundary_is_exact() {
        let w = TimeWindow::<4>::new(ms(400)).unwrap(); // buckets of 100 ms
        assert!(w.record(Outcome::Failure, ms(250))); // epoch 2
        let expires = ms((250 / 100 + 4) * 100); // 600 ms
        assert_eq!(w.counts(Nanos::new(expires.as_u64() - 1)).failures, 1);
        assert_eq!(w.counts(expires).failures, 0);
    }

    #[test]
    fn backwards_time_reads_at_newest_and_drops_expired_records() {
        let w = TimeWindow::<4>::new(ms(400)).unwrap();
        assert!(w.record(Outcome::Success, ms(1_000))); // epoch 10
        // A read in the past reads at epoch 10.
        assert_eq!(w.counts(ms(0)).calls, 1);
        // A late record still inside the window (epoch 7 > 10 - 4) is counted...
        assert!(w.record(Outcome::Failure, ms(700)));
        assert_eq!(w.counts(ms(1_000)).failures, 1);
        // ...one at epoch 6 (= 10 - 4) is not.
        assert!(!w.record(Outcome::Failure, ms(699)));
        assert_eq!(w.counts(ms(1_000)), WindowCounts { calls: 2, failures: 1, slow: 0 });
    }

    #[test]
    fn jump_far_ahead_expires_everything() {
        let w = TimeWindow::<4>::new(ms(400)).unwrap();
        for t in 0..4 {
            w.record(Outcome::SlowFailure, ms(t * 100));
        }
        assert_eq!(w.counts(ms(399)).calls, 4);
        // Reads far ahead see nothing, even before a record arrives.
        assert_eq!(w.counts(ms(1_000_000)), WindowCounts::default());
        // 2^24 laps later (tags wrap): the stale buckets must not come back.
        let far = ms(400 * (1 << 24));
        assert!(w.record(Outcome::Success, far));
        assert_eq!(w.counts(far), WindowCounts { calls: 1, failures: 0, slow: 0 });
        assert_eq!(w.counts(far.saturating_add(ms(300))).calls, 1);
    }

    #[test]
    fn counts_saturate_per_bucket() {
        let w = TimeWindow::<1>::new(ms(1)).unwrap();
        w.record(Outcome::Failure, ms(0));
        // Force the outcomes word to its maximum and check one more failure does not wrap.
        w.outcomes[0].store(TAG.place(0) | FAILURES.place(FAILURES.max()), Ordering::Relaxed);
        w.record(Outcome::Failure, ms(0));
        assert_eq!(w.counts(ms(0)).failures, 2, "clamped to calls");
        assert_eq!(FAILURES.get(w.outcomes[0].load(Ordering::Relaxed)), FAILURES.max());
    }

    #[test]
    fn last_epoch_of_the_clock_does_not_overflow() {
        let w = TimeWindow::<2>::new(Nanos::new(2)).unwrap();
        assert!(w.record(Outcome::Failure, Nanos::MAX));
        assert_eq!(w.counts(Nanos::MAX).failures, 1);
    }

    #[test]
    fn runtime_bucket_count_sets_width_and_expiry() {
        let w = TimeWindow::<16>::with_buckets(ms(300), 3).unwrap(); // 3 buckets of 100 ms
        assert_eq!((w.buckets(), w.bucket_width()), (3, ms(100)));
        assert!(w.record(Outcome::Failure, ms(150))); // epoch 1
        assert_eq!(w.counts(ms(399)).failures, 1);
        assert_eq!(w.counts(ms(400)).failures, 0); // (1 + 3) * 100
        assert_eq!(
            TimeWindow::<2>::with_buckets(ms(300), 3).unwrap_err(),
            ConfigError::OutOfRange { field: "window_buckets", min: 1, max: 2, got: 3 }
        );
        assert!(TimeWindow::<2>::with_buckets(ms(300), 0).is_err());
    }

    #[test]
    fn reset_keeps_later_records() {
        let w = TimeWindow::<2>::new(ms(200)).unwrap();
        w.record(Outcome::Failure, ms(0));
        w.record(Outcome::SlowSuccess, ms(100));
        w.reset();
        assert_eq!(w.counts(ms(100)), WindowCounts::default());
        w.record(Outcome::Failure, ms(150));
        assert_eq!(w.counts(ms(150)), WindowCounts { calls: 1, failures: 1, slow: 0 });
    }
}
