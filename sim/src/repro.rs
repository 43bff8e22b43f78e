//! Known-answer reproductions: published experiments rerun on the real core, so their orderings
//! and magnitudes can be asserted.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;

use portcullis::Nanos;
use portcullis::hedge::{HedgeConfig, HedgeDecision, HedgePolicy};
use portcullis::retry::{
    Backoff, ErrorClass, Jitter, RetryConfig, RetryDecision, RetryPolicy, RetryState,
};
use portcullis::rng::SplitMix64;

use crate::engine::percentile;
use crate::model::{Latency, secs, to_secs, uniform};

// ---------------------------------------------------------------------------------------------
// Brooker 2015: optimistic concurrency contention

/// The result of one jitter mode in the contention experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Contention {
    /// The jitter mode's name.
    pub jitter: &'static str,
    /// Writes attempted by all clients together, until each has written once.
    pub calls: u64,
    /// When the last client succeeded, in seconds.
    pub completion: f64,
}

/// The jitter modes compared, in the blog post's order.
pub const JITTERS: [(&str, Jitter); 4] = [
    ("none", Jitter::None),
    ("full", Jitter::Full),
    ("equal", Jitter::Equal),
    ("decorrelated", Jitter::Decorrelated),
];

/// Runs the contention experiment: `clients` clients start together, each wanting one write to
/// a shared record under optimistic concurrency. An attempt reads the version, and commits
/// `work` later; the commit succeeds only if no other commit landed in between, else the client
/// backs off by the real [`RetryState`] (exponential ×2 from `base`, capped at `cap`).
///
/// # Panics
///
/// Never: the policies are valid by construction.
#[must_use]
pub fn contention(clients: u32, jitter: Jitter, seed: u64) -> Contention {
    let base = Nanos::from_millis(1);
    let cap = Nanos::from_millis(1_000);
    let work = Nanos::from_millis(1);
    let Ok(policy) = RetryPolicy::new(RetryConfig {
        max_attempts: u32::MAX,
        backoff: Backoff::Exponential { multiplier_permille: 2_000 },
        base_delay: base,
        max_delay: cap,
        jitter,
        ..RetryConfig::DEFAULT
    }) else {
        return Contention { jitter: "invalid", calls: 0, completion: 0.0 };
    };
    let mut seeds = SplitMix64::new(seed);
    let mut states: Vec<RetryState> =
        (0..clients).map(|_| RetryState::new(&policy, Nanos::ZERO, seeds.next_u64())).collect();
    // Events: (time, kind, client, version read); kind 0 commits before kind 1 starts at the
    // same instant, so a start sees every commit up to its own time. Every client starts at 0.
    let mut heap: BinaryHeap<Reverse<(u64, u8, u32, u64)>> =
        (0..clients).map(|c| Reverse((0, 1, c, 0))).collect();
    let (mut version, mut calls, mut last) = (0u64, 0u64, 0u64);
    while let Some(Reverse((t, kind, c, read))) = heap.pop() {
        let now = Nanos::new(t);
        if kind == 1 {
            calls += 1;
            heap.push(Reverse((now.saturating_add(work).as_u64(), 0, c, version)));
        } else if read == version {
            version += 1;
            last = t;
        } else if let Some(state) = states.get_mut(c as usize)
            && let RetryDecision::Retry { delay, .. } =
                state.decide(&policy, ErrorClass::Retryable, now)
        {
            heap.push(Reverse((now.saturating_add(delay).as_u64(), 1, c, 0)));
        }
    }
    let name = JITTERS.iter().find(|(_, j)| *j == jitter).map_or("other", |(n, _)| *n);
    Contention { jitter: name, calls, completion: to_secs(Nanos::new(last)) }
}

