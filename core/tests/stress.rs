//! Stress tests: many OS threads hammer one shared object of each primitive, checking its
//! invariants after every operation, then check exact totals once the threads have stopped.
//!
//! Ignored by default (they run for seconds). Run with `scripts/stress.sh [seconds]`, or:
//! `PCL_STRESS_SECS=2 cargo test -p portcullis --release --test stress -- --ignored`.
//!
//! Each test is bounded twice: by `PCL_STRESS_SECS` seconds of wall time (default 1) and by
//! `PCL_STRESS_ITERS` operations per thread (default 2,000,000). `PCL_STRESS_THREADS` sets the
//! number of worker threads (default 4: more threads than this machine's cores, so that threads
//! are preempted in the middle of operations).
//!
//! loom explores every interleaving of two or three threads doing a few operations; these tests
//! cover what loom cannot: millions of operations on real hardware with real preemption, long
//! enough for a counter word to fill and for bucket tags to age.
#![cfg(not(loom))]
#![allow(
    clippy::many_single_char_names,
    reason = "w, b, t, c, m: the object, the bounds, the thread, the counts, the machine"
)]

use portcullis::Nanos;
use portcullis::health::{HealthConfig, HealthMachine, HealthState};
use portcullis::hedge::HedgeBudget;
use portcullis::histogram::Histogram;
use portcullis::rng::SplitMix64;
use portcullis::window::{CountWindow, Outcome, TimeWindow, WindowCounts};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The bounds of one stress run.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    threads: u64,
    iters: u64,
    until: Instant,
}

impl Bounds {
    fn from_env() -> Bounds {
        let secs = env_u64("PCL_STRESS_SECS", 1);
        Bounds {
            threads: env_u64("PCL_STRESS_THREADS", 4).max(2),
            iters: env_u64("PCL_STRESS_ITERS", 2_000_000),
            until: Instant::now() + Duration::from_secs(secs),
        }
    }

    /// Whether a thread that has done `i` operations goes on (the clock is read every 256).
    fn go_on(&self, i: u64) -> bool {
        i < self.iters && (!i.is_multiple_of(256) || Instant::now() < self.until)
    }
}

/// Runs `worker(thread_index, bounds)` on `threads` scoped threads and returns their results.
fn hammer<T: Send>(b: Bounds, worker: impl Fn(u64, Bounds) -> T + Sync) -> Vec<T> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..b.threads)
            .map(|t| {
                s.spawn({
                    let worker = &worker;
                    move || worker(t, b)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("stress worker panicked")).collect()
    })
}

/// A random outcome.
fn pick(rng: &mut SplitMix64) -> Outcome {
    match rng.below(4) {
        0 => Outcome::Success,
        1 => Outcome::Failure,
        2 => Outcome::SlowSuccess,
        _ => Outcome::SlowFailure,
    }
}

fn assert_bounded(c: WindowCounts, max_calls: u64) {
    assert!(c.calls <= max_calls, "{c:?} exceeds {max_calls} calls");
    assert!(c.failures <= c.calls && c.slow <= c.calls, "{c:?}: a subset exceeds the calls");
}

/// Per-thread tallies of what was counted.
#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    ops: u64,
    counted: WindowCounts,
    not_counted: u64,
}

impl Tally {
    fn add(&mut self, o: Outcome, counted: bool) {
        if counted {
            self.counted.calls += 1;
            self.counted.failures += u64::from(o.is_failure());
            self.counted.slow += u64::from(o.is_slow());
        } else {
            self.not_counted += 1;
        }
    }
}

fn total(tallies: &[Tally]) -> Tally {
    let mut t = Tally::default();
    for x in tallies {
        t.ops += x.ops;
        t.not_counted += x.not_counted;
        t.counted.calls += x.counted.calls;
        t.counted.failures += x.counted.failures;
        t.counted.slow += x.counted.slow;
    }
    t
}

