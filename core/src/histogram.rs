//! Fixed-size, lock-free latency histograms with log-linear buckets: the live percentiles that
//! hedging, slow-call detection and latency snapshots read.
//!
//! - [`Histogram<SUB, OCT>`]: counts since construction (or the last [`reset`](Histogram::reset));
//!   `record` is one `fetch_add`.
//! - [`RollingHistogram<SUB, OCT>`]: two histograms that take turns, one period each, so that
//!   percentiles describe the last one to two periods ("live" percentiles).
//!
//! The bucket layout, the error bound and the concurrency guarantees are in
//! `docs/semantics/hedging.md`, included in [`crate::hedge`].

use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::sync::{AtomicU64, CachePadded, Ordering, loom_const_fn, zeroed_array};

/// One million: percentiles are given in parts per million (`500_000` is the median).
pub const PPM: u32 = 1_000_000;

/// `OCT` rows of `SUB` zeroed counters.
#[cfg(not(loom))]
const fn zeroed_rows<const SUB: usize, const OCT: usize>() -> [[AtomicU64; SUB]; OCT] {
    [const { zeroed_array::<SUB>() }; OCT]
}

/// `OCT` rows of `SUB` zeroed counters (loom build: not `const`).
#[cfg(loom)]
fn zeroed_rows<const SUB: usize, const OCT: usize>() -> [[AtomicU64; SUB]; OCT] {
    core::array::from_fn(|_| zeroed_array::<SUB>())
}

/// A lock-free histogram of latencies in nanoseconds, with `SUB` linear sub-buckets per power of
/// two and `OCT` rows.
///
/// # Semantics
///
/// Row 0 counts the values `0..SUB` exactly (width 1). Row `r >= 1` counts the values
/// `SUB·2^(r−1) .. SUB·2^r` in `SUB` buckets of width `2^(r−1)`. Values from
/// [`max_trackable`](Self::max_trackable) `= SUB·2^(OCT−1)` up are counted in one overflow
/// counter.
///
/// A percentile is the *nearest-rank* percentile: for `p` parts per million of `n` samples, the
/// sample of rank `k = max(1, ⌈p·n / 10⁶⌉)` in ascending order. The histogram answers the
/// midpoint (rounded down) of the bucket holding that sample, so:
///
/// - values below `2·SUB` are exact;
/// - otherwise the answer `a` for an exact percentile `v` obeys `|a − v| <= v / (2·SUB)`: a
///   relative error of at most `1 / (2·SUB)` (1.5625 % for the default `SUB = 32`; see
///   [`RELATIVE_ERROR_PPM`](Self::RELATIVE_ERROR_PPM));
/// - a percentile whose sample is at or above `max_trackable` is answered `max_trackable` (a lower
///   bound; [`overflow_count`](Self::overflow_count) tells how many samples are there).
///
/// Concurrency: `record` is one wait-free `fetch_add`; a count is never lost. A read scans the
/// counters one by one (two passes), so it describes a mix of before and after the records that
/// run concurrently with it; once no record is in progress, reads are exact as above.
///
/// Defaults: `SUB = 32`, `OCT = 36`: 1,152 buckets (9,224 bytes), tracking up to 2⁴⁰ ns
/// (about 18.3 minutes) with 1.5625 % relative error.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, histogram::Histogram};
/// static LATENCY: Histogram = Histogram::new();
/// for ms in 1..=100 {
///     LATENCY.record(Nanos::from_millis(ms));
/// }
/// let p50 = LATENCY.percentile(500_000).unwrap().as_u64();
/// let exact = 50_000_000;
/// assert!(p50.abs_diff(exact) <= exact / 64, "within 1/(2·32) of the exact median");
/// assert_eq!(LATENCY.count(), 100);
/// ```
///
/// A layout whose largest value does not fit in 64 bits, or a `SUB` that is not a power of two,
/// does not compile:
///
/// ```compile_fail
/// let h = portcullis::histogram::Histogram::<24, 8>::new();
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Histogram<const SUB: usize = 32, const OCT: usize = 36> {
    rows: [[AtomicU64; SUB]; OCT],
    overflow: AtomicU64,
}

