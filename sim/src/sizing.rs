//! The bulkhead sizing calculator: Little's law and the Erlang formulas, checked against a
//! simulation of the real [`Bulkhead`].
//!
//! A bulkhead of `c` permits in front of a dependency is a `c`-server queueing system whose
//! offered load is `a = λ · E[S]` (Little's law: the mean number of calls in service).
//!
//! - A bulkhead that **refuses** when full (`try_acquire`) is an M/G/c/c loss system: the share
//!   of calls refused is Erlang B, `B(c, a)`, whatever the service-time distribution.
//! - A bulkhead whose callers **wait** for a permit is an M/M/c queue: the probability of waiting
//!   is Erlang C, `C(c, a)`, and `P(wait > t) = C(c, a) · e^(−(c·μ − λ)·t)` with `μ = 1 / E[S]`
//!   (exact for exponential service times, an estimate otherwise).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use portcullis::Nanos;
use portcullis::bulkhead::Bulkhead;
use portcullis::rng::SplitMix64;

use crate::model::{Latency, exponential, secs};

/// The largest size the calculator considers.
pub const MAX_SIZE: u32 = 100_000;

/// Erlang B: the share of calls refused by `c` permits under `a` erlangs of offered load.
#[must_use]
pub fn erlang_b(c: u32, a: f64) -> f64 {
    // The stable recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: the probability that a call waits for one of `c` permits under `a` erlangs (1 when
/// `c <= a`: the queue grows without bound).
#[must_use]
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let cf = f64::from(c);
    if cf <= a {
        return 1.0;
    }
    let b = erlang_b(c, a);
    cf * b / (cf - a * (1.0 - b))
}

/// The mean of `latency` in seconds, estimated from 200,000 seeded draws (exact for `Fixed`).
#[must_use]
pub fn mean_service(latency: &Latency) -> f64 {
    if let Latency::Fixed { value } = latency {
        return *value;
    }
    let mut rng = SplitMix64::new(0x5EED);
    let n = 200_000;
    (0..n).map(|_| latency.sample(&mut rng)).sum::<f64>() / f64::from(n)
}

/// What the calculator recommends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sizing {
    /// Mean service time, seconds.
    pub mean_service: f64,
    /// Offered load in erlangs (Little's law: mean calls in service).
    pub offered: f64,
    /// The smallest refusing bulkhead that refuses at most `max_refused` of the calls.
    pub refusing: u32,
    /// Its predicted refusal share (Erlang B).
    pub refusing_blocked: f64,
    /// The smallest waiting bulkhead whose wait exceeds `target_wait` for at most
    /// `1 − percentile` of the calls (Erlang C estimate).
    pub waiting: u32,
    /// Its predicted probability of waiting longer than the target.
    pub waiting_late: f64,
}

/// Recommends bulkhead sizes for `rate` calls per second with service times `latency`.
///
/// `max_refused`: the largest acceptable share of refused calls (refusing bulkhead);
/// `target_wait` (seconds) and `percentile` (e.g. 0.99): the wait for a permit that at most
/// `1 − percentile` of the calls may exceed (waiting bulkhead).
#[must_use]
pub fn recommend(
    rate: f64,
    latency: &Latency,
    max_refused: f64,
    target_wait: f64,
    percentile: f64,
) -> Sizing {
    let mean_service = mean_service(latency);
    let offered = rate * mean_service;
    let refusing =
        (1..=MAX_SIZE).find(|&c| erlang_b(c, offered) <= max_refused).unwrap_or(MAX_SIZE);
    let late = |c: u32| {
        let cf = f64::from(c);
        if cf <= offered {
            return 1.0;
        }
        erlang_c(c, offered) * (-(cf / mean_service - rate) * target_wait).exp()
    };
    let waiting = (1..=MAX_SIZE).find(|&c| late(c) <= 1.0 - percentile).unwrap_or(MAX_SIZE);
    Sizing {
        mean_service,
        offered,
        refusing,
        refusing_blocked: erlang_b(refusing, offered),
        waiting,
        waiting_late: late(waiting),
    }
}

/// What a simulated refusing bulkhead measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// Calls offered.
    pub calls: u64,
    /// Share refused by the bulkhead.
    pub refused: f64,
    /// Mean permits in flight over time.
    pub mean_in_flight: f64,
}

