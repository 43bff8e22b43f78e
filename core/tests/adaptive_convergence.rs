//! Both adaptive limits against a simulated server whose latency rises with concurrency beyond a
//! knee, driving a real [`Bulkhead`] through [`feed`]; deterministic (no clock, no randomness).
//!
//! The server: a call that runs at concurrency `L` takes `BASE · max(L, KNEE) / KNEE` (flat up to
//! the knee, then every extra call queues), times `SPIKE_FACTOR` during a latency spike. Demand
//! is unbounded: each round, the client takes every permit the bulkhead grants, the calls run at
//! that concurrency, complete, and each one is fed back as a sample.
#![cfg(not(loom))]

use portcullis::Nanos;
use portcullis::adaptive::{
    AdaptiveLimit, Aimd, AimdConfig, Gradient, GradientConfig, Sample, feed,
};
use portcullis::bulkhead::Bulkhead;

const KNEE: u64 = 50;
const BASE: Nanos = Nanos::from_millis(10);
const SPIKE_FACTOR: u64 = 10;

/// One round at the bulkhead's current limit; returns the concurrency it ran at.
fn round(limit: &impl AdaptiveLimit, bulkhead: &Bulkhead, spike: bool) -> u32 {
    let mut permits = Vec::new();
    while let Ok(p) = bulkhead.try_acquire(1) {
        permits.push(p);
    }
    let concurrency = u32::try_from(permits.len()).unwrap();
    let factor = if spike { SPIKE_FACTOR } else { 1 };
    let rtt = Nanos::new(BASE.as_u64() * u64::from(concurrency).max(KNEE) / KNEE * factor);
    for p in permits {
        drop(p);
        // In steady state every call is admitted at the round's concurrency.
        feed(limit, bulkhead, Sample { rtt, in_flight: concurrency, dropped: false });
    }
    concurrency
}

/// Runs `rounds` rounds, with a spike over `spike`; returns the concurrency of every round.
fn run(
    limit: &impl AdaptiveLimit,
    rounds: usize,
    spike: core::ops::Range<usize>,
    estimate: impl Fn() -> u32,
) -> Vec<u32> {
    let bulkhead = Bulkhead::new(limit.limit()).unwrap();
    (0..rounds)
        .map(|r| {
            round(limit, &bulkhead, spike.contains(&r));
            estimate()
        })
        .collect()
}

fn band(trace: &[u32]) -> (u32, u32) {
    (*trace.iter().min().unwrap(), *trace.iter().max().unwrap())
}

fn aimd() -> Aimd {
    // Overload = 10 % slower than the no-load RTT: the limit sawtooths just above the knee.
    let threshold = Nanos::new(BASE.as_u64() * 11 / 10);
    Aimd::new(AimdConfig { initial: 5, ..AimdConfig::new(threshold) }).unwrap()
}

fn gradient() -> Gradient {
    let config = GradientConfig { initial: 5, tolerance_permille: 1000, ..GradientConfig::DEFAULT };
    Gradient::new(config).unwrap()
}

/// AIMD from a limit of 5 climbs by one per round and then sawtooths from 56 (1.1 · KNEE + 1: the
/// first concurrency slower than the threshold) down to 45 (two decreases in the overloaded round,
/// ⌊0.9 · 56⌋ = 50 then ⌊0.9 · 50⌋ = 45) and back: within [0.9 · KNEE, 1.15 · KNEE] over the last
/// 200 of 400 rounds.
#[test]
fn aimd_converges_near_the_knee() {
    let a = aimd();
    let trace = run(&a, 400, 0..0, || a.limit());
    let (lo, hi) = band(&trace[200..]);
    println!("aimd steady band: {lo}..={hi}");
    assert!(lo >= 45 && hi <= 57, "steady band {lo}..={hi}");
}

/// The gradient limit converges to its fixed point `KNEE + queue_size` = 54 (tolerance 1) and
/// stays within `[KNEE, KNEE + queue_size + 2]` over the last 200 of 400 rounds, probes included
/// (the estimate is what a probe restores).
#[test]
fn gradient_converges_near_the_knee() {
    let g = gradient();
    let trace = run(&g, 400, 0..0, || g.estimate());
    let (lo, hi) = band(&trace[200..]);
    println!("gradient steady band: {lo}..={hi}");
    assert!(lo >= 50 && hi <= 56, "steady band {lo}..={hi}");
}

/// A 20-round spike (latency ×10) drives AIMD down; once it ends the limit climbs back by one per
/// round and is back in its steady band within 60 rounds.
#[test]
fn aimd_recovers_after_a_spike() {
    let a = aimd();
    let trace = run(&a, 500, 200..220, || a.limit());
    let low = *trace[200..220].iter().min().unwrap();
    println!("aimd spike low {low}, after: {:?}", &trace[220..290]);
    assert!(low <= 20, "the spike must cut the limit: {low}");
    let back = trace[220..].iter().position(|&l| l >= 50).unwrap();
    println!("aimd recovered in {back} rounds");
    assert!(back <= 60, "recovered in {back} rounds");
    let (lo, hi) = band(&trace[300..]);
    assert!(lo >= 45 && hi <= 57, "steady band after the spike {lo}..={hi}");
}

/// The same spike (gradient 0.5 in every window: ×0.9 + 0.8 per window) cuts the gradient limit
/// from 54 to about 13; it then grows by 0.8 per window and is back at the knee within 60 rounds
/// of the end of the spike.
#[test]
fn gradient_recovers_after_a_spike() {
    let g = gradient();
    let trace = run(&g, 500, 200..220, || g.estimate());
    let low = *trace[200..220].iter().min().unwrap();
    println!("gradient spike low {low}, after: {:?}", &trace[220..240]);
    assert!(low <= 20, "the spike must cut the limit: {low}");
    let back = trace[220..].iter().position(|&l| l >= 50).unwrap();
    println!("gradient recovered in {back} rounds");
    assert!(back <= 60, "recovered in {back} rounds");
    let (lo, hi) = band(&trace[300..]);
    assert!(lo >= 50 && hi <= 56, "steady band after the spike {lo}..={hi}");
}
