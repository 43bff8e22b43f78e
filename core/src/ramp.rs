//! Slow recovery: after a breaker closes, traffic returns along a curve instead of all at once;
//! and a probabilistic half-open, whose probes are admitted with a probability that grows with
//! consecutive probe successes.
//!
//! [`Ramp`] is the gate: from [`Ramp::start`] it admits a fraction of calls that grows with the
//! time since, linearly or exponentially, to all of them after the configured duration; draws
//! come from a seeded generator. [`RampedBreaker`] puts a gate behind a [`Breaker`] without
//! changing it: the ramp starts when the breaker reports [`Transition::Closed`], stops when it
//! reports [`Transition::Opened`] (failures during the ramp trip the breaker by its own rules),
//! and half-open probes pass a second gate that widens with each success.
//!
//! The exact semantics, curves and concurrency guarantees are in `docs/semantics/ramp.md`,
//! included below.
#![doc = include_str!("../../docs/semantics/ramp.md")]

use core::fmt;

use crate::breaker::{Breaker, Permit, Recorded, Rejected, Transition};
use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::rng::AtomicSplitMix64;
use crate::sync::{AtomicU64, Ordering};
use crate::window::{Outcome, Window};

/// One million: fractions are in parts per million.
const PPM: u64 = 1_000_000;

/// How the admitted fraction grows over a ramp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// From `initial_ppm` to 10⁶ in a straight line.
    Linear,
    /// From `initial_ppm`, doubling `D` times at even intervals (`D` the fewest doublings that
    /// reach 10⁶), straight between doublings, capped at 10⁶.
    Exponential,
}

/// The parameters of a [`Ramp`] and of a [`RampedBreaker`]'s probe gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RampConfig {
    /// How long a ramp lasts: from its start, all calls are admitted after this.
    pub duration: Nanos,
    /// The shape of the ramp.
    pub curve: Curve,
    /// The fraction admitted when the ramp starts, in parts per million (`1..=1_000_000`).
    pub initial_ppm: u32,
    /// Half-open probes are admitted with probability `min(10⁶, probe_initial_ppm · 2^k)` ppm
    /// after `k` consecutive probe successes; 0 turns the probe gate off (`0..=1_000_000`).
    pub probe_initial_ppm: u32,
    /// The seed of the generator of the draws (give each process its own).
    pub seed: u64,
}

impl RampConfig {
    /// A linear ramp over 30 s from 5 %, no probe gate.
    pub const DEFAULT: RampConfig = RampConfig {
        duration: Nanos::from_secs(30),
        curve: Curve::Linear,
        initial_ppm: 50_000,
        probe_initial_ppm: 0,
        seed: 0,
    };

    /// Checks every rule, in field order.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ZeroDuration`] (`duration`); [`ConfigError::OutOfRange`] for
    /// `initial_ppm` outside `1..=1_000_000` or `probe_initial_ppm` above 1,000,000.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        if self.duration.as_u64() == 0 {
            return Err(ConfigError::ZeroDuration { field: "duration" });
        }
        if self.initial_ppm == 0 || self.initial_ppm as u64 > PPM {
            return Err(ConfigError::OutOfRange {
                field: "initial_ppm",
                min: 1,
                max: PPM,
                got: self.initial_ppm as u64,
            });
        }
        if self.probe_initial_ppm as u64 > PPM {
            return Err(ConfigError::OutOfRange {
                field: "probe_initial_ppm",
                min: 0,
                max: PPM,
                got: self.probe_initial_ppm as u64,
            });
        }
        Ok(())
    }
}

