//! Adaptive concurrency limits: a limit that moves with the latency the caller observes.
//!
//! Two algorithms, one contract ([`AdaptiveLimit`]):
//!
//! - [`Aimd`]: additive increase while calls are fast, multiplicative decrease when one is
//!   dropped or slower than a threshold;
//! - [`Gradient`]: the limit follows the ratio of the no-load RTT to the observed RTT, in the
//!   style of Netflix concurrency-limits' `Gradient2Limit` and Envoy's gradient controller.
//!
//! AIMD keeps its state in one atomic word, updated by one compare-and-swap per sample; the
//! gradient in two (a sample window, one CAS per sample, and the limit, one CAS per completed
//! window). Both are lock-free, linearizable and allocation-free, and use no clock: the caller
//! measures each call's round-trip time and passes it in a [`Sample`], so a run on a manual clock
//! replays exactly.
//! [`feed`] records a sample and applies the new limit to a [`Bulkhead`].
//!
//! The exact rules, the formulas of the peers and where these differ are in
//! `docs/semantics/adaptive.md`, included below.
#![doc = include_str!("../../docs/semantics/adaptive.md")]

use crate::bulkhead::Bulkhead;
use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::sync::{AtomicU64, Ordering, loom_const_fn};
use crate::word::Field;

/// One observed call, as an adaptive limit learns from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sample {
    /// The call's round-trip time, measured by the caller. For a call that timed out, pass the
    /// time it was given up after.
    pub rtt: Nanos,
    /// The calls in flight when this one was admitted, itself included
    /// ([`Permit::in_flight_at_admission`](crate::bulkhead::Permit::in_flight_at_admission)).
    /// Used to ignore samples taken while the limit was not the constraint (app-limited).
    pub in_flight: u32,
    /// Whether the call was dropped: rejected downstream, timed out, or otherwise a sign of
    /// overload.
    pub dropped: bool,
}

/// The contract of an adaptive limit.
pub trait AdaptiveLimit {
    /// Learns from one sample; returns the new limit if this sample changed it.
    fn record(&self, sample: Sample) -> Option<u32>;

    /// The limit now.
    fn limit(&self) -> u32;
}

