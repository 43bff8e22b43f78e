//! Adaptive client-side throttling: reject locally, with a probability that grows as the backend
//! accepts a smaller share of what is sent, so an overloaded backend sheds load smoothly.
//!
//! [`Throttle<K>`] counts, over a sliding [`TimeWindow<K>`], the requests the application
//! attempted and those the backend accepted, and rejects a new request locally with probability
//! `max(0, (requests − K·accepts) / (requests + 1))` (the client-side throttling rule of Google's
//! SRE book, chapter "Handling Overload"), optionally raised to `1 / aggression` and capped as
//! Envoy's admission control does. The random draw comes from a seeded generator, so a run is
//! replayable.
//!
//! The exact semantics, parameters and concurrency guarantees are in
//! `docs/semantics/throttle.md`, included below.
#![doc = include_str!("../../docs/semantics/throttle.md")]

use core::fmt;

use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::rng::AtomicSplitMix64;
use crate::window::{Outcome, TimeWindow, WindowCounts};

/// One million: probabilities are in parts per million.
const PPM: u64 = 1_000_000;
/// `multiplier_milli` is `K` in thousandths.
const MILLI: u64 = 1_000;
/// The largest `aggression` accepted.
pub const MAX_AGGRESSION: u32 = 4;
/// The largest `multiplier_milli` accepted (`K = 100`).
pub const MAX_MULTIPLIER_MILLI: u32 = 100_000;

/// The parameters of a [`Throttle`].
///
/// # Examples
///
/// ```
/// use portcullis::ConfigError;
/// use portcullis::throttle::{Throttle, ThrottleConfig};
/// let config = ThrottleConfig { multiplier_milli: 500, ..ThrottleConfig::DEFAULT };
/// assert_eq!(
///     Throttle::<8>::new(config, portcullis::Nanos::from_secs(120)).unwrap_err(),
///     ConfigError::OutOfRange { field: "multiplier_milli", min: 1_000, max: 100_000, got: 500 }
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThrottleConfig {
    /// `K`, in thousandths, in `1_000..=100_000` (`K = 2` is 2,000). The backend may refuse up to
    /// `1 − 1/K` of the requests before the client starts rejecting locally; Envoy's
    /// `sr_threshold` is `1/K`.
    pub multiplier_milli: u32,
    /// The rejection probability is raised to `1 / aggression`, in `1..=4`: 1 is the SRE book's
    /// rule; larger values reject more for the same ratio (Envoy's `aggression`, which Envoy
    /// also accepts as a fraction).
    pub aggression: u32,
    /// The rejection probability never exceeds this, in parts per million (`0..=1_000_000`), so
    /// some requests keep probing the backend (Envoy's `max_rejection_probability`).
    pub max_reject_ppm: u32,
    /// No local rejection while the window holds fewer requests than this (Envoy's
    /// `min_request_rps`, as a count over the window).
    pub min_requests: u32,
    /// The seed of the generator of the random draws (give each process its own).
    pub seed: u64,
}

impl ThrottleConfig {
    /// The SRE book's rule: `K = 2`, aggression 1, no cap below the formula's own, no minimum.
    pub const DEFAULT: ThrottleConfig = ThrottleConfig {
        multiplier_milli: 2_000,
        aggression: 1,
        max_reject_ppm: 1_000_000,
        min_requests: 0,
        seed: 0,
    };

