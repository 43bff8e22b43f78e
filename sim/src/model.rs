//! The simulated dependency: error rate and latency as functions of virtual time, and the
//! random draws that turn them into outcomes.

use portcullis::Nanos;
use portcullis::rng::SplitMix64;

/// A uniform draw in `[0, 1)` with 53 bits of precision.
pub fn uniform(rng: &mut SplitMix64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "53 bits fit an f64 exactly")]
    let x = (rng.next_u64() >> 11) as f64;
    x / 9_007_199_254_740_992.0
}

/// A standard normal draw (Box–Muller, one of the pair).
pub fn normal(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - uniform(rng); // (0, 1]: ln is finite
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos()
}

/// An exponential draw of mean `mean`.
pub fn exponential(rng: &mut SplitMix64, mean: f64) -> f64 {
    -mean * (1.0 - uniform(rng)).ln()
}

/// Converts seconds to [`Nanos`], saturating at zero and at `Nanos::MAX`.
#[must_use]
pub fn secs(s: f64) -> Nanos {
    if s.is_nan() || s <= 0.0 {
        return Nanos::ZERO;
    }
    let ns = (s * 1e9).round();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked positive; `as` saturates at u64::MAX"
    )]
    Nanos::new(ns as u64)
}

/// Converts [`Nanos`] to seconds.
#[must_use]
pub fn to_secs(t: Nanos) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "simulated times are far below 2^53 ns")]
    let s = t.as_u64() as f64 / 1e9;
    s
}

/// The distribution of a healthy call's latency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// Always the same.
    Fixed {
        /// The latency, in seconds.
        value: f64,
    },
    /// Exponential (memoryless, the M in M/M/c).
    Exponential {
        /// The mean, in seconds.
        mean: f64,
    },
    /// Lognormal: `median · e^(σ·Z)`.
    LogNormal {
        /// The median, in seconds.
        median: f64,
        /// The standard deviation of the logarithm.
        sigma: f64,
    },
    /// Pareto (heavy tail): `scale / U^(1/α)`, capped at `cap`.
    Pareto {
        /// The smallest latency, in seconds.
        scale: f64,
        /// The tail index; the smaller, the heavier (≤ 2: infinite variance).
        alpha: f64,
        /// The largest latency drawn, in seconds.
        cap: f64,
    },
}

impl Latency {
    /// One latency draw, in seconds.
    pub fn sample(&self, rng: &mut SplitMix64) -> f64 {
        match *self {
            Latency::Fixed { value } => value,
            Latency::Exponential { mean } => exponential(rng, mean),
            Latency::LogNormal { median, sigma } => median * (sigma * normal(rng)).exp(),
            Latency::Pareto { scale, alpha, cap } => {
                let u = 1.0 - uniform(rng);
                (scale / u.powf(1.0 / alpha)).min(cap)
            }
        }
    }
}

/// A stretch of time in which the dependency misbehaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phase {
    /// Start, in seconds.
    pub from: f64,
    /// End (exclusive), in seconds.
    pub to: f64,
    /// The error rate at `from`.
    pub error_rate: f64,
    /// The error rate at `to` (linear in between): a ramp for gradual degradation.
    pub error_rate_end: f64,
    /// Latencies are multiplied by this.
    pub latency_factor: f64,
    /// The capacity at `from` (attempts per second), replacing the dependency's own during the
    /// phase; `None` keeps it.
    pub capacity: Option<f64>,
    /// The capacity at `to` (linear in between): a warm-up after an outage.
    pub capacity_end: Option<f64>,
}

/// Errors that come and go: `amplitude · max(0, sin(2π·t / period))` added to the error rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sine {
    /// The peak added error rate.
    pub amplitude: f64,
    /// The period, in seconds.
    pub period: f64,
    /// Start, in seconds.
    pub from: f64,
    /// End, in seconds.
    pub to: f64,
}

/// A dependency whose error rate and latency change over time.
#[derive(Clone, Debug, PartialEq)]
pub struct Dependency {
    /// The error rate outside every phase.
    pub error_rate: f64,
    /// The healthy latency.
    pub latency: Latency,
    /// Phases, later ones winning where they overlap.
    pub phases: Vec<Phase>,
    /// Intermittent errors.
    pub sine: Option<Sine>,
    /// Calls per second it can serve; above, the excess fails (overload), `None`: unlimited.
    pub capacity: Option<f64>,
    /// How long a failed call takes, as a fraction of a healthy one (fail-fast errors are
    /// cheaper than timeouts).
    pub error_latency_factor: f64,
    /// What refusing one attempt beyond capacity costs, as a share of what serving one costs
    /// (`0..1`): 0 makes refusals free, so the dependency serves its capacity whatever the load;
    /// above 0, refusals eat into it and the served share collapses as the load grows.
    pub refusal_cost: f64,
}

impl Dependency {
    /// The intended error rate at `t` seconds, before overload.
    #[must_use]
    pub fn error_rate_at(&self, t: f64) -> f64 {
        let mut rate = self.error_rate;
        for p in &self.phases {
            if t >= p.from && t < p.to {
                let span = p.to - p.from;
                let x = if span > 0.0 { (t - p.from) / span } else { 0.0 };
                rate = p.error_rate + (p.error_rate_end - p.error_rate) * x;
            }
        }
        if let Some(s) = self.sine
            && t >= s.from
            && t < s.to
            && s.period > 0.0
        {
            rate += s.amplitude * (core::f64::consts::TAU * (t - s.from) / s.period).sin().max(0.0);
        }
        rate.clamp(0.0, 1.0)
    }