impl<const SUB: usize, const OCT: usize> Histogram<SUB, OCT> {
    /// Checked when `new` is instantiated.
    const VALID: () = assert!(
        SUB.is_power_of_two()
            && SUB >= 2
            && SUB <= 4096
            && OCT >= 1
            && (SUB.trailing_zeros() as usize) + OCT <= 64,
        "Histogram: SUB must be a power of two in 2..=4096 and SUB·2^(OCT−1) must fit in 64 bits"
    );

    /// `log2(SUB)`.
    const SHIFT: u32 = SUB.trailing_zeros();

    /// The bound on the relative error of a percentile, in parts per million: `10⁶ / (2·SUB)`.
    #[allow(clippy::cast_possible_truncation, reason = "SUB <= 4096 by VALID")]
    pub const RELATIVE_ERROR_PPM: u32 = PPM / (2 * SUB as u32);

    loom_const_fn! {
        /// An empty histogram. An invalid `SUB` or `OCT` fails to compile.
        #[must_use]
        #[allow(clippy::let_unit_value, reason = "evaluates the compile-time check")]
        pub fn new() -> Self {
            let () = Self::VALID;
            Histogram { rows: zeroed_rows(), overflow: AtomicU64::new(0) }
        }
    }

    /// The smallest value that is not tracked exactly: `SUB·2^(OCT−1)` ns. Larger values are
    /// counted in the overflow counter.
    #[must_use]
    pub const fn max_trackable(&self) -> Nanos {
        Nanos::new((SUB as u64) << (OCT - 1))
    }

    /// The bucket `(row, column)` of `v`, or `None` for the overflow counter.
    #[allow(clippy::cast_possible_truncation, reason = "row < 64 and column < SUB <= 4096")]
    const fn index(v: u64) -> Option<(usize, usize)> {
        if v < SUB as u64 {
            return Some((0, v as usize));
        }
        let msb = v.ilog2(); // v >= SUB >= 2
        let row = (msb - Self::SHIFT + 1) as usize;
        if row >= OCT {
            return None;
        }
        let column = (v >> (row - 1)) as usize - SUB;
        Some((row, column))
    }

    /// The lowest value and the width of bucket `(row, column)`.
    const fn bounds(row: usize, column: usize) -> (u64, u64) {
        if row == 0 {
            (column as u64, 1)
        } else {
            (((SUB + column) as u64) << (row - 1), 1u64 << (row - 1))
        }
    }

    /// The value a percentile falling in bucket `(row, column)` is answered with: the midpoint of
    /// the bucket, rounded down.
    const fn representative(row: usize, column: usize) -> u64 {
        let (low, width) = Self::bounds(row, column);
        low + (width - 1) / 2
    }

    /// The range of values `[low, high]` counted in the same bucket as `latency` (both ends
    /// inclusive), or `None` if `latency` is at or above [`max_trackable`](Self::max_trackable).
    ///
    /// ```
    /// use portcullis::{Nanos, histogram::Histogram};
    /// let h = Histogram::<32, 36>::new();
    /// assert_eq!(h.bucket_range(Nanos::new(63)), Some((Nanos::new(63), Nanos::new(63))));
    /// assert_eq!(h.bucket_range(Nanos::new(1_000)), Some((Nanos::new(992), Nanos::new(1_007))));
    /// ```
    #[must_use]
    pub const fn bucket_range(&self, latency: Nanos) -> Option<(Nanos, Nanos)> {
        match Self::index(latency.as_u64()) {
            Some((row, column)) => {
                let (low, width) = Self::bounds(row, column);
                Some((Nanos::new(low), Nanos::new(low + width - 1)))
            }
            None => None,
        }
    }

    /// Counts one sample: one wait-free `fetch_add`.
    pub fn record(&self, latency: Nanos) {
        // Relaxed: a counter publishes nothing but itself, and a fetch_add never loses a count
        // (every RMW reads the latest value in the counter's modification order).
        self.counter(latency.as_u64()).fetch_add(1, Ordering::Relaxed);
    }

    /// The counter that `v` goes to.
    fn counter(&self, v: u64) -> &AtomicU64 {
        match Self::index(v) {
            Some((row, column)) => match self.rows.get(row).and_then(|r| r.get(column)) {
                Some(c) => c,
                None => &self.overflow, // unreachable: index() keeps row < OCT, column < SUB
            },
            None => &self.overflow,
        }
    }