/// Simulates `calls` Poisson arrivals at `rate` per second through a real [`Bulkhead`] of
/// `size` permits, each admitted call holding its permit for a draw of `latency`.
///
/// # Panics
///
/// Never; a size above the bulkhead's limit admits nothing.
#[must_use]
pub fn simulate(rate: f64, latency: &Latency, size: u32, calls: u32, seed: u64) -> Measured {
    let Ok(bulkhead) = Bulkhead::new(size) else {
        return Measured { calls: u64::from(calls), refused: 1.0, mean_in_flight: 0.0 };
    };
    let mut rng = SplitMix64::new(seed);
    let mut ends: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let (mut now, mut refused, mut area, mut last) = (0u64, 0u64, 0.0f64, 0u64);
    // Integrates permits in flight over time up to `t`.
    let advance = |t: u64, in_flight: u32, area: &mut f64, last: &mut u64| {
        *area += f64::from(in_flight) * crate::model::to_secs(Nanos::new(t - *last));
        *last = t;
    };
    for _ in 0..calls {
        now += secs(exponential(&mut rng, 1.0 / rate)).as_u64();
        while let Some(&Reverse(end)) = ends.peek() {
            if end > now {
                break;
            }
            ends.pop();
            advance(end, bulkhead.in_flight(), &mut area, &mut last);
            let _ = bulkhead.release(1);
        }
        advance(now, bulkhead.in_flight(), &mut area, &mut last);
        if bulkhead.try_acquire_raw(1).is_ok() {
            ends.push(Reverse(now + secs(latency.sample(&mut rng)).as_u64().max(1)));
        } else {
            refused += 1;
        }
    }
    let span = crate::model::to_secs(Nanos::new(last.max(1)));
    Measured {
        calls: u64::from(calls),
        refused: crate::engine::ratio(refused, u64::from(calls)),
        mean_in_flight: area / span,
    }
}

/// Simulates `calls` Poisson arrivals at `rate` per second through a real [`Bulkhead`] of
/// `size` permits whose callers **wait** in arrival order when it is full: a refused
/// `try_acquire_raw` joins the queue, and each `release` admits the head of the queue. Returns
/// the share of calls that waited at all and the share that waited longer than `target` seconds.
#[must_use]
pub fn simulate_waiting(
    rate: f64,
    latency: &Latency,
    size: u32,
    calls: u32,
    target: f64,
    seed: u64,
) -> (f64, f64) {
    let Ok(bulkhead) = Bulkhead::new(size) else {
        return (1.0, 1.0);
    };
    let mut rng = SplitMix64::new(seed);
    let mut ends: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut queue: std::collections::VecDeque<u64> = std::collections::VecDeque::new();
    let target = secs(target).as_u64();
    let (mut waited, mut late) = (0u64, 0u64);
    let mut next_arrival = secs(exponential(&mut rng, 1.0 / rate)).as_u64();
    let mut arrived = 0u32;
    loop {
        let next_end = ends.peek().map(|r| r.0);
        match next_end {
            // A call ends (ties go to the release, so a waiter is admitted at that instant).
            Some(end) if end <= next_arrival || arrived == calls => {
                ends.pop();
                let now = end;
                let _ = bulkhead.release(1);
                if let Some(&since) = queue.front()
                    && bulkhead.try_acquire_raw(1).is_ok()
                {
                    queue.pop_front();
                    if now - since > target {
                        late += 1;
                    }
                    ends.push(Reverse(now + secs(latency.sample(&mut rng)).as_u64().max(1)));
                }
            }
            _ if arrived < calls => {
                let now = next_arrival;
                arrived += 1;
                next_arrival = now + secs(exponential(&mut rng, 1.0 / rate)).as_u64();
                if queue.is_empty() && bulkhead.try_acquire_raw(1).is_ok() {
                    ends.push(Reverse(now + secs(latency.sample(&mut rng)).as_u64().max(1)));
                } else {
                    waited += 1;
                    queue.push_back(now);
                }
            }
            _ => break,
        }
    }
    let n = u64::from(calls);
    (crate::engine::ratio(waited, n), crate::engine::ratio(late, n))
}

/// Parses a latency distribution written `fixed:10ms`, `exponential:20ms` (mean),
/// `lognormal:20ms:0.5` (median, σ) or
/// `pareto:5ms:1.3:5s` (scale, α, cap).
///
/// # Errors
///
/// A message naming the accepted forms.
pub fn parse_latency(s: &str) -> Result<Latency, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let d = |x: &str| crate::scenario::parse_duration(x).map(crate::model::to_secs);
    let f = |x: &str| x.parse::<f64>().map_err(|_| format!("not a number: {x:?}"));
    match parts.as_slice() {
        ["fixed", v] => Ok(Latency::Fixed { value: d(v)? }),
        ["exponential", m] => Ok(Latency::Exponential { mean: d(m)? }),
        ["lognormal", m, sigma] => Ok(Latency::LogNormal { median: d(m)?, sigma: f(sigma)? }),
        ["pareto", scale, alpha, cap] => {
            Ok(Latency::Pareto { scale: d(scale)?, alpha: f(alpha)?, cap: d(cap)? })
        }
        _ => Err(format!(
            "invalid latency {s:?}: expected fixed:10ms, exponential:20ms, lognormal:20ms:0.5 or \
             pareto:5ms:1.3:5s"
        )),
    }
}