impl Default for RampConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The fraction a ramp admits `elapsed` after its start, in parts per million.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::ramp::{Curve, RampConfig, admit_ppm};
/// let linear = RampConfig { duration: Nanos::from_secs(10), initial_ppm: 100_000, ..RampConfig::DEFAULT };
/// assert_eq!(admit_ppm(&linear, Nanos::ZERO), 100_000);
/// assert_eq!(admit_ppm(&linear, Nanos::from_secs(5)), 550_000);
/// assert_eq!(admit_ppm(&linear, Nanos::from_secs(10)), 1_000_000);
/// // 1 % doubles 7 times (to 128 %, capped): over 7 s, a doubling every second.
/// let exp = RampConfig {
///     duration: Nanos::from_secs(7),
///     curve: Curve::Exponential,
///     initial_ppm: 10_000,
///     ..linear
/// };
/// assert_eq!(admit_ppm(&exp, Nanos::ZERO), 10_000);
/// assert_eq!(admit_ppm(&exp, Nanos::from_secs(3)), 80_000);
/// assert_eq!(admit_ppm(&exp, Nanos::from_millis(3_500)), 120_000);
/// assert_eq!(admit_ppm(&exp, Nanos::from_secs(7)), 1_000_000);
/// ```
///
/// # Panics
///
/// Never.
#[must_use]
pub fn admit_ppm(config: &RampConfig, elapsed: Nanos) -> u32 {
    let (t, total) = (u128::from(elapsed.as_u64()), u128::from(config.duration.as_u64()));
    let initial = u128::from(config.initial_ppm);
    if t >= total || total == 0 {
        return 1_000_000;
    }
    let ppm = u128::from(PPM);
    let f = match config.curve {
        Curve::Linear => initial + (ppm.saturating_sub(initial)) * t / total,
        Curve::Exponential => {
            let doublings = doublings(config.initial_ppm);
            // Step `k` of `doublings`, and how far into it (`within / total` of a step).
            let scaled = t * u128::from(doublings);
            let k = scaled / total;
            let within = scaled % total;
            let base = initial << k.min(20);
            base + base * within / total
        }
    };
    u32::try_from(f.min(ppm)).unwrap_or(1_000_000)
}

/// The fewest doublings that take `initial` (≥ 1) to at least 10⁶ (at most 20).
const fn doublings(initial: u32) -> u32 {
    let mut d = 0;
    let mut v = initial as u64;
    while v < PPM && d < 20 {
        v *= 2;
        d += 1;
    }
    d
}

/// The probability a probe is admitted after `successes` consecutive probe successes, in parts
/// per million: `min(10⁶, probe_initial_ppm · 2^successes)`, or 10⁶ with the gate off.
///
/// # Panics
///
/// Never.
#[must_use]
pub const fn probe_admit_ppm(config: &RampConfig, successes: u32) -> u32 {
    if config.probe_initial_ppm == 0 {
        return 1_000_000;
    }
    let shift = if successes > 20 { 20 } else { successes };
    let p = (config.probe_initial_ppm as u64) << shift;
    #[allow(clippy::cast_possible_truncation, reason = "p <= 10⁶ on that branch")]
    let p32 = p as u32;
    if p > PPM { 1_000_000 } else { p32 }
}

/// A call refused by a ramp gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RampRejected {
    /// The fraction the draw was made against, in parts per million.
    pub admit_ppm: u32,
}

impl fmt::Display for RampRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ramping up: {} ppm of calls admitted", self.admit_ppm)
    }
}

impl core::error::Error for RampRejected {}

/// A gate that admits a growing fraction of calls for `duration` after [`start`](Ramp::start).
///
/// # Semantics
///
/// Idle (never started, stopped, or past its duration), every call is admitted without a draw.
/// From `start(at)`, a call at `now` is admitted with probability
/// [`admit_ppm`]`(config, now − at)`: a uniform draw below 10⁶ from the seeded generator is
/// compared with it. A `now` before `at` counts as the start.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::ramp::{Ramp, RampConfig};
/// let ramp = Ramp::new(RampConfig { duration: Nanos::from_secs(10), ..RampConfig::DEFAULT }).unwrap();
/// assert!(ramp.try_admit(Nanos::ZERO).is_ok()); // idle
/// ramp.start(Nanos::from_secs(100));
/// let at_start = (0..1_000).filter(|_| ramp.try_admit(Nanos::from_secs(100)).is_ok()).count();
/// assert!(at_start < 100, "{at_start}"); // about 5 %
/// assert!(ramp.try_admit(Nanos::from_secs(110)).is_ok()); // over
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Ramp {
    /// `1 + ` the start time of the ramp in progress, or 0 when idle. Written by plain stores:
    /// the latest `start` or `stop` wins.
    start: AtomicU64,
    rng: AtomicSplitMix64,
    config: RampConfig,
}