    /// The number of samples counted (a sum over the counters; wait-free).
    #[must_use]
    pub fn count(&self) -> u64 {
        let mut n = self.overflow_count();
        for row in &self.rows {
            for c in row {
                n = n.saturating_add(c.load(Ordering::Relaxed));
            }
        }
        n
    }

    /// The number of samples at or above [`max_trackable`](Self::max_trackable).
    #[must_use]
    pub fn overflow_count(&self) -> u64 {
        self.overflow.load(Ordering::Relaxed)
    }

    /// The `ppm`-th percentile (parts per million: `990_000` is p99), or `None` when no sample has
    /// been recorded. `ppm` above `1_000_000` reads as `1_000_000` (the maximum); `0` is the
    /// minimum.
    #[must_use]
    pub fn percentile(&self, ppm: u32) -> Option<Nanos> {
        self.percentiles(&[ppm]).map(|[v]| v)
    }

    /// Several percentiles from one pass over the counters, in the order asked. Wait-free: two
    /// passes of `SUB·OCT` loads.
    ///
    /// ```
    /// use portcullis::{Nanos, histogram::Histogram};
    /// let h: Histogram = Histogram::new();
    /// for v in 1..=40 { h.record(Nanos::new(v)); }
    /// let [p50, p95, max] = h.percentiles(&[500_000, 950_000, 1_000_000]).unwrap();
    /// assert_eq!((p50.as_u64(), p95.as_u64(), max.as_u64()), (20, 38, 40));
    /// ```
    #[must_use]
    pub fn percentiles<const M: usize>(&self, ppms: &[u32; M]) -> Option<[Nanos; M]> {
        quantiles::<SUB, OCT, M>(&[self], ppms).1
    }

    /// The number of samples above `threshold`, at bucket resolution: the samples in buckets that
    /// start after the bucket holding `threshold` (so samples in `threshold`'s own bucket are not
    /// counted), overflow included. Exact when `threshold` is the top of its bucket (see
    /// [`bucket_range`](Self::bucket_range)), for example any value below `2·SUB`. For slow-call
    /// rates. Wait-free.
    ///
    /// ```
    /// use portcullis::{Nanos, histogram::Histogram};
    /// let h: Histogram = Histogram::new();
    /// for v in [10, 20, 30, 40] { h.record(Nanos::new(v)); }
    /// assert_eq!(h.count_above(Nanos::new(20)), 2);
    /// ```
    #[must_use]
    pub fn count_above(&self, threshold: Nanos) -> u64 {
        let Some((tr, tc)) = Self::index(threshold.as_u64()) else {
            return 0; // threshold in the overflow region: nothing is known to be above it
        };
        let mut n = self.overflow_count();
        for (r, row) in self.rows.iter().enumerate() {
            for (c, counter) in row.iter().enumerate() {
                if (r, c) > (tr, tc) {
                    n = n.saturating_add(counter.load(Ordering::Relaxed));
                }
            }
        }
        n
    }

    /// A summary for metrics: the count, the overflow count, and p50, p90, p99, p99.9 and the
    /// maximum, from one pass; `None` when empty. Wait-free.
    #[must_use]
    pub fn snapshot(&self) -> Option<LatencySnapshot> {
        let (n, q) = quantiles::<SUB, OCT, 5>(&[self], &SNAPSHOT_PPMS);
        q.map(|q| LatencySnapshot::new(n, self.overflow_count(), q))
    }

    /// Empties every counter (one store each; wait-free). A record concurrent with the reset is
    /// either removed or kept, never half-counted.
    pub fn reset(&self) {
        for row in &self.rows {
            for c in row {
                c.store(0, Ordering::Relaxed);
            }
        }
        self.overflow.store(0, Ordering::Relaxed);
    }
}

impl<const SUB: usize, const OCT: usize> Default for Histogram<SUB, OCT> {
    fn default() -> Self {
        Self::new()
    }
}

/// The percentiles of a [`LatencySnapshot`]: p50, p90, p99, p99.9, max.
const SNAPSHOT_PPMS: [u32; 5] = [500_000, 900_000, 990_000, 999_000, PPM];