/// Count window of 64: bounds after every record and read; a record refused under concurrency
/// is rare; afterwards, 64 sequential records replace everything (no stale or torn slot).
#[test]
#[ignore = "stress: run by scripts/stress.sh"]
fn count_window_under_contention() {
    let w = CountWindow::<64>::new();
    let b = Bounds::from_env();
    let tallies = hammer(b, |t, b| {
        let mut rng = SplitMix64::new(t + 1);
        let mut tally = Tally::default();
        while b.go_on(tally.ops) {
            tally.ops += 1;
            let o = pick(&mut rng);
            tally.add(o, w.record(o));
            assert_bounded(w.counts(), 64);
            if rng.below(4096) == 0 {
                w.reset();
            }
        }
        tally
    });
    let t = total(&tallies);
    assert!(t.counted.calls > t.not_counted, "most records are counted: {t:?}");
    for _ in 0..64 {
        assert!(w.record(Outcome::SlowFailure), "a sequential record is counted");
    }
    assert_eq!(w.counts(), WindowCounts { calls: 64, failures: 64, slow: 64 });
    println!("count window: {} ops on {} threads, {} not counted", t.ops, b.threads, t.not_counted);
}

/// Time window, phase 1: every thread records within one bucket, so nothing expires and the
/// window must hold exactly what the threads were told was counted (no lost update). Phase 2:
/// threads move a shared clock forward while recording and reading; bounds after every step.
#[test]
#[ignore = "stress: run by scripts/stress.sh"]
fn time_window_under_contention() {
    let w = TimeWindow::<16>::with_buckets(Nanos::from_millis(16), 16).expect("valid");
    let b = Bounds::from_env();
    // Phase 1 stays below the per-bucket saturation of failures and slow calls (2^20 - 1), so
    // that the totals must match exactly.
    let half = Bounds {
        until: Instant::now() + (b.until - Instant::now()) / 2,
        iters: b.iters.min(1_000_000 / b.threads),
        ..b
    };
    let now = Nanos::from_millis(5);
    let tallies = hammer(half, |t, b| {
        let mut rng = SplitMix64::new(t + 7);
        let mut tally = Tally::default();
        while b.go_on(tally.ops) {
            tally.ops += 1;
            let o = pick(&mut rng);
            tally.add(o, w.record(o, now));
            let c = w.counts(now);
            assert_bounded(c, u64::MAX);
        }
        tally
    });
    let p1 = total(&tallies);
    assert_eq!(p1.not_counted, 0, "a record in the newest bucket is always counted");
    assert_eq!(w.counts(now), p1.counted, "no record lost in {} ops", p1.ops);

    let clock = AtomicU64::new(Nanos::from_millis(100).as_u64());
    let accepted = AtomicU64::new(0);
    hammer(b, |t, b| {
        let mut rng = SplitMix64::new(t + 99);
        let mut i = 0;
        while b.go_on(i) {
            i += 1;
            // Mostly small steps forward, sometimes a late (past) record.
            let at = if rng.below(8) == 0 {
                clock.load(Ordering::Relaxed).saturating_sub(rng.below(40_000_000))
            } else {
                clock.fetch_add(rng.below(20_000), Ordering::Relaxed)
            };
            let o = pick(&mut rng);
            accepted.fetch_add(1, Ordering::SeqCst);
            let _ = w.record(o, Nanos::new(at));
            let c = w.counts(Nanos::new(clock.load(Ordering::Relaxed)));
            // Never more than was ever offered since the reset-free start of phase 2, plus phase 1.
            assert_bounded(c, accepted.load(Ordering::SeqCst) + p1.counted.calls);
        }
    });
    let end = Nanos::new(clock.load(Ordering::Relaxed));
    assert_eq!(w.counts(end.saturating_add(Nanos::from_millis(16))).calls, 0, "all expired");
    println!("time window: {} + {} ops", p1.ops, accepted.load(Ordering::Relaxed));
}