impl Ramp {
    /// An idle ramp.
    ///
    /// # Errors
    ///
    /// The first rule of `config` broken ([`RampConfig::validate`]).
    pub fn new(config: RampConfig) -> Result<Ramp, ConfigError> {
        config.validate()?;
        Ok(Ramp { start: AtomicU64::new(0), rng: AtomicSplitMix64::new(config.seed), config })
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &RampConfig {
        &self.config
    }

    /// Starts (or restarts) a ramp at `at`.
    pub fn start(&self, at: Nanos) {
        // Relaxed: the word is the whole state; nothing else is published with it.
        self.start.store(at.as_u64().saturating_add(1), Ordering::Relaxed);
    }

    /// Ends the ramp in progress: every call is admitted again.
    pub fn stop(&self) {
        // Relaxed: as in `start`.
        self.start.store(0, Ordering::Relaxed);
    }

    /// The fraction admitted at `now`, in parts per million (10⁶ when idle).
    #[must_use]
    pub fn current_ppm(&self, now: Nanos) -> u32 {
        // Relaxed: as in `start`.
        match self.start.load(Ordering::Relaxed) {
            0 => 1_000_000,
            s => admit_ppm(&self.config, Nanos::new(now.as_u64().saturating_sub(s - 1))),
        }
    }

    /// Admits or refuses a call at `now`.
    ///
    /// # Errors
    ///
    /// [`RampRejected`] if the draw falls at or above the current fraction.
    ///
    /// # Progress
    ///
    /// Wait-free: one load, and during a ramp one `fetch_add` on the generator.
    pub fn try_admit(&self, now: Nanos) -> Result<(), RampRejected> {
        gate(&self.rng, self.current_ppm(now))
    }
}

/// Admits with probability `ppm` / 10⁶; no draw at 10⁶.
fn gate(rng: &AtomicSplitMix64, ppm: u32) -> Result<(), RampRejected> {
    if u64::from(ppm) >= PPM || rng.below(PPM) < u64::from(ppm) {
        Ok(())
    } else {
        Err(RampRejected { admit_ppm: ppm })
    }
}

/// Why a [`RampedBreaker`] refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RampedRejection {
    /// The breaker refused it.
    Breaker(Rejected),
    /// The breaker admitted it, but the recovery ramp did not.
    Ramp(RampRejected),
    /// The breaker admitted it as a half-open probe, but the probe gate did not (the probe's
    /// place was given back). `transition` is the admission's own
    /// ([`Transition::HalfOpened`] if it ended the open period).
    Probe {
        /// The probe gate's refusal.
        rejected: RampRejected,
        /// The state change the breaker's admission made.
        transition: Transition,
    },
}

impl fmt::Display for RampedRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RampedRejection::Breaker(r) => r.fmt(f),
            RampedRejection::Ramp(r) => r.fmt(f),
            RampedRejection::Probe { rejected, .. } => {
                write!(f, "half-open: {} ppm of probes admitted", rejected.admit_ppm)
            }
        }
    }
}

impl core::error::Error for RampedRejection {}