/// Latency percentiles at one moment, for metrics and logs (the error bound of [`Histogram`]
/// applies to each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LatencySnapshot {
    /// Samples counted.
    pub count: u64,
    /// Samples at or above the histogram's `max_trackable`.
    pub overflow: u64,
    /// The median.
    pub p50: Nanos,
    /// The 90th percentile.
    pub p90: Nanos,
    /// The 99th percentile.
    pub p99: Nanos,
    /// The 99.9th percentile.
    pub p999: Nanos,
    /// The largest sample (its bucket's midpoint).
    pub max: Nanos,
}

impl LatencySnapshot {
    const fn new(count: u64, overflow: u64, q: [Nanos; 5]) -> LatencySnapshot {
        let [p50, p90, p99, p999, max] = q;
        LatencySnapshot { count, overflow, p50, p90, p99, p999, max }
    }
}

/// The nearest rank of `ppm` among `n` samples: `max(1, ⌈ppm·n / 10⁶⌉)`.
fn rank(ppm: u32, n: u64) -> u64 {
    let ppm = u128::from(ppm.min(PPM));
    let k = (ppm * u128::from(n)).div_ceil(u128::from(PPM));
    u64::try_from(k).unwrap_or(u64::MAX).max(1)
}

/// Sample count and percentiles over the sum of `banks`: two passes (count, then the cumulative
/// scan). Returns `(count, None)` when the banks hold no sample.
pub(crate) fn quantiles<const SUB: usize, const OCT: usize, const M: usize>(
    banks: &[&Histogram<SUB, OCT>],
    ppms: &[u32; M],
) -> (u64, Option<[Nanos; M]>) {
    let load = |row: usize, column: usize| -> u64 {
        let mut n = 0u64;
        for b in banks {
            if let Some(c) = b.rows.get(row).and_then(|r| r.get(column)) {
                n = n.saturating_add(c.load(Ordering::Relaxed));
            }
        }
        n
    };
    let overflow = || banks.iter().fold(0u64, |n, b| n.saturating_add(b.overflow_count()));
    let mut n = 0u64;
    for row in 0..OCT {
        for column in 0..SUB {
            n = n.saturating_add(load(row, column));
        }
    }
    n = n.saturating_add(overflow());
    if n == 0 {
        return (0, None);
    }
    let ranks = ppms.map(|p| rank(p, n));
    let mut out = [Nanos::ZERO; M];
    let mut found = [false; M];
    let mut cumulative = 0u64;
    let mut last = None;
    for row in 0..OCT {
        for column in 0..SUB {
            let c = load(row, column);
            if c == 0 {
                continue;
            }
            cumulative = cumulative.saturating_add(c);
            let v = Nanos::new(Histogram::<SUB, OCT>::representative(row, column));
            last = Some(v);
            for ((o, f), r) in out.iter_mut().zip(found.iter_mut()).zip(ranks.iter()) {
                if !*f && cumulative >= *r {
                    *o = v;
                    *f = true;
                }
            }
        }
    }
    let max = Nanos::new((SUB as u64) << (OCT - 1));
    // What is not found lies in the overflow counter, or counters were reset between the passes
    // (then the largest value seen answers, or nothing if everything vanished).
    let fallback = if overflow() > 0 { Some(max) } else { last };
    let Some(fallback) = fallback else {
        return (n, None);
    };
    for (o, f) in out.iter_mut().zip(found.iter()) {
        if !*f {
            *o = fallback;
        }
    }
    (n, Some(out))
}