/// Histogram: the count a thread reads never goes down (each counter only grows, and reads of
/// one location are coherent), and once the threads stop it is exactly the number of records.
#[test]
#[ignore = "stress: run by scripts/stress.sh"]
fn histogram_under_contention() {
    let h = Histogram::<32, 36>::new();
    let b = Bounds::from_env();
    let max_seen = AtomicU64::new(0);
    let ops: Vec<u64> = hammer(b, |t, b| {
        let mut rng = SplitMix64::new(t + 3);
        let mut last = 0;
        let mut i = 0;
        while b.go_on(i) {
            i += 1;
            let v = rng.next_u64() >> (24 + rng.below(40));
            max_seen.fetch_max(v, Ordering::Relaxed);
            h.record(Nanos::new(v));
            if i % 64 == 0 {
                let n = h.count();
                assert!(n >= last, "count went down: {last} -> {n}");
                last = n;
                let q = h.percentiles(&[0, 500_000, 1_000_000]).expect("not empty");
                assert!(q[0] <= q[1] && q[1] <= q[2], "percentiles out of order: {q:?}");
            }
        }
        i
    });
    let n: u64 = ops.iter().sum();
    assert_eq!(h.count(), n, "a record was lost");
    let max = Nanos::new(max_seen.load(Ordering::Relaxed));
    let (low, high) = h.bucket_range(max).expect("tracked");
    let top = h.percentile(1_000_000).expect("not empty");
    assert!(low <= top && top <= high, "max {max:?} answered {top:?}");
    println!("histogram: {n} records");
}

/// Hedge budget: at every moment, hedges granted <= burst + ratio · deposits / 10⁶ (deposits
/// counted before they start, grants after they succeed), and exactly so at the end.
#[test]
#[ignore = "stress: run by scripts/stress.sh"]
fn hedge_budget_under_contention() {
    const RATIO_PPM: u32 = 50_000; // 5 %
    const BURST_HEDGES: u32 = 3;
    const RATIO: u64 = RATIO_PPM as u64;
    const BURST: u64 = BURST_HEDGES as u64;
    let budget = HedgeBudget::new(RATIO_PPM, BURST_HEDGES).expect("valid");
    let deposits = AtomicU64::new(0);
    let granted = AtomicU64::new(0);
    let b = Bounds::from_env();
    hammer(b, |t, b| {
        let mut rng = SplitMix64::new(t + 11);
        let mut i = 0;
        while b.go_on(i) {
            i += 1;
            if rng.below(4) == 0 {
                if budget.try_withdraw() {
                    granted.fetch_add(1, Ordering::SeqCst);
                }
            } else {
                deposits.fetch_add(1, Ordering::SeqCst);
                budget.deposit();
            }
            // Granted first, then deposits: every grant counted was paid by deposits started
            // before it, which the later read includes.
            let g = granted.load(Ordering::SeqCst);
            let d = deposits.load(Ordering::SeqCst);
            assert!(g <= BURST + RATIO * d / 1_000_000, "{g} hedges after {d} deposits");
            assert!(budget.balance_ppm() <= BURST * 1_000_000, "balance above the burst");
        }
    });
    let (g, d) = (granted.load(Ordering::SeqCst), deposits.load(Ordering::SeqCst));
    assert!(g <= BURST + RATIO * d / 1_000_000, "{g} hedges after {d} deposits");
    println!("hedge budget: {g} hedges granted for {d} deposits");
}

/// Health machine: every transition returned moves one state at most, a snapshot never shows
/// both streaks at once, and afterwards the documented number of successes brings it back.
#[test]
#[ignore = "stress: run by scripts/stress.sh"]
fn health_machine_under_contention() {
    let c = HealthConfig {
        degrade_after: [2, 2, 3],
        recover_after: [3, 4, 5],
        ..HealthConfig::DEFAULT
    };
    let m = HealthMachine::new(c).expect("valid");
    let clock = AtomicU64::new(1);
    let b = Bounds::from_env();
    hammer(b, |t, b| {
        let mut rng = SplitMix64::new(t + 5);
        let mut i = 0;
        while b.go_on(i) {
            i += 1;
            let now = Nanos::new(clock.fetch_add(1, Ordering::Relaxed));
            let tr = m.record(rng.below(3) != 0, now);
            assert!((tr.from as usize).abs_diff(tr.to as usize) <= 1, "{tr:?} skipped a state");
            let s = m.snapshot();
            assert!(
                s.consecutive_failures == 0 || s.consecutive_successes == 0,
                "both streaks at once: {s:?}"
            );
            if i % 100_000 == 0 {
                m.reset();
            }
        }
    });
    // From any state, 5 + 4 + 3 successes in a row reach Healthy.
    let now = Nanos::new(clock.load(Ordering::Relaxed));
    for _ in 0..12 {
        let _ = m.record(true, now);
    }
    assert_eq!(m.state(), HealthState::Healthy);
}