    /// Checks every rule, in field order.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] for the first of `multiplier_milli`, `aggression` and
    /// `max_reject_ppm` outside its range.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        if self.multiplier_milli < 1_000 || self.multiplier_milli > MAX_MULTIPLIER_MILLI {
            return Err(ConfigError::OutOfRange {
                field: "multiplier_milli",
                min: MILLI,
                max: MAX_MULTIPLIER_MILLI as u64,
                got: self.multiplier_milli as u64,
            });
        }
        if self.aggression == 0 || self.aggression > MAX_AGGRESSION {
            return Err(ConfigError::OutOfRange {
                field: "aggression",
                min: 1,
                max: MAX_AGGRESSION as u64,
                got: self.aggression as u64,
            });
        }
        if self.max_reject_ppm as u64 > PPM {
            return Err(ConfigError::OutOfRange {
                field: "max_reject_ppm",
                min: 0,
                max: PPM,
                got: self.max_reject_ppm as u64,
            });
        }
        Ok(())
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A request refused locally by a [`Throttle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Throttled {
    /// The rejection probability the draw was made against, in parts per million.
    pub reject_ppm: u32,
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "throttled locally (rejection probability {} ppm)", self.reject_ppm)
    }
}

impl core::error::Error for Throttled {}

/// The window's requests and accepts, and the probability they give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ThrottleSnapshot {
    /// Requests attempted in the window (locally rejected ones included).
    pub requests: u64,
    /// Requests the backend accepted in the window.
    pub accepts: u64,
    /// The rejection probability now, in parts per million.
    pub reject_ppm: u32,
}

/// The rejection probability, in parts per million, for `requests` and `accepts` under
/// `config` (assumed valid).
///
/// With `q = max(0, (requests − K·accepts) / (requests + 1))` as an exact fraction, the result
/// is `⌊10⁶ · q^(1/aggression)⌋` (the largest `x` with `(x / 10⁶)^aggression <= q`), capped at
/// `max_reject_ppm`; 0 while `requests < min_requests`. Exact integer arithmetic, no floating
/// point and no intermediate rounding.
///
/// # Examples
///
/// ```
/// use portcullis::throttle::{ThrottleConfig, reject_ppm};
/// let c = ThrottleConfig::DEFAULT; // K = 2
/// assert_eq!(reject_ppm(&c, 100, 50), 0);          // half accepted: 100 − 2·50 = 0
/// assert_eq!(reject_ppm(&c, 99, 0), 990_000);      // nothing accepted: 99 / 100
/// assert_eq!(reject_ppm(&c, 100, 40), 198_019);    // (100 − 80) / 101
/// let sqrt = ThrottleConfig { aggression: 2, ..c };
/// assert_eq!(reject_ppm(&sqrt, 100, 40), 444_994); // √(20 / 101) = 0.4449942…
/// ```
///
/// # Panics
///
/// Never.
#[must_use]
pub fn reject_ppm(config: &ThrottleConfig, requests: u64, accepts: u64) -> u32 {
    if requests < u64::from(config.min_requests) {
        return 0;
    }
    // q = excess / den, both below 2⁷⁵.
    let accepts = u128::from(accepts.min(requests));
    let weighted = u128::from(config.multiplier_milli) * accepts;
    let excess = (u128::from(requests) * u128::from(MILLI)).saturating_sub(weighted);
    let den = (u128::from(requests) + 1) * u128::from(MILLI);
    let p = root_ppm(excess, den, config.aggression);
    let p = p.min(u64::from(config.max_reject_ppm));
    u32::try_from(p).unwrap_or(u32::MAX)
}

/// The largest `x <= 10⁶` with `x^a · den <= excess · 10⁶^a`, i.e. `⌊10⁶ · (excess / den)^(1/a)⌋`
/// for `excess < den` (`a <= 4`, `excess, den < 2⁷⁵`): a division for `a = 1`, else a binary
/// search of at most 20 steps comparing 256-bit products.
fn root_ppm(excess: u128, den: u128, a: u32) -> u64 {
    if excess == 0 {
        return 0;
    }
    let scale = u128::from(PPM);
    if a <= 1 {
        // excess·10⁶ < 2⁹⁵; the quotient is below 10⁶ since excess < den.
        return u64::try_from(excess * scale / den).unwrap_or(PPM).min(PPM);
    }
    let rhs = mul_wide(excess, scale.pow(a)); // 10²⁴ < 2⁸⁰
    let (mut lo, mut hi) = (0u64, PPM); // invariant: lo satisfies the bound, hi + 1 does not
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if mul_wide(u128::from(mid).pow(a), den) <= rhs {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// `a · b` as a 256-bit `(high, low)` pair, which compares as the product.
const fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & LOW);
    let (b1, b0) = (b >> 64, b & LOW);
    let low = a0 * b0;
    let (mid, mid_carry) = (a0 * b1).overflowing_add(a1 * b0);
    let (low, low_carry) = low.overflowing_add(mid << 64);
    let high = a1 * b1 + (mid >> 64) + ((mid_carry as u128) << 64) + low_carry as u128;
    (high, low)
}

/// Adaptive client-side throttling over the last `window` of time in `B` buckets.
///
/// # Semantics
///
/// [`try_acquire`](Throttle::try_acquire) reads the window, computes [`reject_ppm`] and draws a
/// uniform number below 10⁶ from the seeded generator: below the probability, the request is
/// refused locally and counted in the window as a request that was not accepted; otherwise it is
/// admitted and the caller reports the backend's answer with [`record`](Throttle::record)
/// (accepted or not), which counts it. A request is counted once, when its fate is known.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::throttle::{Throttle, ThrottleConfig};
/// let t = Throttle::<8>::new(ThrottleConfig::DEFAULT, Nanos::from_secs(120)).unwrap();
/// let now = Nanos::from_secs(1);
/// for _ in 0..100 {
///     t.record(false, now); // the backend refuses everything
/// }
/// assert_eq!(t.snapshot(now).reject_ppm, 990_099); // 100 / 101
/// let refused = (0..1_000).filter(|_| t.try_acquire(now).is_err()).count();
/// assert!(refused > 950, "{refused}");
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Throttle<const B: usize> {
    /// Calls are requests; failures are requests not accepted (refused by the backend or
    /// rejected locally).
    window: TimeWindow<B>,
    rng: AtomicSplitMix64,
    config: ThrottleConfig,
}

impl<const B: usize> Throttle<B> {
    /// A throttle with `config` over the last `window` of time, in `B` buckets.
    ///
    /// # Errors
    ///
    /// The first rule of `config` broken ([`ThrottleConfig::validate`]), then
    /// [`TimeWindow::new`]'s errors for `window`.
    pub fn new(config: ThrottleConfig, window: Nanos) -> Result<Self, ConfigError> {
        config.validate()?;
        let window = TimeWindow::new(window)?;
        Ok(Throttle { window, rng: AtomicSplitMix64::new(config.seed), config })
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    /// Decides whether to send a request now.
    ///
    /// # Errors
    ///
    /// [`Throttled`] if the draw falls below the rejection probability (the rejection is counted
    /// in the window as a request not accepted).
    ///
    /// # Progress
    ///
    /// Lock-free: one read of the window, one `fetch_add` on the generator when the probability
    /// is not 0, and on a refusal one window record.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn try_acquire(&self, now: Nanos) -> Result<(), Throttled> {
        let p = self.probability(self.window.counts(now));
        // No draw at 0: a healthy backend costs one window read and leaves the sequence alone.
        if p == 0 || self.rng.below(PPM) >= u64::from(p) {
            return Ok(());
        }
        // The outcome of a recording outside the window (a `now` older than the window) is
        // irrelevant: the rejection stands either way.
        let _ = self.window.record(Outcome::Failure, now);
        Err(Throttled { reject_ppm: p })
    }

    /// Reports the backend's answer to an admitted request: `accepted` or not (overloaded,
    /// throttled, or failed in a way that should slow this client down).
    ///
    /// Returns `false` if `now` is already outside the window (the report is not counted).
    ///
    /// # Panics
    ///
    /// Never.
    pub fn record(&self, accepted: bool, now: Nanos) -> bool {
        let outcome = if accepted { Outcome::Success } else { Outcome::Failure };
        self.window.record(outcome, now)
    }

    /// The window's requests and accepts at `now`, and the rejection probability.
    #[must_use]
    pub fn snapshot(&self, now: Nanos) -> ThrottleSnapshot {
        let counts = self.window.counts(now);
        ThrottleSnapshot {
            requests: counts.calls,
            accepts: counts.calls - counts.failures.min(counts.calls),
            reject_ppm: self.probability(counts),
        }
    }

    /// Forgets every request in the window (the generator keeps its sequence).
    pub fn reset(&self) {
        self.window.reset();
    }

    fn probability(&self, counts: WindowCounts) -> u32 {
        let accepts = counts.calls - counts.failures.min(counts.calls);
        reject_ppm(&self.config, counts.calls, accepts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_are_precise() {
        let w = Nanos::from_secs(8);
        let bad = |c: ThrottleConfig| Throttle::<8>::new(c, w).unwrap_err();
        let d = ThrottleConfig::DEFAULT;
        assert_eq!(
            bad(ThrottleConfig { multiplier_milli: 100_001, ..d }),
            ConfigError::OutOfRange {
                field: "multiplier_milli",
                min: 1_000,
                max: 100_000,
                got: 100_001
            }
        );
        assert_eq!(
            bad(ThrottleConfig { aggression: 0, ..d }),
            ConfigError::OutOfRange { field: "aggression", min: 1, max: 4, got: 0 }
        );
        assert_eq!(
            bad(ThrottleConfig { aggression: 5, ..d }),
            ConfigError::OutOfRange { field: "aggression", min: 1, max: 4, got: 5 }
        );
        assert_eq!(
            bad(ThrottleConfig { max_reject_ppm: 1_000_001, ..d }),
            ConfigError::OutOfRange {
                field: "max_reject_ppm",
                min: 0,
                max: 1_000_000,
                got: 1_000_001
            }
        );
        assert_eq!(
            Throttle::<8>::new(d, Nanos::ZERO).unwrap_err(),
            ConfigError::ZeroDuration { field: "window_duration" }
        );
        assert!(Throttle::<8>::new(ThrottleConfig { multiplier_milli: 1_000, ..d }, w).is_ok());
    }

    #[test]
    fn roots_are_floors() {
        let m = 1_000_000u128;
        assert_eq!(root_ppm(1, 4, 2), 500_000);
        assert_eq!(root_ppm(250_001, m, 2), 500_000);
        assert_eq!(root_ppm(1, m, 2), 1_000);
        assert_eq!(root_ppm(1, 8, 3), 500_000);
        assert_eq!(root_ppm(1, 16, 4), 500_000);
        assert_eq!(root_ppm(m - 1, m, 4), 999_999);
        assert_eq!(root_ppm(0, 3, 3), 0);
        // A tiny fraction still has a visible root: (10⁻²⁰)^(1/4) = 10⁻⁵.
        assert_eq!(root_ppm(1, 10u128.pow(20), 4), 10);
        for a in 2..=4u32 {
            for (e, d) in [(1u128, 7u128), (7, 1_000), (123_456, m), (999_999, m), (5, 1 << 74)] {
                let x = root_ppm(e, d, a);
                assert!(mul_wide(u128::from(x).pow(a), d) <= mul_wide(e, m.pow(a)));
                assert!(mul_wide(u128::from(x + 1).pow(a), d) > mul_wide(e, m.pow(a)), "{e}/{d}");
            }
        }
    }

    #[test]
    fn wide_products_are_exact() {
        assert_eq!(mul_wide(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
        assert_eq!(mul_wide(1 << 64, 1 << 64), (1, 0));
        assert_eq!(mul_wide(3, 5), (0, 15));
        assert_eq!(mul_wide(u128::MAX, 2), (1, u128::MAX - 1));
    }

    #[test]
    fn boundaries_of_the_formula() {
        let c = ThrottleConfig::DEFAULT;
        assert_eq!(reject_ppm(&c, 0, 0), 0);
        assert_eq!(reject_ppm(&c, 1, 0), 500_000);
        assert_eq!(reject_ppm(&c, 10, 5), 0, "exactly 1/K accepted: no rejection");
        assert_eq!(reject_ppm(&c, 10, 4), 181_818, "(10 − 8) / 11");
        assert_eq!(reject_ppm(&c, u64::MAX, 0), 999_999);
        assert_eq!(reject_ppm(&c, 5, 9), 0, "accepts above requests are clamped");
        let capped = ThrottleConfig { max_reject_ppm: 800_000, ..c };
        assert_eq!(reject_ppm(&capped, 99, 0), 800_000);
        let min = ThrottleConfig { min_requests: 100, ..c };
        assert_eq!(reject_ppm(&min, 99, 0), 0);
        assert_eq!(reject_ppm(&min, 100, 0), 990_099);
        let k1 = ThrottleConfig { multiplier_milli: 1_000, ..c };
        assert_eq!(reject_ppm(&k1, 10, 9), 90_909, "K = 1: every refusal counts, (10 − 9) / 11");
        let k15 = ThrottleConfig { multiplier_milli: 1_500, ..c };
        assert_eq!(reject_ppm(&k15, 10, 6), 90_909, "(10 − 9) / 11");
    }

    #[test]
    fn a_healthy_backend_is_never_throttled_and_draws_nothing() {
        let t = Throttle::<4>::new(ThrottleConfig::DEFAULT, Nanos::from_secs(4)).unwrap();
        for i in 0..1_000u64 {
            let now = Nanos::from_millis(i);
            assert!(t.try_acquire(now).is_ok());
            assert!(t.record(i % 2 == 0, now), "half accepted is exactly K = 2");
        }
        assert_eq!(t.snapshot(Nanos::from_millis(999)).reject_ppm, 0);
        // The generator was not advanced: its first output is still the seed's first.
        let mut fresh = crate::rng::SplitMix64::new(0);
        assert_eq!(t.rng.next_u64(), fresh.next_u64());
    }

    #[test]
    fn local_rejections_count_as_requests_and_the_window_forgets() {
        let t = Throttle::<4>::new(ThrottleConfig::DEFAULT, Nanos::from_secs(4)).unwrap();
        let t0 = Nanos::from_secs(1);
        for _ in 0..10 {
            t.record(false, t0);
        }
        let before = t.snapshot(t0);
        assert_eq!((before.requests, before.accepts), (10, 0));
        let refused = (0..100).filter(|_| t.try_acquire(t0).is_err()).count();
        let after = t.snapshot(t0);
        assert_eq!(after.requests, 10 + refused as u64, "each local rejection is a request");
        assert_eq!(after.accepts, 0);
        assert!(after.reject_ppm > before.reject_ppm);
        // Four seconds later the window is empty again.
        assert_eq!(t.snapshot(Nanos::from_secs(6)).requests, 0);
        assert!(t.try_acquire(Nanos::from_secs(6)).is_ok());
        t.reset();
        assert_eq!(t.snapshot(t0).requests, 0);
    }
}