/// A histogram of the last one to two periods: two [`Histogram`] banks that take turns.
///
/// # Semantics
///
/// Time is cut into periods of `period` nanoseconds aligned on `Nanos::ZERO`; period `e` records
/// into bank `e % 2`. The first record of a new period empties its bank (the bank of period
/// `e − 2`) before counting. A read at `now` sums the bank of the current period `e` and the bank
/// of period `e − 1`, so it describes between one and two periods of samples; an older bank is
/// ignored. The histogram keeps its own time, the newest period a record has reached, and reads
/// at the later of that and `now`, so a clock that steps back does not bring old samples back. A
/// record with a `now` earlier than the newest period counts in the bank it finds.
///
/// The percentiles and their error bound are those of [`Histogram`], over the samples of the
/// banks read.
///
/// Concurrency: `record` is a load of the bank's tag and a `fetch_add` (wait-free), plus, once per
/// period, a CAS that claims the rotation and a reset of the bank by its winner. A sample recorded
/// concurrently with the rotation of its bank may be erased by that reset; no other count is lost.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, histogram::RollingHistogram};
/// let h = RollingHistogram::<32, 36>::new(Nanos::from_secs(10)).unwrap();
/// h.record(Nanos::from_millis(5), Nanos::from_secs(1));   // period 0
/// h.record(Nanos::from_millis(7), Nanos::from_secs(12));  // period 1
/// assert_eq!(h.count(Nanos::from_secs(19)), 2);            // periods 0 and 1
/// assert_eq!(h.count(Nanos::from_secs(20)), 1);            // periods 1 and 2
/// assert_eq!(h.count(Nanos::from_secs(30)), 0);            // periods 2 and 3
/// ```
///
/// # Errors
///
/// [`new`](Self::new) rejects a zero `period` ([`ConfigError::ZeroDuration`]).
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct RollingHistogram<const SUB: usize = 32, const OCT: usize = 36> {
    period_ns: u64,
    /// Per bank, one more than the period it holds (0: never used). Only grows.
    tags: [CachePadded<AtomicU64>; 2],
    banks: [Histogram<SUB, OCT>; 2],
}

impl<const SUB: usize, const OCT: usize> RollingHistogram<SUB, OCT> {
    loom_const_fn! {
        /// An empty rolling histogram whose banks each cover `period`.
        ///
        /// # Errors
        ///
        /// [`ConfigError::ZeroDuration`] (`field: "period"`) if `period` is zero.
        pub fn new(period: Nanos) -> Result<Self, ConfigError> {
            if period.as_u64() == 0 {
                return Err(ConfigError::ZeroDuration { field: "period" });
            }
            Ok(RollingHistogram {
                period_ns: period.as_u64(),
                tags: [CachePadded(AtomicU64::new(0)), CachePadded(AtomicU64::new(0))],
                banks: [Histogram::new(), Histogram::new()],
            })
        }
    }

    /// The period each bank covers.
    #[must_use]
    pub const fn period(&self) -> Nanos {
        Nanos::new(self.period_ns)
    }

    /// The period of `now`, capped so that the tag `e + 1` never overflows (a period of 1 ns at
    /// `now = u64::MAX`).
    const fn epoch(&self, now: Nanos) -> u64 {
        let e = now.as_u64() / self.period_ns;
        if e == u64::MAX { u64::MAX - 1 } else { e }
    }

    /// The bank of period `e` and its tag word.
    fn bank(&self, e: u64) -> Option<(&AtomicU64, &Histogram<SUB, OCT>)> {
        #[allow(clippy::cast_possible_truncation, reason = "e % 2 < 2")]
        let i = (e % 2) as usize;
        Some((&self.tags.get(i)?.0, self.banks.get(i)?))
    }

