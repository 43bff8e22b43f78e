//! Hedged requests: when to send a second copy of a slow call, how many, and how many extra
//! requests the whole client may send.
//!
//! - [`HedgePolicy`]: the hedge delay from live percentiles of a [`RollingHistogram`] (default
//!   `p50 + 0.1·(p95 − p50)`, bounded, a static delay until enough samples exist), a maximum
//!   number of hedges per call, and a [`HedgeBudget`];
//! - [`HedgeBudget`]: a lock-free ratio budget of extra requests (for example at most 2 % of
//!   calls, plus a small burst) in one atomic word.
//!
//! The formula, the budget rule, the histogram's error bound and the differences from Polly and
//! gRPC are in `docs/semantics/hedging.md`, included below.
#![doc = include_str!("../../docs/semantics/hedging.md")]

use crate::clock::Nanos;
use crate::deadline::Deadline;
use crate::error::ConfigError;
use crate::histogram::{PPM, RollingHistogram};
use crate::sync::{AtomicU64, CachePadded, Ordering, loom_const_fn};

/// One hedge, in the budget's fixed-point units (parts per million of a request).
const UNIT: u64 = PPM as u64;

/// The largest `budget_burst`, in hedges.
pub const MAX_BURST: u32 = 1_000_000;

/// The largest `max_hedges`.
pub const MAX_HEDGES: u32 = 16;

/// A lock-free budget of extra requests: each call deposits a fraction of a hedge, each hedge
/// withdraws one.
///
/// # Semantics
///
/// The balance is a fixed-point number of hedges (units of 10⁻⁶ hedge) in one atomic word. It
/// starts full at `burst` hedges. [`deposit`](Self::deposit) (one per call) adds `ratio_ppm`
/// units, never above `burst` hedges; [`try_withdraw`](Self::try_withdraw) (one per hedge sent)
/// takes one hedge (10⁶ units) if the balance holds at least that, and otherwise refuses and
/// writes nothing. So, at every moment, over the budget's whole life:
///
/// ```text
/// hedges allowed <= burst + ⌊ratio_ppm · deposits / 10⁶⌋
/// ```
///
/// with `ratio_ppm = 20_000` meaning "at most 2 % extra requests". The bound holds under any
/// interleaving (each withdrawal is one CAS that keeps the balance non-negative; loom checks it).
/// A refusal is decided from the latest value the CAS loop saw, which may be one concurrent
/// deposit old: the budget can refuse a hedge that a deposit racing with it would have paid for,
/// never the opposite.
///
/// # Examples
///
/// ```
/// use portcullis::hedge::HedgeBudget;
/// let budget = HedgeBudget::new(20_000, 1).unwrap(); // 2 %, burst of 1
/// assert!(budget.try_withdraw());                     // the burst
/// assert!(!budget.try_withdraw());
/// for _ in 0..50 { budget.deposit(); }                // 50 calls earn one hedge
/// assert!(budget.try_withdraw());
/// assert!(!budget.try_withdraw());
/// ```
///
/// # Errors
///
/// [`new`](Self::new): [`ConfigError::OutOfRange`] for `ratio_ppm` above `1_000_000`
/// (`field: "budget_ratio_ppm"`) or `burst` outside `1..=1_000_000` (`field: "budget_burst"`).
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct HedgeBudget {
    ratio: u64,
    cap: u64,
    /// The balance in units of 10⁻⁶ hedge, in `0..=cap`.
    balance: CachePadded<AtomicU64>,
}

impl HedgeBudget {
    loom_const_fn! {
        /// A full budget of `burst` hedges that earns `ratio_ppm` millionths of a hedge per call.
        ///
        /// # Errors
        ///
        /// [`ConfigError::OutOfRange`] as described on the type.
        pub fn new(ratio_ppm: u32, burst: u32) -> Result<Self, ConfigError> {
            if let Some(e) = Self::check(ratio_ppm, burst) {
                return Err(e);
            }
            let cap = burst as u64 * UNIT;
            Ok(HedgeBudget {
                ratio: ratio_ppm as u64,
                cap,
                balance: CachePadded(AtomicU64::new(cap)),
            })
        }
    }