/// A [`Breaker`] whose recovery ramps up, and whose half-open probes are admitted with a
/// probability that grows with consecutive probe successes.
///
/// # Semantics
///
/// - [`try_acquire`](RampedBreaker::try_acquire) asks the breaker first; a permit it grants then
///   passes the probe gate (a probe, when the gate is on) or the ramp gate (any other call);
///   a refused permit is released unused ([`Permit::ignore`]).
/// - [`record`](RampedBreaker::record) records through the breaker; a
///   [`Transition::Closed`] starts the ramp at `now`, a [`Transition::Opened`] stops it.
///   Failures during the ramp count in the breaker's window like any other, so they trip it by
///   its own rules, and the ramp starts again at the next close.
/// - Operator transitions on [`breaker`](RampedBreaker::breaker) do not start a ramp.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, breaker::{BreakerConfig, CountBreaker, Transition}};
/// use portcullis::ramp::{RampConfig, RampedBreaker};
/// use portcullis::window::Outcome;
/// let config = BreakerConfig {
///     consecutive_failures: Some(1),
///     open_duration: Nanos::from_secs(1),
///     max_open_duration: Nanos::from_secs(1),
///     jitter_ppm: 0,
///     ..BreakerConfig::DEFAULT
/// };
/// let rb = RampedBreaker::new(CountBreaker::<8>::new(config).unwrap(), RampConfig::DEFAULT).unwrap();
/// let p = rb.try_acquire(Nanos::ZERO).unwrap();
/// assert_eq!(rb.record(p, Outcome::Failure, Nanos::ZERO).transition, Transition::Opened);
/// let probe = rb.try_acquire(Nanos::from_secs(2)).unwrap();
/// assert_eq!(rb.record(probe, Outcome::Success, Nanos::from_secs(2)).transition, Transition::Closed);
/// assert_eq!(rb.ramp().current_ppm(Nanos::from_secs(2)), 50_000); // recovery starts at 5 %
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct RampedBreaker<W> {
    breaker: Breaker<W>,
    ramp: Ramp,
    /// The probe gate's own generator, so that probes do not shift the ramp's sequence.
    probe_rng: AtomicSplitMix64,
}

impl<W: Window> RampedBreaker<W> {
    /// A ramped breaker around `breaker`, idle.
    ///
    /// # Errors
    ///
    /// The first rule of `config` broken ([`RampConfig::validate`]).
    pub fn new(breaker: Breaker<W>, config: RampConfig) -> Result<Self, ConfigError> {
        let ramp = Ramp::new(config)?;
        // A different stream of the same seed for the probe gate.
        let probe_rng = AtomicSplitMix64::new(config.seed ^ 0x5851_F42D_4C95_7F2D);
        Ok(RampedBreaker { breaker, ramp, probe_rng })
    }

    /// The breaker (for its snapshot and operator transitions).
    #[must_use]
    pub const fn breaker(&self) -> &Breaker<W> {
        &self.breaker
    }

    /// The recovery ramp.
    #[must_use]
    pub const fn ramp(&self) -> &Ramp {
        &self.ramp
    }