/// Records `sample` into `limit` and, if the limit changed, resizes `bulkhead` to it.
///
/// Returns the limit applied, or `None` when the sample did not change it.
///
/// # Semantics
///
/// Concurrent feeders cannot leave a stale limit behind: after each resize the feeder re-reads
/// the adaptive limit and resizes again if it moved meanwhile. Resizes are ordered by the
/// bulkhead's word (`AcqRel`), so the last feeder to resize sees every adaptive update made before
/// the resizes that precede its own.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::adaptive::{feed, Aimd, AimdConfig, Sample};
/// use portcullis::bulkhead::Bulkhead;
/// let config = AimdConfig { initial: 2, ..AimdConfig::new(Nanos::from_millis(10)) };
/// let aimd = Aimd::new(config).unwrap();
/// let bulkhead = Bulkhead::new(2).unwrap();
/// // Two fast calls at full concurrency: one round of successes raises the limit by 1.
/// for _ in 0..2 {
///     let permit = bulkhead.try_acquire(1).unwrap();
///     let sample = Sample {
///         rtt: Nanos::from_millis(1),
///         in_flight: permit.in_flight_at_admission().max(2),
///         dropped: false,
///     };
///     drop(permit);
///     feed(&aimd, &bulkhead, sample);
/// }
/// assert_eq!(bulkhead.limit(), 3);
/// ```
///
/// # Progress
///
/// Lock-free: the resize is repeated only when another thread changed the adaptive limit.
pub fn feed<L: AdaptiveLimit + ?Sized>(
    limit: &L,
    bulkhead: &Bulkhead,
    sample: Sample,
) -> Option<u32> {
    limit.record(sample)?;
    loop {
        let want = limit.limit();
        // Every ceiling is validated to be at most the bulkhead's MAX_LIMIT, so this never fails.
        let _ = bulkhead.resize(want);
        if limit.limit() == want {
            return Some(want);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AIMD

/// AIMD word: `| since_decrease:21 | successes:21 | limit:21 |`.
///
/// - `limit`: the current limit, in `floor..=ceiling`.
/// - `successes`: fast samples counted towards the next increase (reset by each change).
/// - `since_decrease`: samples since the last decrease, saturating; starts saturated so that the
///   first overload decreases at once.
const AIMD_LIMIT: Field = Field::new(0, 21);
const AIMD_SUCCESSES: Field = Field::new(21, 21);
const AIMD_SINCE: Field = Field::new(42, 21);
const _: () = assert!(Field::disjoint(&[AIMD_LIMIT, AIMD_SUCCESSES, AIMD_SINCE]));

/// The largest ceiling of an adaptive limit: 65,535 (the gradient keeps its limit in 20 bits of
/// fixed point; AIMD uses the same bound so the two are interchangeable).
pub const MAX_CEILING: u32 = 65_535;

/// The configuration of an [`Aimd`] limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AimdConfig {
    /// The limit before any sample. In `floor..=ceiling`.
    pub initial: u32,
    /// The lowest limit. At least 1 (a limit of 0 would admit nothing, so nothing would ever be
    /// learned again).
    pub floor: u32,
    /// The highest limit. At most [`MAX_CEILING`].
    pub ceiling: u32,
    /// A sample slower than this (strictly) counts as an overload, like a drop.
    pub latency_threshold: Nanos,
    /// How much one round of fast samples adds to the limit. In `1..=ceiling`.
    pub increase: u32,
    /// The factor of a decrease, in thousandths: the new limit is `limit · backoff / 1000`
    /// (rounded down), and at least one less than before. In `500..=999`.
    pub backoff_permille: u32,
}

impl AimdConfig {
    /// The defaults with a latency threshold: initial 10, floor 1, ceiling 200, increase 1,
    /// backoff 0.9 (Netflix `AIMDLimit`'s initial limit and backoff ratio).
    #[must_use]
    pub const fn new(latency_threshold: Nanos) -> AimdConfig {
        AimdConfig {
            initial: 10,
            floor: 1,
            ceiling: 200,
            latency_threshold,
            increase: 1,
            backoff_permille: 900,
        }
    }

    /// Checks every rule, in field order.
    const fn validate(&self) -> Result<(), ConfigError> {
        if let Err(e) = check_bounds(self.initial, self.floor, self.ceiling) {
            return Err(e);
        }
        if self.latency_threshold.as_u64() == 0 {
            return Err(ConfigError::ZeroDuration { field: "latency_threshold" });
        }
        if self.increase == 0 || self.increase > self.ceiling {
            return Err(out_of_range("increase", 1, self.ceiling as u64, self.increase as u64));
        }
        if self.backoff_permille < 500 || self.backoff_permille > 999 {
            return Err(out_of_range("backoff_permille", 500, 999, self.backoff_permille as u64));
        }
        Ok(())
    }
}

const fn out_of_range(field: &'static str, min: u64, max: u64, value: u64) -> ConfigError {
    ConfigError::OutOfRange { field, min, max, got: value }
}

/// The rules shared by both algorithms: `1 <= floor <= initial <= ceiling <= MAX_CEILING`.
const fn check_bounds(initial: u32, floor: u32, ceiling: u32) -> Result<(), ConfigError> {
    if ceiling == 0 || ceiling > MAX_CEILING {
        return Err(out_of_range("ceiling", 1, MAX_CEILING as u64, ceiling as u64));
    }
    if floor == 0 {
        return Err(out_of_range("floor", 1, MAX_CEILING as u64, 0));
    }
    if floor > ceiling {
        return Err(ConfigError::AdaptiveLimitOrder {
            field: "floor",
            floor,
            value: floor,
            ceiling,
        });
    }
    if initial < floor || initial > ceiling {
        return Err(ConfigError::AdaptiveLimitOrder {
            field: "initial",
            floor,
            value: initial,
            ceiling,
        });
    }
    Ok(())
}

/// An additive-increase, multiplicative-decrease concurrency limit.
///
/// # Semantics
///
/// Per sample, in this order:
///
/// 1. **Overload** (`dropped`, or `rtt > latency_threshold`): if at least `limit` samples have
///    been recorded since the last decrease, the limit becomes
///    `max(floor, min(limit − 1, ⌊limit · backoff⌋))`; otherwise (a sample of the same overload
///    episode) the limit stays. Either way the count of fast samples restarts.
/// 2. **Fast and not app-limited** (`2 · in_flight >= limit`): counts one fast sample; when
///    `limit` of them have been counted (one round of the window), the limit becomes
///    `min(ceiling, limit + increase)` and the count restarts.
/// 3. **App-limited** (`2 · in_flight < limit`): nothing changes; the limit was not the
///    constraint, so the sample says nothing about it.
///
/// This is TCP's congestion avoidance: +`increase` per round of calls, ×`backoff` at most once per
/// round. Netflix's `AIMDLimit` adds 1 per fast sample instead (a doubling per round, like slow
/// start) and decreases on every overloaded sample; see `docs/semantics/adaptive.md`.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::adaptive::{AdaptiveLimit, Aimd, AimdConfig, Sample};
/// let aimd = Aimd::new(AimdConfig { initial: 4, ..AimdConfig::new(Nanos::from_millis(100)) })
///     .unwrap();
/// let fast = Sample { rtt: Nanos::from_millis(5), in_flight: 4, dropped: false };
/// for _ in 0..3 {
///     assert_eq!(aimd.record(fast), None);
/// }
/// assert_eq!(aimd.record(fast), Some(5)); // the 4th fast sample completes a round
/// let slow = Sample { rtt: Nanos::from_millis(101), ..fast };
/// assert_eq!(aimd.record(slow), Some(4)); // ⌊5 · 0.9⌋ = 4
/// assert_eq!(aimd.record(slow), None); // same episode: fewer than 4 samples since
/// ```
///
/// # Errors
///
/// [`Aimd::new`] rejects a configuration that breaks a rule of [`AimdConfig`].
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Aimd {
    word: AtomicU64,
    config: AimdConfig,
}

impl Aimd {
    loom_const_fn! {
        /// An AIMD limit at `config.initial`.
        ///
        /// # Errors
        ///
        /// [`ConfigError::OutOfRange`], [`ConfigError::AdaptiveLimitOrder`] or
        /// [`ConfigError::ZeroDuration`] naming the first field that breaks its rule.
        pub fn new(config: AimdConfig) -> Result<Aimd, ConfigError> {
            if let Err(e) = config.validate() {
                return Err(e);
            }
            let word = AIMD_LIMIT.place(config.initial as u64) | AIMD_SINCE.mask();
            Ok(Aimd { word: AtomicU64::new(word), config })
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &AimdConfig {
        &self.config
    }

    /// The AIMD rule as a pure function of the word.
    fn step(&self, word: u64, s: Sample) -> u64 {
        let c = &self.config;
        let limit = AIMD_LIMIT.get(word);
        let successes = AIMD_SUCCESSES.get(word);
        let since = AIMD_SINCE.get(word);
        let since_next = (since + 1).min(AIMD_SINCE.max());
        let pack = |limit: u64, successes: u64, since: u64| {
            AIMD_LIMIT.place(limit) | AIMD_SUCCESSES.place(successes) | AIMD_SINCE.place(since)
        };
        if s.dropped || s.rtt > c.latency_threshold {
            if since >= limit {
                let cut = limit * u64::from(c.backoff_permille) / 1000;
                let new = cut.min(limit.saturating_sub(1)).max(u64::from(c.floor));
                pack(new, 0, 0)
            } else {
                pack(limit, 0, since_next)
            }
        } else if u64::from(s.in_flight) * 2 >= limit {
            let successes = successes + 1;
            if successes >= limit {
                let new = (limit + u64::from(c.increase)).min(u64::from(c.ceiling));
                pack(new, 0, since_next)
            } else {
                pack(limit, successes, since_next)
            }
        } else {
            pack(limit, successes, since_next)
        }
    }
}

impl AdaptiveLimit for Aimd {
    /// # Progress
    ///
    /// Lock-free: one load and one compare-and-swap, retried when another sample landed first.
    fn record(&self, sample: Sample) -> Option<u32> {
        let (old, new) = update(&self.word, |w| self.step(w, sample));
        let (old, new) = (AIMD_LIMIT.get(old), AIMD_LIMIT.get(new));
        #[allow(clippy::cast_possible_truncation, reason = "limit <= MAX_CEILING")]
        (old != new).then_some(new as u32)
    }

    fn limit(&self) -> u32 {
        #[allow(clippy::cast_possible_truncation, reason = "limit <= MAX_CEILING")]
        let limit = AIMD_LIMIT.get(self.word.load(Ordering::Relaxed)) as u32;
        limit
    }
}

/// Applies `step` to `word` with a CAS loop; returns the old and the new word.
fn update(word: &AtomicU64, step: impl Fn(u64) -> u64) -> (u64, u64) {
    // Relaxed: the word publishes no other memory, and the CAS reads the latest value in its
    // modification order, so each sample is applied to the state all earlier samples left
    // (the samples are linearized in the order of their successful CASes).
    // A sample that changes nothing is still confirmed by a CAS (of the value onto itself), so
    // that it too is applied to the latest state rather than to a stale load.
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        let new = step(cur);
        match word.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return (cur, new),
            Err(actual) => cur = actual,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Gradient

/// Gradient limit word: `| probing:1 | count:27 | min_rtt:16 | limit:20 |`.
///
/// - `limit`: the estimated limit in fixed point with 4 fractional bits (`limit · 16`), so the
///   smoothing can move it by less than one permit per update.
/// - `min_rtt`: the no-load RTT estimate, log-encoded ([`encode_rtt`]); [`NO_RTT`] before the
///   first sample of a measurement.
/// - `count`: samples since the last probe (normal phase) or qualifying samples of the probe
///   (probing phase).
/// - `probing`: 1 while the no-load RTT is being re-measured at the floor.
const G_LIMIT: Field = Field::new(0, 20);
const G_MIN_RTT: Field = Field::new(20, 16);
const G_COUNT: Field = Field::new(36, 27);
const G_PROBING: Field = Field::new(63, 1);
const _: () = assert!(Field::disjoint(&[G_LIMIT, G_MIN_RTT, G_COUNT, G_PROBING]));

/// Sample-window word: `| max_in_flight:16 | min_rtt:16 | mean_rtt:16 | count:16 |`: the samples
/// of the window in progress, summarized. `mean_rtt` is the running mean of the samples' RTT
/// codes (a geometric-like mean, since the codes are logarithmic); `min_rtt` their minimum
/// ([`NO_RTT`] when empty); `max_in_flight` the largest `in_flight` (saturating).
const W_COUNT: Field = Field::new(0, 16);
const W_MEAN: Field = Field::new(16, 16);
const W_MIN: Field = Field::new(32, 16);
const W_MAX_IN_FLIGHT: Field = Field::new(48, 16);
const _: () = assert!(Field::disjoint(&[W_COUNT, W_MEAN, W_MIN, W_MAX_IN_FLIGHT]));
/// The empty window.
const W_EMPTY: u64 = W_MIN.place(NO_RTT);

/// Fractional bits of the gradient's fixed-point limit.
const FRAC: u32 = 4;
const ONE: u64 = 1 << FRAC;
const _: () = assert!((MAX_CEILING as u64 + 1) << FRAC == G_LIMIT.max() + 1);

/// The `min_rtt` code meaning "none measured yet" (above every code [`encode_rtt`] produces).
const NO_RTT: u64 = 0xFFFF;

/// Mantissa bits of the RTT encoding: a relative precision of 2⁻¹⁰ (0.1 %).
const MANTISSA: u32 = 10;

/// Encodes an RTT in nanoseconds into 16 bits, monotonically, rounding down to 11 significant
/// bits: `x` itself below 2048, else `(shift + 1)·2¹⁰ + mantissa` with
/// `x ≈ (2¹⁰ + mantissa)·2^shift`. The largest code (for `u64::MAX`) is 56,319, below [`NO_RTT`].
const fn encode_rtt(x: u64) -> u64 {
    if x < (1 << (MANTISSA + 1)) {
        return x;
    }
    let bits = 64 - x.leading_zeros();
    let shift = bits - (MANTISSA + 1);
    let mantissa = (x >> shift) & ((1 << MANTISSA) - 1);
    ((shift as u64 + 1) << MANTISSA) | mantissa
}

/// Decodes [`encode_rtt`]: the smallest RTT with that code.
const fn decode_rtt(code: u64) -> u64 {
    let e = code >> MANTISSA;
    if e <= 1 {
        return code;
    }
    ((1 << MANTISSA) | (code & ((1 << MANTISSA) - 1))) << (e - 1)
}

/// The largest probe interval and probe length, in samples (the `count` field).
pub const MAX_PROBE_SAMPLES: u32 = (1 << 27) - 1;

/// The configuration of a [`Gradient`] limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GradientConfig {
    /// The limit before any sample. In `floor..=ceiling`.
    pub initial: u32,
    /// The lowest limit, and the limit during a probe. At least 1.
    pub floor: u32,
    /// The highest limit. At most [`MAX_CEILING`].
    pub ceiling: u32,
    /// The headroom added to `limit · gradient` (Gradient2's `queueSize`): the most the limit can
    /// grow by in one update is `queue_size · smoothing`. In `0..=ceiling`.
    pub queue_size: u32,
    /// The weight of the new estimate, in thousandths:
    /// `limit ← limit·(1 − s) + (limit·gradient + queue_size)·s`. In `1..=1000`.
    pub smoothing_permille: u32,
    /// The latency the limit aims at, as a multiple of the no-load RTT, in thousandths: the
    /// gradient is `tolerance · min_rtt / window_rtt`, clamped to `[0.5, 1]`. In
    /// `1000..=10000`.
    pub tolerance_permille: u32,
    /// Samples between two re-measurements of the no-load RTT; 0 never re-measures (the minimum
    /// only ever goes down). At most [`MAX_PROBE_SAMPLES`].
    pub probe_interval: u32,
    /// Samples at concurrency `<= floor` that a re-measurement takes. In
    /// `1..=MAX_PROBE_SAMPLES`.
    pub probe_samples: u32,
}

impl GradientConfig {
    /// Initial 20, floor 3, ceiling 200, queue size 4, smoothing 0.2, tolerance 1.25, a probe
    /// of 20 samples every 10,000 samples. (Initial 20, ceiling 200, queue size 4 and smoothing
    /// 0.2 are Netflix `Gradient2Limit`'s defaults.)
    pub const DEFAULT: GradientConfig = GradientConfig {
        initial: 20,
        floor: 3,
        ceiling: 200,
        queue_size: 4,
        smoothing_permille: 200,
        tolerance_permille: 1_250,
        probe_interval: 10_000,
        probe_samples: 20,
    };

    const fn validate(&self) -> Result<(), ConfigError> {
        if let Err(e) = check_bounds(self.initial, self.floor, self.ceiling) {
            return Err(e);
        }
        if self.queue_size > self.ceiling {
            return Err(out_of_range("queue_size", 0, self.ceiling as u64, self.queue_size as u64));
        }
        if self.smoothing_permille == 0 || self.smoothing_permille > 1000 {
            return Err(out_of_range(
                "smoothing_permille",
                1,
                1000,
                self.smoothing_permille as u64,
            ));
        }
        if self.tolerance_permille < 1000 || self.tolerance_permille > 10_000 {
            let v = self.tolerance_permille as u64;
            return Err(out_of_range("tolerance_permille", 1000, 10_000, v));
        }
        if self.probe_interval > MAX_PROBE_SAMPLES {
            let v = self.probe_interval as u64;
            return Err(out_of_range("probe_interval", 0, MAX_PROBE_SAMPLES as u64, v));
        }
        if self.probe_samples == 0 || self.probe_samples > MAX_PROBE_SAMPLES {
            let v = self.probe_samples as u64;
            return Err(out_of_range("probe_samples", 1, MAX_PROBE_SAMPLES as u64, v));
        }
        Ok(())
    }
}

impl Default for GradientConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A completed sample window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WindowSummary {
    count: u64,
    mean_code: u64,
    min_code: u64,
    max_in_flight: u64,
}

/// A gradient concurrency limit: the limit shrinks as the observed RTT rises above the no-load
/// RTT, and grows by a bounded headroom while it does not.
///
/// # Semantics
///
/// Samples are gathered into **windows** of `limit` samples (about one round trip of calls at
/// the limit); the limit is updated once per window, by the sample that completes it, from the
/// window's mean RTT (all arithmetic in integers, RTTs kept to 0.1 %, the limit in 1/16 permits):
///
/// 1. `min_rtt ← min(min_rtt, smallest RTT of the window)`: the no-load RTT is the smallest RTT
///    seen since the last probe.
/// 2. Unless app-limited (`2 · max in_flight of the window < limit`):
///    - `gradient = clamp(tolerance · min_rtt / mean_rtt, 0.5, 1)`;
///    - `limit ← limit · (1 − s) + (limit · gradient + queue_size) · s`;
///    - clamped to `floor..=ceiling`.
/// 3. Every `probe_interval` samples the limit drops to `floor` for a **probe**: `min_rtt` is
///    forgotten and re-measured as the smallest RTT of the next `probe_samples` samples whose call
///    ran at `in_flight <= floor` (samples of calls admitted before the drop do not count); then
///    the limit estimated before the probe is restored. This lets the baseline rise when the
///    dependency's no-load latency really rises (Envoy measures its minRTT the same way).
///
/// So the limit grows by at most `queue_size · s` per window (0.8 with the defaults) and shrinks
/// by at most `limit · s / 2` (10 %). Where latency rises linearly with concurrency beyond a knee
/// `K` (`rtt = min_rtt · L / K` for `L > K`), the fixed point is `L* = tolerance · K + queue_size`.
/// A dropped call counts only through its RTT: pass the time it was given up after.
///
/// # Concurrency
///
/// Two words: the window (one CAS per sample) and the limit (one CAS per completed window). The
/// sample that completes a window empties it in the same CAS that adds it, so each window is
/// summarized exactly once, by one thread, which then applies it to the limit word with a CAS
/// (windows are applied in the order of those CASes). A window completed just as another one is
/// applied is measured against a limit at most one update old.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::adaptive::{AdaptiveLimit, Gradient, GradientConfig, Sample};
/// let config = GradientConfig { initial: 2, tolerance_permille: 1000, ..GradientConfig::DEFAULT };
/// let g = Gradient::new(GradientConfig { floor: 1, ..config }).unwrap();
/// let at = |ms, in_flight| Sample { rtt: Nanos::from_millis(ms), in_flight, dropped: false };
/// assert_eq!(g.record(at(10, 2)), None); // window of 2 samples in progress
/// assert_eq!(g.record(at(10, 2)), None); // 2 · 0.8 + (2 + 4) · 0.2 = 2.8 (2.75 in 1/16): 2
/// g.record(at(10, 2));
/// assert_eq!(g.record(at(10, 2)), Some(3)); // 2.75 + 0.8 = 3.5 in 1/16
/// for _ in 0..3 {
///     g.record(at(20, 3)); // twice the no-load RTT: gradient 0.5
/// }
/// assert_eq!(g.limit(), 3); // 3.5 · 0.9 + 0.8 = 3.95, 3.94 in 1/16: 3
/// ```
///
/// # Errors
///
/// [`Gradient::new`] rejects a configuration that breaks a rule of [`GradientConfig`].
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Gradient {
    word: AtomicU64,
    window: AtomicU64,
    config: GradientConfig,
}

impl Gradient {
    loom_const_fn! {
        /// A gradient limit at `config.initial`, with no RTT measured yet.
        ///
        /// # Errors
        ///
        /// [`ConfigError::OutOfRange`] or [`ConfigError::AdaptiveLimitOrder`] naming the
        /// first field that breaks its rule.
        pub fn new(config: GradientConfig) -> Result<Gradient, ConfigError> {
            if let Err(e) = config.validate() {
                return Err(e);
            }
            let word = G_LIMIT.place((config.initial as u64) << FRAC) | G_MIN_RTT.place(NO_RTT);
            Ok(Gradient { word: AtomicU64::new(word), window: AtomicU64::new(W_EMPTY), config })
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &GradientConfig {
        &self.config
    }

    /// The estimated limit, in permits, even during a probe (when [`limit`](AdaptiveLimit::limit)
    /// is the floor).
    #[must_use]
    pub fn estimate(&self) -> u32 {
        #[allow(clippy::cast_possible_truncation, reason = "limit <= MAX_CEILING")]
        let limit = (G_LIMIT.get(self.word.load(Ordering::Relaxed)) >> FRAC) as u32;
        limit
    }

    /// The no-load RTT estimate, or `None` before the first window of a measurement.
    #[must_use]
    pub fn min_rtt(&self) -> Option<Nanos> {
        let code = G_MIN_RTT.get(self.word.load(Ordering::Relaxed));
        (code != NO_RTT).then(|| Nanos::new(decode_rtt(code)))
    }

    /// Whether the no-load RTT is being re-measured (the limit is the floor meanwhile).
    #[must_use]
    pub fn probing(&self) -> bool {
        G_PROBING.get(self.word.load(Ordering::Relaxed)) == 1
    }

    /// The limit a word stands for.
    fn effective(&self, word: u64) -> u64 {
        if G_PROBING.get(word) == 1 {
            u64::from(self.config.floor)
        } else {
            G_LIMIT.get(word) >> FRAC
        }
    }

    /// A probe sample, as a pure function of the limit word.
    fn probe_step(&self, word: u64, s: Sample) -> u64 {
        let c = &self.config;
        if s.in_flight > c.floor {
            return word; // a call admitted before the probe: says nothing about no-load RTT
        }
        let min_code = G_MIN_RTT.get(word).min(encode_rtt(s.rtt.as_u64().max(1)));
        let count = G_COUNT.get(word) + 1;
        let limit = G_LIMIT.place(G_LIMIT.get(word));
        if count >= u64::from(c.probe_samples) {
            // Probe done: back to the limit estimated before it.
            return limit | G_MIN_RTT.place(min_code);
        }
        G_PROBING.mask() | G_COUNT.place(count) | G_MIN_RTT.place(min_code) | limit
    }

    /// Adds a sample to the window word; returns the new window word and, if the sample
    /// completed a window of `len` samples, its summary (the new word is then empty).
    fn window_step(word: u64, s: Sample, len: u64) -> (u64, Option<WindowSummary>) {
        let code = encode_rtt(s.rtt.as_u64().max(1));
        let count = W_COUNT.get(word) + 1;
        let mean = W_MEAN.get(word);
        // Running mean: m ← m + (x − m) / count, the division truncating towards zero.
        let mean =
            if code >= mean { mean + (code - mean) / count } else { mean - (mean - code) / count };
        let min = W_MIN.get(word).min(code);
        let max_in_flight =
            W_MAX_IN_FLIGHT.get(word).max(u64::from(s.in_flight).min(W_COUNT.max()));
        if count >= len {
            let summary = WindowSummary { count, mean_code: mean, min_code: min, max_in_flight };
            return (W_EMPTY, Some(summary));
        }
        let word = W_COUNT.place(count)
            | W_MEAN.place(mean)
            | W_MIN.place(min)
            | W_MAX_IN_FLIGHT.place(max_in_flight);
        (word, None)
    }

    /// A completed window applied to the limit word, as a pure function.
    fn window_update(&self, word: u64, w: WindowSummary) -> u64 {
        let c = &self.config;
        if G_PROBING.get(word) == 1 {
            return word; // a probe started meanwhile; the window's samples predate it
        }
        let limit_fx = G_LIMIT.get(word);
        let min_code = G_MIN_RTT.get(word).min(w.min_code);
        let count = (G_COUNT.get(word) + w.count).min(G_COUNT.max());
        if c.probe_interval != 0 && count >= u64::from(c.probe_interval) {
            return G_PROBING.mask() | G_MIN_RTT.place(NO_RTT) | G_LIMIT.place(limit_fx);
        }
        let keep = G_COUNT.place(count) | G_MIN_RTT.place(min_code);
        if w.max_in_flight * 2 * ONE < limit_fx {
            return keep | G_LIMIT.place(limit_fx); // app-limited
        }
        // Gradient in 1/1024: tolerance · min_rtt / mean_rtt, clamped to [512, 1024]. u128: the
        // product of a 64-bit RTT and 2²⁴ cannot overflow.
        let num = u128::from(c.tolerance_permille) * u128::from(decode_rtt(min_code)) * 1024;
        let den = 1000 * u128::from(decode_rtt(w.mean_code).max(1));
        #[allow(clippy::cast_possible_truncation, reason = "clamped to 1024")]
        let gradient = (num / den).clamp(512, 1024) as u64;
        // Everything below is < 2²⁰ · 2¹¹ · 2¹⁰: no overflow in u64.
        let target = limit_fx * gradient / 1024 + u64::from(c.queue_size) * ONE;
        let s = u64::from(c.smoothing_permille);
        let smoothed = (limit_fx * (1000 - s) + target * s) / 1000;
        let new = smoothed.clamp(u64::from(c.floor) * ONE, u64::from(c.ceiling) * ONE);
        keep | G_LIMIT.place(new)
    }
}

impl AdaptiveLimit for Gradient {
    /// # Progress
    ///
    /// Lock-free: one CAS on the window word per sample (retried when another sample landed
    /// first), plus one CAS on the limit word for the sample that completes a window or that
    /// arrives during a probe.
    fn record(&self, sample: Sample) -> Option<u32> {
        // Relaxed: the window length is a hint; a length one update old only makes this window a
        // little longer or shorter.
        let word = self.word.load(Ordering::Relaxed);
        if G_PROBING.get(word) == 1 {
            let (old, new) = update(&self.word, |w| {
                if G_PROBING.get(w) == 1 { self.probe_step(w, sample) } else { w }
            });
            let (old, new) = (self.effective(old), self.effective(new));
            #[allow(clippy::cast_possible_truncation, reason = "limit <= MAX_CEILING")]
            return (old != new).then_some(new as u32);
        }
        let len = self.effective(word).max(1);
        // Relaxed, as in `update`: the window publishes nothing but itself, and the CAS that
        // completes a window reads the latest value, so no sample is lost or counted twice.
        let mut cur = self.window.load(Ordering::Relaxed);
        let summary = loop {
            let (new, summary) = Self::window_step(cur, sample, len);
            match self.window.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break summary?,
                Err(actual) => cur = actual,
            }
        };
        let (old, new) = update(&self.word, |w| self.window_update(w, summary));
        let (old, new) = (self.effective(old), self.effective(new));
        #[allow(clippy::cast_possible_truncation, reason = "limit <= MAX_CEILING")]
        (old != new).then_some(new as u32)
    }

    fn limit(&self) -> u32 {
        #[allow(clippy::cast_possible_truncation, reason = "limit <= MAX_CEILING")]
        let limit = self.effective(self.word.load(Ordering::Relaxed)) as u32;
        limit
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn fast(in_flight: u32) -> Sample {
        Sample { rtt: Nanos::from_millis(1), in_flight, dropped: false }
    }

    #[test]
    fn rtt_encoding_is_monotone_and_precise() {
        let mut prev = 0;
        for x in (0..100_000u64).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            let code = encode_rtt(x);
            assert!(code >= prev && code < NO_RTT, "{x}");
            prev = code;
            let back = decode_rtt(code);
            assert!(back <= x && x - back <= x >> MANTISSA, "{x} -> {back}");
        }
        assert_eq!(encode_rtt(u64::MAX), 56_319);
    }

    #[test]
    fn aimd_config_rules() {
        let base = AimdConfig::new(Nanos::from_millis(1));
        let bad = |c: AimdConfig| Aimd::new(c).unwrap_err();
        assert_eq!(
            bad(AimdConfig { floor: 0, ..base }),
            ConfigError::OutOfRange { field: "floor", min: 1, max: 65_535, got: 0 }
        );
        assert_eq!(
            bad(AimdConfig { ceiling: 70_000, ..base }),
            ConfigError::OutOfRange { field: "ceiling", min: 1, max: 65_535, got: 70_000 }
        );
        assert_eq!(
            bad(AimdConfig { initial: 201, ..base }),
            ConfigError::AdaptiveLimitOrder {
                field: "initial",
                floor: 1,
                value: 201,
                ceiling: 200
            }
        );
        assert_eq!(
            bad(AimdConfig { floor: 300, initial: 300, ..base }),
            ConfigError::AdaptiveLimitOrder {
                field: "floor",
                floor: 300,
                value: 300,
                ceiling: 200
            }
        );
        assert_eq!(
            bad(AimdConfig { latency_threshold: Nanos::ZERO, ..base }),
            ConfigError::ZeroDuration { field: "latency_threshold" }
        );
        assert_eq!(
            bad(AimdConfig { backoff_permille: 1000, ..base }),
            ConfigError::OutOfRange { field: "backoff_permille", min: 500, max: 999, got: 1000 }
        );
        assert!(matches!(
            bad(AimdConfig { increase: 0, ..base }),
            ConfigError::OutOfRange { field: "increase", .. }
        ));
    }

    #[test]
    fn aimd_round_increase_and_single_decrease_per_round() {
        let a = Aimd::new(AimdConfig { initial: 3, ..AimdConfig::new(Nanos::from_millis(10)) })
            .unwrap();
        assert_eq!(a.record(fast(3)), None);
        assert_eq!(a.record(fast(1)), None, "app-limited: not counted");
        assert_eq!(a.record(fast(2)), None);
        assert_eq!(a.record(fast(2)), Some(4), "3 counted fast samples: +1");
        let drop = Sample { dropped: true, ..fast(4) };
        assert_eq!(a.record(drop), Some(3), "max(1, min(3, 3.6)) = 3");
        for _ in 0..3 {
            assert_eq!(a.record(drop), None, "same episode");
        }
        assert_eq!(a.record(drop), Some(2), "3 samples since the decrease: a new episode");
        let at_threshold = Sample { rtt: Nanos::from_millis(10), ..fast(2) };
        assert_eq!(a.record(at_threshold), None, "rtt == threshold is not slow");
        assert_eq!(a.record(at_threshold), Some(3));
    }

    #[test]
    fn aimd_respects_floor_and_ceiling() {
        let cfg = AimdConfig { initial: 2, floor: 2, ceiling: 3, ..AimdConfig::new(Nanos::new(5)) };
        let a = Aimd::new(cfg).unwrap();
        assert_eq!(a.record(Sample { dropped: true, ..fast(2) }), None, "already at the floor");
        for _ in 0..10 {
            a.record(Sample { rtt: Nanos::new(1), ..fast(3) });
        }
        assert_eq!(a.limit(), 3);
    }

    #[test]
    fn gradient_config_rules() {
        let d = GradientConfig::DEFAULT;
        let bad = |c: GradientConfig| Gradient::new(c).unwrap_err();
        assert!(matches!(
            bad(GradientConfig { smoothing_permille: 0, ..d }),
            ConfigError::OutOfRange { field: "smoothing_permille", .. }
        ));
        assert!(matches!(
            bad(GradientConfig { tolerance_permille: 999, ..d }),
            ConfigError::OutOfRange { field: "tolerance_permille", .. }
        ));
        assert!(matches!(
            bad(GradientConfig { probe_samples: 0, ..d }),
            ConfigError::OutOfRange { field: "probe_samples", .. }
        ));
        assert!(matches!(
            bad(GradientConfig { queue_size: 201, ..d }),
            ConfigError::OutOfRange { field: "queue_size", .. }
        ));
        assert!(matches!(
            bad(GradientConfig { probe_interval: MAX_PROBE_SAMPLES + 1, ..d }),
            ConfigError::OutOfRange { field: "probe_interval", .. }
        ));
        assert!(Gradient::new(GradientConfig { ceiling: 65_535, ..d }).is_ok());
    }

    #[test]
    fn gradient_probe_drops_to_floor_and_restores() {
        let cfg = GradientConfig {
            initial: 4,
            tolerance_permille: 1000,
            probe_interval: 12,
            probe_samples: 2,
            ..GradientConfig::DEFAULT
        };
        let g = Gradient::new(cfg).unwrap();
        let s =
            |ms: u64, in_flight| Sample { rtt: Nanos::from_millis(ms), in_flight, dropped: false };
        for _ in 0..8 {
            g.record(s(10, 30));
        }
        let before = g.estimate();
        assert_eq!(before, 5, "4 → 4.8 → 5.6 after two windows of 4");
        for _ in 0..5 {
            g.record(s(10, 30));
        }
        assert!(g.probing(), "13 samples: the window (of 5) that passes 12 starts the probe");
        assert_eq!(g.limit(), 3);
        assert!(g.min_rtt().is_none());
        assert_eq!(g.record(s(1, 30)), None, "admitted before the probe: ignored");
        assert_eq!(g.record(s(20, 3)), None);
        assert_eq!(g.record(s(25, 2)), Some(before), "probe done: estimate restored");
        assert!(!g.probing());
        let min = g.min_rtt().unwrap().as_u64();
        assert!((20_000_000 - (20_000_000 >> 10)..=20_000_000).contains(&min), "{min}");
    }

    #[test]
    fn gradient_window_mean_drives_the_update() {
        // One window of 4 samples, 2 at the no-load RTT and 2 at three times it: the code mean
        // sits near the geometric mean (√3 ≈ 1.73), so the gradient is about 0.58.
        let cfg = GradientConfig {
            initial: 4,
            floor: 1,
            queue_size: 0,
            tolerance_permille: 1000,
            smoothing_permille: 1000,
            probe_interval: 0,
            ..GradientConfig::DEFAULT
        };
        let g = Gradient::new(cfg).unwrap();
        for ms in [10, 30, 10, 30] {
            g.record(Sample { rtt: Nanos::from_millis(ms), in_flight: 4, dropped: false });
        }
        assert_eq!(g.estimate(), 2, "4 · 0.58 = 2.3");
        assert_eq!(g.min_rtt().map(|n| n.as_u64() / 1_000_000), Some(9), "10 ms rounded down");
    }

    #[test]
    fn gradient_is_bounded_by_floor_and_ceiling() {
        let cfg =
            GradientConfig { floor: 5, ceiling: 30, probe_interval: 0, ..GradientConfig::DEFAULT };
        let g = Gradient::new(cfg).unwrap();
        for _ in 0..1_000 {
            g.record(Sample { rtt: Nanos::from_millis(1), in_flight: 100, dropped: false });
        }
        assert_eq!(g.limit(), 30);
        for _ in 0..1_000 {
            g.record(Sample { rtt: Nanos::from_secs(1), in_flight: 100, dropped: true });
        }
        assert_eq!(g.limit(), 8, "gradient 0.5 forever settles at 2 · queue_size");
    }
}