    /// Counts one sample at `now`. Lock-free: the rotation CAS retries only when another thread
    /// moved the tag; otherwise one load and one `fetch_add`.
    pub fn record(&self, latency: Nanos, now: Nanos) {
        let e = self.epoch(now);
        let Some((tag, bank)) = self.bank(e) else { return };
        // Relaxed: the tag orders nothing but the bank's own counters, whose updates are RMWs
        // and stores on those counters; losing a sample to a concurrent rotation is documented.
        let mut cur = tag.load(Ordering::Relaxed);
        while cur < e + 1 {
            match tag.compare_exchange_weak(cur, e + 1, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    // This call claimed the rotation: the bank held period `cur − 1` (two or more
                    // periods ago) and is emptied for period `e`.
                    bank.reset();
                    break;
                }
                Err(actual) => cur = actual,
            }
        }
        bank.record(latency);
    }

    /// The banks that a read at `now` sums: the current period's and the previous one's.
    fn live(&self, now: Nanos) -> [Option<&Histogram<SUB, OCT>>; 2] {
        let [w0, w1] = &self.tags;
        let t0 = w0.load(Ordering::Relaxed);
        let t1 = w1.load(Ordering::Relaxed);
        let newest = t0.max(t1).saturating_sub(1);
        let e = self.epoch(now).max(newest);
        // Tag `e + 1` holds period `e`, tag `e` holds period `e − 1`; 0 is a bank never used.
        let keep = |t: u64| t != 0 && (t == e + 1 || t == e);
        let [b0, b1] = &self.banks;
        [keep(t0).then_some(b0), keep(t1).then_some(b1)]
    }

    /// The number of samples of the current and previous periods at `now`.
    #[must_use]
    pub fn count(&self, now: Nanos) -> u64 {
        let banks = self.live(now);
        banks.iter().flatten().map(|b| b.count()).fold(0, u64::saturating_add)
    }

    /// The `ppm`-th percentile of the current and previous periods at `now`, or `None` when they
    /// hold no sample.
    #[must_use]
    pub fn percentile(&self, ppm: u32, now: Nanos) -> Option<Nanos> {
        self.percentiles(&[ppm], now).1.map(|[v]| v)
    }

    /// The number of samples and several percentiles of the current and previous periods at
    /// `now`, from one pass.
    #[must_use]
    pub fn percentiles<const M: usize>(
        &self,
        ppms: &[u32; M],
        now: Nanos,
    ) -> (u64, Option<[Nanos; M]>) {
        match self.live(now) {
            [Some(a), Some(b)] => quantiles::<SUB, OCT, M>(&[a, b], ppms),
            [Some(a), None] | [None, Some(a)] => quantiles::<SUB, OCT, M>(&[a], ppms),
            [None, None] => (0, None),
        }
    }

    /// A [`LatencySnapshot`] of the current and previous periods at `now`; `None` when empty.
    #[must_use]
    pub fn snapshot(&self, now: Nanos) -> Option<LatencySnapshot> {
        let banks = self.live(now);
        let overflow =
            banks.iter().flatten().fold(0u64, |n, b| n.saturating_add(b.overflow_count()));
        let (n, q) = self.percentiles(&SNAPSHOT_PPMS, now);
        q.map(|q| LatencySnapshot::new(n, overflow, q))
    }

    /// Empties both banks.
    pub fn reset(&self) {
        for b in &self.banks {
            b.reset();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn layout_boundaries() {
        type H = Histogram<4, 4>; // rows: [0,4) [4,8) [8,16) [16,32); max 32
        assert_eq!(H::index(0), Some((0, 0)));
        assert_eq!(H::index(3), Some((0, 3)));
        assert_eq!(H::index(4), Some((1, 0)));
        assert_eq!(H::index(7), Some((1, 3)));
        assert_eq!(H::index(8), Some((2, 0)));
        assert_eq!(H::index(9), Some((2, 0)));
        assert_eq!(H::index(10), Some((2, 1)));
        assert_eq!(H::index(31), Some((3, 3)));
        assert_eq!(H::index(32), None);
        assert_eq!(H::index(u64::MAX), None);
        assert_eq!(H::bounds(3, 3), (28, 4));
        assert_eq!(H::representative(3, 3), 29);
        let h = H::new();
        assert_eq!(h.max_trackable(), Nanos::new(32));
        // Every value maps into a bucket whose bounds contain it.
        for v in 0..32u64 {
            let (r, c) = H::index(v).unwrap();
            let (low, w) = H::bounds(r, c);
            assert!(low <= v && v < low + w, "{v}");
        }
    }

    #[test]
    fn widest_layout_fits() {
        type H = Histogram<2, 63>;
        assert_eq!(H::index(u64::MAX >> 1), Some((62, 1)));
        assert_eq!(H::index(1 << 63), None);
        assert_eq!(H::bounds(62, 1), (3 << 61, 1 << 61));
        let h = Histogram::<2, 63>::new();
        h.record(Nanos::new(u64::MAX >> 1));
        assert_eq!(h.overflow_count(), 0);
        assert_eq!(h.max_trackable(), Nanos::new(1 << 63));
        assert_eq!(h.percentile(PPM), Some(Nanos::new((3 << 61) + ((1 << 61) - 1) / 2)));
    }

    #[test]
    fn nearest_rank() {
        assert_eq!(rank(0, 10), 1);
        assert_eq!(rank(500_000, 10), 5);
        assert_eq!(rank(500_001, 10), 6);
        assert_eq!(rank(1_000_000, 10), 10);
        assert_eq!(rank(2_000_000, 10), 10);
        assert_eq!(rank(990_000, 1), 1);
    }

    #[test]
    fn overflow_is_a_lower_bound() {
        let h = Histogram::<4, 4>::new();
        h.record(Nanos::new(1));
        h.record(Nanos::new(1_000));
        assert_eq!(h.overflow_count(), 1);
        assert_eq!(h.percentile(0), Some(Nanos::new(1)));
        assert_eq!(h.percentile(PPM), Some(Nanos::new(32)));
        assert_eq!(h.count(), 2);
        h.reset();
        assert_eq!(h.percentile(PPM), None);
        assert_eq!(h.count(), 0);
    }

    #[test]
    fn snapshot_and_count_above() {
        let h = Histogram::<4, 4>::new();
        assert_eq!(h.snapshot(), None);
        for v in 0..10 {
            h.record(Nanos::new(v));
        }
        h.record(Nanos::new(100));
        let s = h.snapshot().unwrap();
        assert_eq!((s.count, s.overflow), (11, 1));
        assert_eq!(
            (s.p50, s.p90, s.p99, s.max),
            (Nanos::new(5), Nanos::new(8), Nanos::new(32), Nanos::new(32))
        );
        assert_eq!(
            h.count_above(Nanos::new(7)),
            3,
            "8 and 9 share bucket [8, 9], plus the overflow"
        );
        assert_eq!(h.count_above(Nanos::new(8)), 1, "8's bucket is not counted");
        assert_eq!(h.count_above(Nanos::new(31)), 1);
        assert_eq!(h.count_above(Nanos::new(32)), 0);
        let r = RollingHistogram::<4, 4>::new(Nanos::new(10)).unwrap();
        assert_eq!(r.snapshot(Nanos::ZERO), None);
        r.record(Nanos::new(100), Nanos::ZERO);
        assert_eq!(r.snapshot(Nanos::ZERO).map(|s| (s.count, s.overflow)), Some((1, 1)));
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn size_matches_the_documentation() {
        assert_eq!(core::mem::size_of::<Histogram>(), 9_224);
    }

    #[test]
    fn error_constant() {
        assert_eq!(Histogram::<32, 36>::RELATIVE_ERROR_PPM, 15_625);
        assert_eq!(Histogram::<32, 36>::new().max_trackable(), Nanos::new(1 << 40));
    }

    #[test]
    fn rolling_rotates_and_ignores_old_banks() {
        let h = RollingHistogram::<4, 4>::new(Nanos::new(100)).unwrap();
        assert_eq!(
            RollingHistogram::<4, 4>::new(Nanos::ZERO).unwrap_err(),
            ConfigError::ZeroDuration { field: "period" }
        );
        h.record(Nanos::new(1), Nanos::new(50)); // period 0
        h.record(Nanos::new(2), Nanos::new(150)); // period 1
        assert_eq!(h.count(Nanos::new(199)), 2);
        h.record(Nanos::new(3), Nanos::new(250)); // period 2 empties bank 0
        assert_eq!(h.count(Nanos::new(299)), 2);
        assert_eq!(h.percentile(0, Nanos::new(299)), Some(Nanos::new(2)));
        // Backwards: reads at the newest period (2).
        assert_eq!(h.count(Nanos::ZERO), 2);
        // A late record lands in the bank it finds (bank 1, period 1's samples).
        h.record(Nanos::new(0), Nanos::new(120));
        assert_eq!(h.percentile(0, Nanos::new(250)), Some(Nanos::ZERO));
        // The end of time does not overflow the tags.
        let tiny = RollingHistogram::<4, 4>::new(Nanos::new(1)).unwrap();
        tiny.record(Nanos::new(1), Nanos::MAX);
        assert_eq!(tiny.count(Nanos::MAX), 1);
        // Far ahead: nothing is live.
        assert_eq!(h.count(Nanos::new(10_000)), 0);
        assert_eq!(h.percentiles(&[PPM], Nanos::new(10_000)), (0, None));
        h.reset();
        assert_eq!(h.count(Nanos::new(299)), 0);
    }
}