    /// Asks the breaker, then the probe gate or the ramp gate.
    ///
    /// # Errors
    ///
    /// [`RampedRejection::Breaker`] when the breaker refuses; [`RampedRejection::Probe`] when
    /// the probe gate refuses a probe; [`RampedRejection::Ramp`] when the ramp refuses a call.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn try_acquire(&self, now: Nanos) -> Result<Permit<'_, W>, RampedRejection> {
        let permit = self.breaker.try_acquire(now).map_err(RampedRejection::Breaker)?;
        if permit.is_probe() {
            if self.ramp.config.probe_initial_ppm == 0 {
                return Ok(permit);
            }
            let successes = self.breaker.snapshot(now).probe_successes;
            let ppm = probe_admit_ppm(&self.ramp.config, successes);
            return match gate(&self.probe_rng, ppm) {
                Ok(()) => Ok(permit),
                Err(rejected) => {
                    let transition = permit.transition();
                    permit.ignore();
                    Err(RampedRejection::Probe { rejected, transition })
                }
            };
        }
        match self.ramp.try_admit(now) {
            Ok(()) => Ok(permit),
            Err(r) => {
                permit.ignore();
                Err(RampedRejection::Ramp(r))
            }
        }
    }

    /// Records a call's outcome through the breaker, starting the ramp on
    /// [`Transition::Closed`] and stopping it on [`Transition::Opened`].
    ///
    /// # Panics
    ///
    /// Never.
    pub fn record(&self, permit: Permit<'_, W>, outcome: Outcome, now: Nanos) -> Recorded {
        let recorded = self.breaker.record(permit, outcome, now);
        match recorded.transition {
            Transition::Closed => self.ramp.start(now),
            Transition::Opened => self.ramp.stop(),
            Transition::None | Transition::HalfOpened => {}
        }
        recorded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(curve: Curve, initial_ppm: u32) -> RampConfig {
        RampConfig { duration: Nanos::new(1_000), curve, initial_ppm, ..RampConfig::DEFAULT }
    }

    #[test]
    fn config_errors_are_precise() {
        let d = RampConfig::DEFAULT;
        assert_eq!(
            Ramp::new(RampConfig { duration: Nanos::ZERO, ..d }).unwrap_err(),
            ConfigError::ZeroDuration { field: "duration" }
        );
        assert_eq!(
            Ramp::new(RampConfig { initial_ppm: 0, ..d }).unwrap_err(),
            ConfigError::OutOfRange { field: "initial_ppm", min: 1, max: 1_000_000, got: 0 }
        );
        assert_eq!(
            Ramp::new(RampConfig { initial_ppm: 1_000_001, ..d }).unwrap_err(),
            ConfigError::OutOfRange {
                field: "initial_ppm",
                min: 1,
                max: 1_000_000,
                got: 1_000_001
            }
        );
        assert_eq!(
            Ramp::new(RampConfig { probe_initial_ppm: 2_000_000, ..d }).unwrap_err(),
            ConfigError::OutOfRange {
                field: "probe_initial_ppm",
                min: 0,
                max: 1_000_000,
                got: 2_000_000
            }
        );
    }

    #[test]
    fn curves_start_at_initial_end_at_one_and_never_fall() {
        for curve in [Curve::Linear, Curve::Exponential] {
            for initial in [1, 7, 50_000, 999_999, 1_000_000] {
                let c = cfg(curve, initial);
                assert_eq!(admit_ppm(&c, Nanos::ZERO), initial);
                assert_eq!(admit_ppm(&c, Nanos::new(1_000)), 1_000_000);
                assert_eq!(admit_ppm(&c, Nanos::new(u64::MAX)), 1_000_000);
                let mut last = 0;
                for t in 0..=1_000 {
                    let f = admit_ppm(&c, Nanos::new(t));
                    assert!(f >= last, "{curve:?} {initial} at {t}");
                    last = f;
                }
            }
        }
    }

    #[test]
    fn exponential_doubles_at_even_steps() {
        // 62,500 ppm doubles 4 times to 10⁶: at 250, 500, 750 and 1,000 ns.
        let c = cfg(Curve::Exponential, 62_500);
        assert_eq!(doublings(62_500), 4);
        assert_eq!(admit_ppm(&c, Nanos::new(250)), 125_000);
        assert_eq!(admit_ppm(&c, Nanos::new(500)), 250_000);
        assert_eq!(admit_ppm(&c, Nanos::new(625)), 375_000, "straight between doublings");
        assert_eq!(admit_ppm(&c, Nanos::new(750)), 500_000);
        assert_eq!(admit_ppm(&c, Nanos::new(999)), 998_000);
        assert_eq!(doublings(1), 20);
        assert_eq!(doublings(1_000_000), 0);
    }

    #[test]
    fn probe_fraction_doubles_per_success() {
        let c = RampConfig { probe_initial_ppm: 100_000, ..RampConfig::DEFAULT };
        assert_eq!(probe_admit_ppm(&c, 0), 100_000);
        assert_eq!(probe_admit_ppm(&c, 3), 800_000);
        assert_eq!(probe_admit_ppm(&c, 4), 1_000_000);
        assert_eq!(probe_admit_ppm(&c, u32::MAX), 1_000_000);
        assert_eq!(probe_admit_ppm(&RampConfig::DEFAULT, 0), 1_000_000, "gate off");
    }

    #[test]
    fn idle_and_finished_ramps_draw_nothing() {
        let r = Ramp::new(cfg(Curve::Linear, 1)).unwrap();
        assert!(r.try_admit(Nanos::new(5)).is_ok());
        r.start(Nanos::new(10));
        assert_eq!(r.current_ppm(Nanos::new(0)), 1, "before the start counts as the start");
        assert!(r.try_admit(Nanos::new(1_010)).is_ok());
        r.stop();
        assert_eq!(r.current_ppm(Nanos::new(10)), 1_000_000);
        let mut fresh = crate::rng::SplitMix64::new(0);
        assert_eq!(r.rng.next_u64(), fresh.next_u64(), "no draw was made");
    }
}