    /// Adds one call's share (`ratio_ppm` millionths of a hedge), up to the burst. Lock-free; a
    /// full budget costs one load and writes nothing.
    pub fn deposit(&self) {
        // Relaxed everywhere: the balance publishes no other memory, and every change is an RMW
        // that reads the latest balance, which is all the bound above needs.
        if self.ratio == 0 {
            return;
        }
        let mut cur = self.balance.load(Ordering::Relaxed);
        while cur < self.cap {
            let next = cur.saturating_add(self.ratio).min(self.cap);
            match self.balance.compare_exchange_weak(
                cur,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Takes one hedge from the balance if it holds one; `false` (and nothing written) otherwise.
    /// Lock-free.
    #[must_use = "a refused withdrawal means the hedge must not be sent"]
    pub fn try_withdraw(&self) -> bool {
        let mut cur = self.balance.load(Ordering::Relaxed);
        while cur >= UNIT {
            match self.balance.compare_exchange_weak(
                cur,
                cur - UNIT,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
        false
    }

    /// Whether the balance holds at least one hedge now (one load; a hint, not a reservation).
    #[must_use]
    pub fn available(&self) -> bool {
        self.balance.load(Ordering::Relaxed) >= UNIT
    }

    /// The balance, in millionths of a hedge.
    #[must_use]
    pub fn balance_ppm(&self) -> u64 {
        self.balance.load(Ordering::Relaxed)
    }
}

/// How a [`HedgePolicy`] computes its delay and bounds its hedges.
///
/// The delay is `q(low_ppm) + weight_ppm · (q(high_ppm) − q(low_ppm)) / 10⁶`, where `q(p)` is the
/// `p`-th percentile of the live latencies (the current and previous `window` periods), clamped to
/// `min_delay..=max_delay`; while fewer than `min_samples` latencies are live, it is
/// `static_delay` (not clamped). The default is `p50 + 0.1·(p95 − p50)`.
///
/// # Examples
///
/// ```
/// use portcullis::hedge::HedgeConfig;
/// let c = HedgeConfig { max_hedges: 2, ..HedgeConfig::DEFAULT };
/// assert_eq!((c.low_ppm, c.high_ppm, c.weight_ppm), (500_000, 950_000, 100_000));
/// assert_eq!(c.budget_ratio_ppm, 20_000); // at most 2 % extra requests
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HedgeConfig {
    /// The delay until `min_samples` latencies are live. Default 50 ms.
    pub static_delay: Nanos,
    /// The smallest live delay. Default 1 ms.
    pub min_delay: Nanos,
    /// The largest live delay. Default 1 s.
    pub max_delay: Nanos,
    /// Live latencies needed before the percentiles are trusted. Default 100.
    pub min_samples: u64,
    /// The lower percentile, in ppm. Default `500_000` (p50).
    pub low_ppm: u32,
    /// The upper percentile, in ppm, at least `low_ppm`. Default `950_000` (p95).
    pub high_ppm: u32,
    /// How far from the lower to the upper percentile, in ppm. Default `100_000` (0.1).
    pub weight_ppm: u32,
    /// The most hedges one call may send (besides the original request), `1..=16`. Default 1.
    pub max_hedges: u32,
    /// Extra requests allowed per call, in ppm, at most `1_000_000`. Default `20_000` (2 %).
    pub budget_ratio_ppm: u32,
    /// Hedges the budget starts with and can save up, `1..=1_000_000`. Default 10.
    pub budget_burst: u32,
    /// How often the cached delay is recomputed from the histogram. Default 100 ms.
    pub refresh_interval: Nanos,
    /// The period of each of the two histogram banks. Default 10 s.
    pub window: Nanos,
}

impl HedgeConfig {
    /// The defaults listed on each field.
    pub const DEFAULT: HedgeConfig = HedgeConfig {
        static_delay: Nanos::from_millis(50),
        min_delay: Nanos::from_millis(1),
        max_delay: Nanos::from_secs(1),
        min_samples: 100,
        low_ppm: 500_000,
        high_ppm: 950_000,
        weight_ppm: 100_000,
        max_hedges: 1,
        budget_ratio_ppm: 20_000,
        budget_burst: 10,
        refresh_interval: Nanos::from_millis(100),
        window: Nanos::from_secs(10),
    };

    /// Checks every rule, returning the first that fails.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] for a percentile or weight above `1_000_000`, `max_hedges`
    /// outside `1..=16`, or a budget field out of range; [`ConfigError::FieldsOutOfOrder`] for
    /// `high_ppm < low_ppm` or `max_delay < min_delay`; [`ConfigError::ZeroDuration`] for a zero
    /// `refresh_interval` or `window`.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        let ppm_fields = [
            ("low_ppm", self.low_ppm),
            ("high_ppm", self.high_ppm),
            ("weight_ppm", self.weight_ppm),
        ];
        let mut i = 0;
        while i < ppm_fields.len() {
            #[allow(clippy::indexing_slicing, reason = "i < len by the loop condition")]
            let (field, value) = ppm_fields[i];
            if value > PPM {
                return Err(ConfigError::OutOfRange {
                    field,
                    min: 0,
                    max: PPM as u64,
                    got: value as u64,
                });
            }
            i += 1;
        }
        if self.high_ppm < self.low_ppm {
            return Err(ConfigError::FieldsOutOfOrder {
                field: "high_ppm",
                value: self.high_ppm as u64,
                lower_field: "low_ppm",
                lower: self.low_ppm as u64,
            });
        }
        if self.max_delay.as_u64() < self.min_delay.as_u64() {
            return Err(ConfigError::FieldsOutOfOrder {
                field: "max_delay",
                value: self.max_delay.as_u64(),
                lower_field: "min_delay",
                lower: self.min_delay.as_u64(),
            });
        }
        if self.max_hedges == 0 || self.max_hedges > MAX_HEDGES {
            return Err(ConfigError::OutOfRange {
                field: "max_hedges",
                min: 1,
                max: MAX_HEDGES as u64,
                got: self.max_hedges as u64,
            });
        }
        if self.refresh_interval.as_u64() == 0 {
            return Err(ConfigError::ZeroDuration { field: "refresh_interval" });
        }
        if self.window.as_u64() == 0 {
            return Err(ConfigError::ZeroDuration { field: "window" });
        }
        match HedgeBudget::check(self.budget_ratio_ppm, self.budget_burst) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The live delay from the two percentiles `low` and `high`, before clamping.
    const fn formula(&self, low: u64, high: u64) -> u64 {
        let spread = high.saturating_sub(low) as u128 * self.weight_ppm as u128 / PPM as u128;
        #[allow(clippy::cast_possible_truncation, reason = "spread <= high - low <= u64::MAX")]
        low.saturating_add(spread as u64)
    }

    /// The delay for `live` samples whose percentiles are `low` and `high` (see the type docs).
    #[must_use]
    pub const fn delay_for(&self, live: u64, low: Nanos, high: Nanos) -> Nanos {
        if live < self.min_samples {
            return self.static_delay;
        }
        let d = self.formula(low.as_u64(), high.as_u64());
        let d = if d < self.min_delay.as_u64() { self.min_delay.as_u64() } else { d };
        let d = if d > self.max_delay.as_u64() { self.max_delay.as_u64() } else { d };
        Nanos::new(d)
    }
}

impl Default for HedgeConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl HedgeBudget {
    /// The budget rule that fails, if any.
    const fn check(ratio_ppm: u32, burst: u32) -> Option<ConfigError> {
        if ratio_ppm > PPM {
            return Some(ConfigError::OutOfRange {
                field: "budget_ratio_ppm",
                min: 0,
                max: PPM as u64,
                got: ratio_ppm as u64,
            });
        }
        if burst == 0 || burst > MAX_BURST {
            return Some(ConfigError::OutOfRange {
                field: "budget_burst",
                min: 1,
                max: MAX_BURST as u64,
                got: burst as u64,
            });
        }
        None
    }
}

/// Why no hedge is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NoHedge {
    /// The call has already sent `max_hedges` hedges.
    MaxHedges,
    /// The hedge budget holds less than one hedge.
    BudgetExhausted,
    /// The hedge would be sent at or after the call's deadline
    /// ([`decide_before`](HedgePolicy::decide_before)).
    DeadlineTooClose,
}

/// What a call should do about its next hedge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum HedgeDecision {
    /// If no answer has arrived after this delay (from the last request sent), send a hedge,
    /// after confirming it with [`HedgePolicy::try_launch`].
    HedgeAfter(Nanos),
    /// Do not hedge, for this reason.
    NoHedge(NoHedge),
}

/// The hedging policy of one client (or one method): live latencies, a cached delay, a budget.
///
/// # Semantics
///
/// A call uses it in four steps:
///
/// 1. [`on_call`](Self::on_call) once per call (not per hedge): deposits the call's share into the
///    budget;
/// 2. [`decide`](Self::decide)`(hedges_sent, now)` after sending the original request
///    (`hedges_sent = 0`) and after each hedge: `HedgeAfter(d)` or `NoHedge(reason)`;
/// 3. when `d` elapses with no answer, [`try_launch`](Self::try_launch)`(hedges_sent)`, which
///    withdraws one hedge from the budget; send the hedge only if it returns `Ok`;
/// 4. [`record_latency`](Self::record_latency) with the latency of each request that answered
///    (the original or a hedge, each measured from its own start).
///
/// The delay is [`HedgeConfig::delay_for`] applied to the live percentiles. It is cached in one
/// word and recomputed at most once per `refresh_interval` (by the one caller that wins a CAS
/// on the refresh time; the others use the cached value), so `decide` normally costs three
/// loads. A clock that steps back triggers a refresh too.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, hedge::{HedgeConfig, HedgeDecision, HedgePolicy, NoHedge}};
/// let policy: HedgePolicy = HedgePolicy::new(HedgeConfig {
///     min_samples: 10,
///     ..HedgeConfig::DEFAULT
/// }).unwrap();
/// let now = Nanos::from_secs(1);
/// // Too few samples: the static delay.
/// assert_eq!(policy.decide(0, now), HedgeDecision::HedgeAfter(Nanos::from_millis(50)));
/// for ms in 1..=100 { policy.record_latency(Nanos::from_millis(ms), now); }
/// // p50 ≈ 50 ms, p95 ≈ 95 ms: 50 + 0.1·45 ≈ 54.5 ms (within the histogram's 1.6 %).
/// let later = now.saturating_add(Nanos::from_secs(1));
/// let HedgeDecision::HedgeAfter(d) = policy.decide(0, later) else { unreachable!() };
/// assert!(d.as_u64().abs_diff(54_500_000) < 1_000_000);
/// policy.on_call();
/// assert_eq!(policy.try_launch(0), Ok(()));
/// assert_eq!(policy.decide(1, later), HedgeDecision::NoHedge(NoHedge::MaxHedges));
/// ```
///
/// # Errors
///
/// [`new`](Self::new) returns the first rule of [`HedgeConfig::validate`] that fails.
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct HedgePolicy<const SUB: usize = 32, const OCT: usize = 36> {
    config: HedgeConfig,
    latencies: RollingHistogram<SUB, OCT>,
    budget: HedgeBudget,
    /// The cached delay in nanoseconds.
    delay: CachePadded<AtomicU64>,
    /// One more than the `now` of the last refresh (0: never).
    refreshed: CachePadded<AtomicU64>,
}

impl<const SUB: usize, const OCT: usize> HedgePolicy<SUB, OCT> {
    loom_const_fn! {
        /// A policy with an empty histogram, a full budget and the static delay.
        ///
        /// # Errors
        ///
        /// The first rule of [`HedgeConfig::validate`] that fails.
        pub fn new(config: HedgeConfig) -> Result<Self, ConfigError> {
            if let Err(e) = config.validate() {
                return Err(e);
            }
            let latencies = match RollingHistogram::new(config.window) {
                Ok(h) => h,
                Err(e) => return Err(e),
            };
            let budget = match HedgeBudget::new(config.budget_ratio_ppm, config.budget_burst) {
                Ok(b) => b,
                Err(e) => return Err(e),
            };
            Ok(HedgePolicy {
                config,
                latencies,
                budget,
                delay: CachePadded(AtomicU64::new(config.static_delay.as_u64())),
                refreshed: CachePadded(AtomicU64::new(0)),
            })
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &HedgeConfig {
        &self.config
    }

    /// The live latencies.
    #[must_use]
    pub const fn latencies(&self) -> &RollingHistogram<SUB, OCT> {
        &self.latencies
    }

    /// The budget.
    #[must_use]
    pub const fn budget(&self) -> &HedgeBudget {
        &self.budget
    }

    /// Counts one call in the budget (lock-free). Call once per call, before its first hedge.
    pub fn on_call(&self) {
        self.budget.deposit();
    }

    /// Records the latency of a request that answered (lock-free, see
    /// [`RollingHistogram::record`]).
    pub fn record_latency(&self, latency: Nanos, now: Nanos) {
        self.latencies.record(latency, now);
    }

    /// The hedge delay at `now`: the cached value, recomputed first if `refresh_interval` has
    /// passed since the last computation (or `now` stepped back). Wait-free: one CAS attempt.
    pub fn delay(&self, now: Nanos) -> Nanos {
        let stamp = now.as_u64().saturating_add(1);
        // Relaxed: `refreshed` only elects the refresher; the delay word is a self-contained
        // value (no other memory is read through it), so a reader may use the previous one.
        let last = self.refreshed.load(Ordering::Relaxed);
        let due =
            last == 0 || stamp < last || stamp - last >= self.config.refresh_interval.as_u64();
        if due
            && self
                .refreshed
                .compare_exchange(last, stamp, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let (live, q) =
                self.latencies.percentiles(&[self.config.low_ppm, self.config.high_ppm], now);
            let d = match q {
                Some([low, high]) => self.config.delay_for(live, low, high),
                None => self.config.static_delay,
            };
            self.delay.store(d.as_u64(), Ordering::Relaxed);
            return d;
        }
        Nanos::new(self.delay.load(Ordering::Relaxed))
    }

    /// What to do about the next hedge of a call that has sent `hedges_sent` hedges so far.
    /// Writes nothing but, at most once per `refresh_interval`, the cached delay. Wait-free: at
    /// most one CAS attempt (to refresh) and a bounded scan of the histogram.
    pub fn decide(&self, hedges_sent: u32, now: Nanos) -> HedgeDecision {
        if hedges_sent >= self.config.max_hedges {
            return HedgeDecision::NoHedge(NoHedge::MaxHedges);
        }
        if !self.budget.available() {
            return HedgeDecision::NoHedge(NoHedge::BudgetExhausted);
        }
        HedgeDecision::HedgeAfter(self.delay(now))
    }

    /// [`decide`](Self::decide) for a call with a `deadline`: also `NoHedge(DeadlineTooClose)`
    /// when the hedge would be sent at or after the deadline (`now + delay >= deadline`), since
    /// its answer could not be used.
    ///
    /// ```
    /// use portcullis::{Nanos, deadline::Deadline};
    /// use portcullis::hedge::{HedgeConfig, HedgeDecision, HedgePolicy, NoHedge};
    /// let p: HedgePolicy = HedgePolicy::new(HedgeConfig::DEFAULT).unwrap(); // static 50 ms
    /// let now = Nanos::ZERO;
    /// let far = Deadline::at(Nanos::from_millis(51));
    /// assert_eq!(p.decide_before(0, now, far), HedgeDecision::HedgeAfter(Nanos::from_millis(50)));
    /// let near = Deadline::at(Nanos::from_millis(50));
    /// let no = HedgeDecision::NoHedge(NoHedge::DeadlineTooClose);
    /// assert_eq!(p.decide_before(0, now, near), no);
    /// ```
    pub fn decide_before(&self, hedges_sent: u32, now: Nanos, deadline: Deadline) -> HedgeDecision {
        match self.decide(hedges_sent, now) {
            HedgeDecision::HedgeAfter(d) if deadline.is_expired(now.saturating_add(d)) => {
                HedgeDecision::NoHedge(NoHedge::DeadlineTooClose)
            }
            other => other,
        }
    }

    /// Confirms hedge number `hedges_sent + 1` when its delay has elapsed: withdraws one hedge
    /// from the budget.
    ///
    /// # Errors
    ///
    /// [`NoHedge::MaxHedges`] if the call already sent `max_hedges`; [`NoHedge::BudgetExhausted`]
    /// if the budget holds less than one hedge (nothing is written then).
    pub fn try_launch(&self, hedges_sent: u32) -> Result<(), NoHedge> {
        if hedges_sent >= self.config.max_hedges {
            return Err(NoHedge::MaxHedges);
        }
        if self.budget.try_withdraw() { Ok(()) } else { Err(NoHedge::BudgetExhausted) }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    fn ms(n: u64) -> Nanos {
        Nanos::from_millis(n)
    }

    #[test]
    fn validation_names_each_rule() {
        let d = HedgeConfig::DEFAULT;
        assert_eq!(d.validate(), Ok(()));
        let cases = [
            (
                HedgeConfig { low_ppm: 1_000_001, ..d },
                ConfigError::OutOfRange {
                    field: "low_ppm",
                    min: 0,
                    max: 1_000_000,
                    got: 1_000_001,
                },
            ),
            (
                HedgeConfig { weight_ppm: 2_000_000, ..d },
                ConfigError::OutOfRange {
                    field: "weight_ppm",
                    min: 0,
                    max: 1_000_000,
                    got: 2_000_000,
                },
            ),
            (
                HedgeConfig { low_ppm: 960_000, ..d },
                ConfigError::FieldsOutOfOrder {
                    field: "high_ppm",
                    value: 950_000,
                    lower_field: "low_ppm",
                    lower: 960_000,
                },
            ),
            (
                HedgeConfig { max_delay: ms(1), min_delay: ms(2), ..d },
                ConfigError::FieldsOutOfOrder {
                    field: "max_delay",
                    value: 1_000_000,
                    lower_field: "min_delay",
                    lower: 2_000_000,
                },
            ),
            (
                HedgeConfig { max_hedges: 0, ..d },
                ConfigError::OutOfRange { field: "max_hedges", min: 1, max: 16, got: 0 },
            ),
            (
                HedgeConfig { max_hedges: 17, ..d },
                ConfigError::OutOfRange { field: "max_hedges", min: 1, max: 16, got: 17 },
            ),
            (
                HedgeConfig { refresh_interval: Nanos::ZERO, ..d },
                ConfigError::ZeroDuration { field: "refresh_interval" },
            ),
            (
                HedgeConfig { window: Nanos::ZERO, ..d },
                ConfigError::ZeroDuration { field: "window" },
            ),
            (
                HedgeConfig { budget_ratio_ppm: 1_000_001, ..d },
                ConfigError::OutOfRange {
                    field: "budget_ratio_ppm",
                    min: 0,
                    max: 1_000_000,
                    got: 1_000_001,
                },
            ),
            (
                HedgeConfig { budget_burst: 0, ..d },
                ConfigError::OutOfRange { field: "budget_burst", min: 1, max: 1_000_000, got: 0 },
            ),
        ];
        for (config, err) in cases {
            assert_eq!(config.validate(), Err(err));
            assert_eq!(HedgePolicy::<4, 4>::new(config).unwrap_err(), err);
        }
        assert_eq!(
            HedgeBudget::new(0, 1_000_001).unwrap_err().to_string(),
            "budget_burst must be in 1..=1000000, got 1000001"
        );
    }

    #[test]
    fn formula_is_exact_integer_arithmetic() {
        let c = HedgeConfig { min_samples: 1, ..HedgeConfig::DEFAULT };
        // 50 ms + 0.1 · (95 − 50) ms = 54.5 ms
        assert_eq!(c.delay_for(1, ms(50), ms(95)), Nanos::new(54_500_000));
        assert_eq!(c.delay_for(0, ms(50), ms(95)), ms(50), "static below min_samples");
        assert_eq!(c.delay_for(1, Nanos::new(10), Nanos::new(20)), ms(1), "clamped to min_delay");
        assert_eq!(c.delay_for(1, Nanos::MAX, Nanos::MAX), Nanos::from_secs(1), "clamped to max");
        let full = HedgeConfig { weight_ppm: 1_000_000, max_delay: Nanos::MAX, ..c };
        assert_eq!(full.delay_for(1, Nanos::ZERO, Nanos::MAX), Nanos::MAX, "no overflow");
        assert_eq!(full.delay_for(1, ms(9), ms(3)), ms(9), "high below low adds nothing");
    }

    #[test]
    fn budget_bound_is_exact() {
        let b = HedgeBudget::new(20_000, 2).unwrap();
        assert_eq!(b.balance_ppm(), 2_000_000);
        b.deposit(); // full: stays at the cap
        assert_eq!(b.balance_ppm(), 2_000_000);
        assert!(b.try_withdraw() && b.try_withdraw());
        assert!(!b.try_withdraw() && !b.available());
        for i in 1..=49 {
            b.deposit();
            assert!(!b.available(), "{i} calls earn 0.{i} of a hedge");
        }
        b.deposit();
        assert!(b.try_withdraw());
        let b = HedgeBudget::new(1_000_000, 1).unwrap();
        assert!(b.try_withdraw());
        b.deposit();
        assert!(b.try_withdraw(), "100 %: one hedge per call");
    }

    #[test]
    fn refreshes_once_per_interval_and_on_backwards_time() {
        let c = HedgeConfig { min_samples: 1, min_delay: Nanos::ZERO, ..HedgeConfig::DEFAULT };
        let p = HedgePolicy::<32, 36>::new(c).unwrap();
        let t = Nanos::from_secs(5);
        assert_eq!(p.delay(t), ms(50), "empty histogram: static");
        p.record_latency(Nanos::new(40), t);
        assert_eq!(p.delay(t.saturating_add(ms(99))), ms(50), "cached until the interval passes");
        assert_eq!(p.delay(t.saturating_add(ms(100))), Nanos::new(40));
        p.record_latency(Nanos::new(60), t);
        assert_eq!(p.delay(t.saturating_add(ms(150))), Nanos::new(40), "cached");
        assert_eq!(p.delay(Nanos::from_secs(1)), Nanos::new(42), "backwards: refreshed");
        assert_eq!(p.decide(0, t), HedgeDecision::HedgeAfter(Nanos::new(42)));
    }

    #[test]
    fn decisions_and_launches() {
        let c = HedgeConfig {
            max_hedges: 2,
            budget_burst: 1,
            budget_ratio_ppm: 500_000,
            ..HedgeConfig::DEFAULT
        };
        let p = HedgePolicy::<32, 36>::new(c).unwrap();
        assert_eq!(p.decide(0, Nanos::ZERO), HedgeDecision::HedgeAfter(ms(50)));
        assert_eq!(p.try_launch(0), Ok(()));
        assert_eq!(p.decide(1, Nanos::ZERO), HedgeDecision::NoHedge(NoHedge::BudgetExhausted));
        assert_eq!(p.try_launch(1), Err(NoHedge::BudgetExhausted));
        p.on_call();
        p.on_call();
        assert_eq!(p.decide(1, Nanos::ZERO), HedgeDecision::HedgeAfter(ms(50)));
        assert_eq!(p.try_launch(2), Err(NoHedge::MaxHedges));
        assert_eq!(p.decide(2, Nanos::ZERO), HedgeDecision::NoHedge(NoHedge::MaxHedges));
        assert_eq!(p.try_launch(1), Ok(()));
        assert_eq!(p.config().max_hedges, 2);
        assert_eq!(p.latencies().count(Nanos::ZERO), 0);
        assert_eq!(p.budget().balance_ppm(), 0);
    }
}