/// The contention experiment for each jitter mode, averaged over `runs` seeds from `seed`.
#[must_use]
pub fn contention_table(clients: u32, runs: u32, seed: u64) -> Vec<Contention> {
    JITTERS
        .iter()
        .map(|&(name, jitter)| {
            let (mut calls, mut completion) = (0u64, 0.0);
            for r in 0..runs {
                let c = contention(clients, jitter, seed.wrapping_add(u64::from(r)));
                calls += c.calls;
                completion += c.completion;
            }
            let runs_f = f64::from(runs.max(1));
            Contention {
                jitter: name,
                calls: calls / u64::from(runs.max(1)),
                completion: completion / runs_f,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Dean and Barroso 2013: the tail at scale

/// The result of the fan-out experiment, with or without hedging.
#[derive(Clone, Debug, PartialEq)]
pub struct FanOut {
    /// Whether leaf requests were hedged.
    pub hedged: bool,
    /// Requests (each waiting for all its leaves).
    pub requests: u64,
    /// Leaf requests sent, hedges included.
    pub leaf_requests: u64,
    /// Hedges among them.
    pub hedges: u64,
    /// Request latency p50, p99, p99.9, in seconds.
    pub latency: [f64; 3],
    /// Every request latency, sorted, in nanoseconds (for the CDF plot).
    pub latencies: Vec<u64>,
}

impl FanOut {
    /// Hedges per original leaf request.
    #[must_use]
    pub fn extra(&self) -> f64 {
        let originals = self.leaf_requests - self.hedges;
        crate::engine::ratio(self.hedges, originals.max(1))
    }
}

/// The leaf latency of the fan-out experiment: 2 ms median (lognormal, σ 0.25); one request in
/// a hundred meets a slow server (a garbage collection, a compaction) and takes 100 ms median.
fn leaf(rng: &mut SplitMix64) -> f64 {
    let fast = Latency::LogNormal { median: 0.002, sigma: 0.25 };
    let slow = Latency::LogNormal { median: 0.100, sigma: 0.25 };
    if uniform(rng) < 0.01 { slow.sample(rng) } else { fast.sample(rng) }
}

/// The hedging policy of the experiment: hedge after the live p95 (`low = high = 95 %`), at most
/// one hedge per leaf request, a budget of 10 % so that the delay, not the budget, decides.
#[must_use]
pub fn tail_hedge_config() -> HedgeConfig {
    HedgeConfig {
        static_delay: Nanos::from_millis(10),
        min_delay: Nanos::from_micros(100),
        low_ppm: 950_000,
        high_ppm: 950_000,
        weight_ppm: 0,
        budget_ratio_ppm: 100_000,
        budget_burst: 100,
        ..HedgeConfig::DEFAULT
    }
}

/// Runs `requests` requests, one per millisecond, each fanned out to `fanout` leaves; the
/// request answers when its last leaf does. With `hedged`, each leaf request is hedged by the
/// real [`HedgePolicy`] ([`tail_hedge_config`]) to another replica.
#[must_use]
pub fn fan_out(requests: u32, fanout: u32, hedged: bool, seed: u64) -> FanOut {
    let policy: Option<HedgePolicy> =
        if hedged { HedgePolicy::new(tail_hedge_config()).ok() } else { None };
    let mut rng = SplitMix64::new(seed);
    let (mut leaf_requests, mut sent_hedges) = (0u64, 0u64);
    let mut latencies = Vec::with_capacity(requests as usize);
    for r in 0..requests {
        let now = Nanos::from_millis(u64::from(r));
        let mut worst = 0.0f64;
        for _ in 0..fanout {
            leaf_requests += 1;
            let first = leaf(&mut rng);
            let mut answered = first;
            if let Some(p) = &policy {
                p.on_call();
                if let HedgeDecision::HedgeAfter(d) = p.decide(0, now) {
                    let d = to_secs(d);
                    if first > d && p.try_launch(0).is_ok() {
                        leaf_requests += 1;
                        sent_hedges += 1;
                        let second = leaf(&mut rng);
                        answered = first.min(d + second);
                        // Each answer is recorded from its own start.
                        let own = if d + second < first { second } else { first };
                        p.record_latency(secs(own), now);
                    } else {
                        p.record_latency(secs(first), now);
                    }
                }
            }
            worst = worst.max(answered);
        }
        latencies.push(secs(worst).as_u64());
    }
    latencies.sort_unstable();
    let latency = [0.5, 0.99, 0.999].map(|q| percentile(&latencies, q));
    FanOut {
        hedged,
        requests: u64::from(requests),
        leaf_requests,
        hedges: sent_hedges,
        latency,
        latencies,
    }
}

/// The contention table as CSV.
#[must_use]
pub fn contention_csv(clients: u32, table: &[Contention]) -> String {
    let mut csv = String::from("clients,jitter,calls,completion_s\n");
    for c in table {
        let _ = writeln!(csv, "{clients},{},{},{:.4}", c.jitter, c.calls, c.completion);
    }
    csv
}

/// The fan-out results as CSV.
#[must_use]
pub fn fan_out_csv(results: &[&FanOut]) -> String {
    let mut csv =
        String::from("hedged,requests,leaf_requests,hedges,extra,p50_ms,p99_ms,p999_ms\n");
    for f in results {
        let _ = writeln!(
            csv,
            "{},{},{},{},{:.4},{:.3},{:.3},{:.3}",
            f.hedged,
            f.requests,
            f.leaf_requests,
            f.hedges,
            f.extra(),
            f.latency[0] * 1e3,
            f.latency[1] * 1e3,
            f.latency[2] * 1e3
        );
    }
    csv
}

/// The clients of the default contention experiment.
pub const CONTENTION_CLIENTS: u32 = 100;
/// The runs it averages.
pub const CONTENTION_RUNS: u32 = 10;
/// The requests of the default fan-out experiment.
pub const FAN_OUT_REQUESTS: u32 = 20_000;
/// Its fan-out.
pub const FAN_OUT: u32 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    /// Brooker 2015: with contention, unjittered exponential backoff needs far more calls than
    /// full or decorrelated jitter, and equal jitter sits between.
    #[test]
    fn jitter_cuts_contention_calls() {
        let t = contention_table(CONTENTION_CLIENTS, CONTENTION_RUNS, 1);
        let calls = |n: &str| t.iter().find(|c| c.jitter == n).map_or(0, |c| c.calls);
        let (none, full, equal, dec) =
            (calls("none"), calls("full"), calls("equal"), calls("decorrelated"));
        // Tolerance: "far fewer" is at least 2× fewer.
        assert!(full * 2 < none, "full {full} vs none {none}");
        assert!(dec * 2 < none, "decorrelated {dec} vs none {none}");
        assert!(equal < none && full < equal, "equal {equal} between full {full} and none {none}");
        // Without jitter every round lets exactly one client through: N(N+1)/2 calls.
        assert_eq!(none, 100 * 101 / 2);
        // Completion time, as published: equal jitter is slower than full jitter, decorrelated
        // faster than full, and no jitter by far the slowest.
        let time = |n: &str| t.iter().find(|c| c.jitter == n).map_or(0.0, |c| c.completion);
        assert!(time("equal") > time("full"), "{t:?}");
        assert!(time("decorrelated") < time("full"), "{t:?}");
        assert!(time("none") > 10.0 * time("equal"), "{t:?}");
    }

    /// Dean and Barroso 2013: hedging after the p95 cuts p99.9 by about an order of magnitude
    /// for a few percent extra requests.
    #[test]
    fn hedging_cuts_the_tail() {
        let plain = fan_out(FAN_OUT_REQUESTS, FAN_OUT, false, 1);
        let hedged = fan_out(FAN_OUT_REQUESTS, FAN_OUT, true, 1);
        let cut = plain.latency[2] / hedged.latency[2];
        // Tolerance: at least 5× (the paper: 1,800 ms to 74 ms, 24×).
        assert!(cut >= 5.0, "p99.9 {} -> {} ({cut}×)", plain.latency[2], hedged.latency[2]);
        // A few percent extra: 2 % to 8 % of leaf requests (the p95 hedges about 5 %).
        let extra = hedged.extra();
        assert!((0.02..=0.08).contains(&extra), "extra {extra}");
        assert_eq!(plain.hedges, 0);
        // The median barely moves.
        assert!(hedged.latency[0] <= plain.latency[0] * 1.05);
    }
}