    /// The capacity at `t` seconds, attempts per second (`None`: unlimited).
    #[must_use]
    pub fn capacity_at(&self, t: f64) -> Option<f64> {
        let mut cap = self.capacity;
        for p in &self.phases {
            if t >= p.from
                && t < p.to
                && let Some(start) = p.capacity
            {
                let end = p.capacity_end.unwrap_or(start);
                let span = p.to - p.from;
                let x = if span > 0.0 { (t - p.from) / span } else { 0.0 };
                cap = Some(start + (end - start) * x);
            }
        }
        cap
    }

    /// The attempts per second served when `load` are sent against `cap`: all of them up to
    /// the capacity; beyond it, the `s` with `s + refusal_cost · (load − s) = cap`.
    #[must_use]
    pub fn served(&self, cap: f64, load: f64) -> f64 {
        if load <= cap {
            return load;
        }
        let c = self.refusal_cost;
        ((cap - c * load) / (1.0 - c)).max(0.0)
    }

    /// The latency multiplier at `t` seconds.
    #[must_use]
    pub fn latency_factor_at(&self, t: f64) -> f64 {
        let mut f = 1.0;
        for p in &self.phases {
            if t >= p.from && t < p.to {
                f = p.latency_factor;
            }
        }
        f
    }

    /// Serves one attempt sent at `t` seconds while `load` attempts were sent in the last
    /// second: `(failed, latency in seconds)`.
    pub fn serve(&self, t: f64, load: f64, rng: &mut SplitMix64) -> (bool, f64) {
        let mut p = self.error_rate_at(t);
        if let Some(cap) = self.capacity_at(t)
            && load > cap
        {
            // The share of the load not served fails on top of the intended errors (with free
            // refusals, `served` is `cap` exactly, as it always was).
            let over = 1.0 - self.served(cap, load) / load;
            p = p + (1.0 - p) * over;
        }
        let failed = uniform(rng) < p;
        let mut latency = self.latency.sample(rng) * self.latency_factor_at(t);
        if failed {
            latency *= self.error_latency_factor;
        }
        (failed, latency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep() -> Dependency {
        Dependency {
            error_rate: 0.01,
            latency: Latency::Fixed { value: 0.01 },
            phases: vec![Phase {
                from: 10.0,
                to: 20.0,
                error_rate: 0.1,
                error_rate_end: 0.9,
                latency_factor: 3.0,
                capacity: Some(50.0),
                capacity_end: Some(150.0),
            }],
            sine: None,
            capacity: Some(100.0),
            error_latency_factor: 1.0,
            refusal_cost: 0.0,
        }
    }

    #[test]
    fn phases_ramp_linearly_and_end() {
        let d = dep();
        assert!((d.error_rate_at(5.0) - 0.01).abs() < 1e-12);
        assert!((d.error_rate_at(10.0) - 0.1).abs() < 1e-12);
        assert!((d.error_rate_at(15.0) - 0.5).abs() < 1e-12);
        assert!((d.error_rate_at(20.0) - 0.01).abs() < 1e-12);
        assert!((d.latency_factor_at(12.0) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn overload_fails_the_excess() {
        let d = Dependency { error_rate: 0.0, phases: vec![], ..dep() };
        let mut rng = SplitMix64::new(3);
        let failed = (0..10_000).filter(|_| d.serve(0.0, 400.0, &mut rng).0).count();
        // 1 − 100/400 = 75 % fail, within 2 points.
        assert!((7_300..7_700).contains(&failed), "{failed}");
    }

    #[test]
    fn phase_capacity_ramps_and_refusals_can_cost() {
        let d = dep();
        assert_eq!(d.capacity_at(5.0), Some(100.0));
        assert_eq!(d.capacity_at(10.0), Some(50.0));
        assert_eq!(d.capacity_at(15.0), Some(100.0));
        assert_eq!(d.capacity_at(20.0), Some(100.0));
        assert!((d.served(100.0, 400.0) - 100.0).abs() < 1e-12, "free refusals serve capacity");
        let costly = Dependency { refusal_cost: 0.2, ..dep() };
        // s + 0.2 (400 − s) = 100: s = 20 / 0.8 = 25.
        assert!((costly.served(100.0, 400.0) - 25.0).abs() < 1e-9);
        assert!((costly.served(100.0, 80.0) - 80.0).abs() < 1e-12);
        assert!(costly.served(100.0, 600.0).abs() < 1e-12, "collapsed");
    }

    #[test]
    fn lognormal_median_and_pareto_floor() {
        let mut rng = SplitMix64::new(9);
        let l = Latency::LogNormal { median: 0.02, sigma: 0.5 };
        let mut v: Vec<f64> = (0..10_001).map(|_| l.sample(&mut rng)).collect();
        v.sort_by(f64::total_cmp);
        assert!((v[5_000] - 0.02).abs() < 0.001, "{}", v[5_000]);
        let p = Latency::Pareto { scale: 0.01, alpha: 1.5, cap: 5.0 };
        assert!((0..1000).all(|_| (0.01..=5.0).contains(&p.sample(&mut rng))));
    }
}