/// The sizing example of the default run: 200 calls/s, lognormal service times (20 ms median,
/// σ 0.8), at most 1 % refused, or at most 1 % waiting more than 10 ms; each size around the
/// refusing recommendation simulated with the real bulkhead (200,000 calls).
#[must_use]
pub fn example_csv(seed: u64) -> (Sizing, String) {
    use std::fmt::Write as _;
    let l = Latency::LogNormal { median: 0.02, sigma: 0.8 };
    let rate = 200.0;
    let s = recommend(rate, &l, 0.01, 0.01, 0.99);
    let mut csv =
        String::from("size,erlang_b,simulated_refused,littles_law_in_flight,simulated_in_flight\n");
    for size in s.refusing.saturating_sub(3)..=s.refusing + 2 {
        let m = simulate(rate, &l, size, 200_000, seed);
        let b = erlang_b(size, s.offered);
        let _ = writeln!(
            csv,
            "{size},{b:.5},{:.5},{:.3},{:.3}",
            m.refused,
            rate * (1.0 - b) * s.mean_service,
            m.mean_in_flight
        );
    }
    (s, csv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_strings() {
        assert_eq!(parse_latency("fixed:10ms"), Ok(Latency::Fixed { value: 0.01 }));
        assert_eq!(
            parse_latency("lognormal:20ms:0.5"),
            Ok(Latency::LogNormal { median: 0.02, sigma: 0.5 })
        );
        assert!(parse_latency("pareto:5ms:1.3:5s").is_ok());
        assert!(parse_latency("normal:5ms").is_err());
    }

    #[test]
    fn erlang_known_values() {
        // Textbook values: B(10, 5) = 0.018385, C(10, 5) = 0.036105.
        assert!((erlang_b(10, 5.0) - 0.018_385).abs() < 1e-5, "{}", erlang_b(10, 5.0));
        assert!((erlang_c(10, 5.0) - 0.036_105).abs() < 1e-5, "{}", erlang_c(10, 5.0));
        assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-12);
        assert!((erlang_c(3, 3.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn recommendation_is_the_smallest_that_meets_the_target() {
        let l = Latency::Fixed { value: 0.02 };
        let s = recommend(250.0, &l, 0.01, 0.01, 0.99);
        assert!((s.offered - 5.0).abs() < 1e-12);
        assert!(erlang_b(s.refusing, 5.0) <= 0.01 && erlang_b(s.refusing - 1, 5.0) > 0.01);
        assert_eq!(s.refusing, 11);
        assert!(s.waiting_late <= 0.01 && s.waiting > 5);
    }

    /// Erlang C is exact for exponential service times: the real bulkhead with a FIFO queue of
    /// waiting callers waits as often as `C(c, a)` predicts, and misses the target as often as
    /// `C(c, a) · e^(−(cμ − λ)t)`.
    #[test]
    fn simulation_confirms_erlang_c() {
        let l = Latency::Exponential { mean: 0.025 };
        let rate = 200.0;
        let s = recommend(rate, &l, 0.01, 0.01, 0.99);
        let (waited, late) = simulate_waiting(rate, &l, s.waiting, 200_000, 0.01, 3);
        let c = erlang_c(s.waiting, s.offered);
        // Tolerance: within 0.5 percentage points (200,000 calls).
        assert!((waited - c).abs() < 0.005, "waited {waited} vs C {c}");
        assert!((late - s.waiting_late).abs() < 0.003, "late {late} vs {}", s.waiting_late);
        assert!(late <= 0.01 + 0.003);
        // One permit fewer misses the 1 % target.
        let (_, late_smaller) = simulate_waiting(rate, &l, s.waiting - 1, 200_000, 0.01, 3);
        assert!(late_smaller > 0.01, "{late_smaller}");
    }

    /// Erlang B is insensitive to the service-time distribution: the real bulkhead, simulated
    /// with lognormal service times, refuses the predicted share, and its mean occupancy is
    /// Little's law `λ · (1 − B) · E[S]`.
    #[test]
    fn simulation_confirms_erlang_b_and_littles_law() {
        let l = Latency::LogNormal { median: 0.02, sigma: 0.8 };
        let rate = 200.0;
        let s = recommend(rate, &l, 0.01, 0.01, 0.99);
        let m = simulate(rate, &l, s.refusing, 200_000, 7);
        // Tolerance: within 0.4 percentage points of Erlang B (200,000 calls).
        assert!((m.refused - s.refusing_blocked).abs() < 0.004, "{m:?} vs {s:?}");
        let little = rate * (1.0 - m.refused) * s.mean_service;
        assert!((m.mean_in_flight - little).abs() / little < 0.03, "{m:?} vs {little}");
        // Two permits fewer refuse clearly more than the target.
        let smaller = simulate(rate, &l, s.refusing - 2, 200_000, 7);
        assert!(smaller.refused > 0.015, "{smaller:?}");
    }
}
