//! loom models of the latency histograms, the hedge budget and the health machine: two worker
//! threads (and the main thread reading).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test
//! loom_histogram`: 43 s for the cold release build, then 0.36 s for the five models (2 shared
//! cores).
#![cfg(loom)]

use loom::thread;
use portcullis::Nanos;
use portcullis::health::{HealthConfig, HealthMachine, HealthState};
use portcullis::hedge::{HedgeBudget, HedgeConfig, HedgePolicy};
use portcullis::histogram::{Histogram, RollingHistogram};
use std::sync::Arc;

/// Concurrent records never lose a count: two threads record two samples each (one in the
/// overflow counter) while the main thread reads; reads never exceed what was recorded and never
/// go down, and at the end every sample is counted in its own bucket.
#[test]
fn concurrent_records_never_lose_a_count() {
    loom::model(|| {
        // Rows [0, 2) and [2, 4): every value below 4 is exact; 4 and above overflow.
        let h = Arc::new(Histogram::<2, 2>::new());
        let ha = Arc::clone(&h);
        let ta = thread::spawn(move || {
            ha.record(Nanos::new(1));
            ha.record(Nanos::new(3));
        });
        let hb = Arc::clone(&h);
        let tb = thread::spawn(move || {
            hb.record(Nanos::new(1));
            hb.record(Nanos::new(9));
        });
        let first = h.count();
        let second = h.count();
        assert!(first <= second && second <= 4, "{first} then {second}");
        ta.join().unwrap();
        tb.join().unwrap();
        assert_eq!(h.count(), 4);
        assert_eq!(h.overflow_count(), 1);
        let q = h.percentiles(&[0, 500_000, 750_000, 1_000_000]).unwrap();
        assert_eq!(q.map(Nanos::as_u64), [1, 1, 3, 4]);
    });
}

/// The hedge budget never allows more than `burst + ⌊ratio · deposits⌋` hedges: a burst of 1
/// (spent by the main thread first) and a ratio of 0.5; two threads each deposit once and try to
/// withdraw twice, so together they may get at most ⌊0.5 · 2⌋ = 1 hedge, and the balance accounts
/// for every unit deposited.
#[test]
fn hedge_budget_never_exceeds_its_rule() {
    loom::model(|| {
        let b = Arc::new(HedgeBudget::new(500_000, 1).unwrap());
        assert!(b.try_withdraw(), "the burst");
        let worker = |b: Arc<HedgeBudget>| {
            move || {
                b.deposit();
                u64::from(b.try_withdraw()) + u64::from(b.try_withdraw())
            }
        };
        let ta = thread::spawn(worker(Arc::clone(&b)));
        let tb = thread::spawn(worker(Arc::clone(&b)));
        let hedges = ta.join().unwrap() + tb.join().unwrap();
        assert!(hedges <= 1, "{hedges} hedges allowed");
        // No deposit reached the cap (1 hedge), so units in = units out + balance, exactly.
        assert_eq!(hedges * 1_000_000 + b.balance_ppm(), 2 * 500_000);
    });
}

/// The rotation of a rolling bank: a sample of period 0 exists; two threads record in period 2
/// (the same bank), racing to rotate it. The stale sample never survives, the rotating thread's
/// own sample always does; the other thread's sample may be erased by the reset (documented).
#[test]
fn rolling_rotation_drops_stale_samples_only() {
    loom::model(|| {
        let h = Arc::new(RollingHistogram::<2, 2>::new(Nanos::new(10)).unwrap());
        h.record(Nanos::new(3), Nanos::new(5)); // period 0, bank 0
        let ha = Arc::clone(&h);
        let ta = thread::spawn(move || ha.record(Nanos::new(1), Nanos::new(25)));
        let hb = Arc::clone(&h);
        let tb = thread::spawn(move || hb.record(Nanos::new(1), Nanos::new(26)));
        ta.join().unwrap();
        tb.join().unwrap();
        let n = h.count(Nanos::new(29));
        assert!((1..=2).contains(&n), "{n} samples");
        assert_eq!(
            h.percentile(1_000_000, Nanos::new(29)),
            Some(Nanos::new(1)),
            "stale sample gone"
        );
    });
}

/// Concurrent results are applied one at a time: two failures racing on a machine that degrades
/// after two end in Degraded, and exactly one of them reports the transition.
#[test]
fn health_results_apply_one_at_a_time() {
    loom::model(|| {
        let c = HealthConfig {
            degrade_after: [2, 2, 2],
            recover_after: [3, 3, 3],
            ..HealthConfig::DEFAULT
        };
        let m = Arc::new(HealthMachine::new(c).unwrap());
        let ma = Arc::clone(&m);
        let ta = thread::spawn(move || ma.record(false, Nanos::new(1)).changed());
        let mb = Arc::clone(&m);
        let tb = thread::spawn(move || mb.record(false, Nanos::new(2)).changed());
        let changed = [ta.join().unwrap(), tb.join().unwrap()];
        assert_eq!(m.state(), HealthState::Degraded);
        assert_eq!(changed.iter().filter(|c| **c).count(), 1, "{changed:?}");
    });
}

/// The cached hedge delay under a concurrent refresh: one thread records a latency and asks for the
/// delay while another asks too; every answer is the static delay (no live sample yet) or the
/// delay computed from the sample, never a torn or stale-forever value, and a refresh after the
/// interval sees the sample.
#[test]
fn hedge_delay_refresh_is_consistent() {
    loom::model(|| {
        let config = HedgeConfig {
            min_samples: 1,
            min_delay: Nanos::ZERO,
            static_delay: Nanos::new(50),
            refresh_interval: Nanos::new(10),
            window: Nanos::new(1_000),
            ..HedgeConfig::DEFAULT
        };
        let p = Arc::new(HedgePolicy::<2, 2>::new(config).unwrap());
        let now = Nanos::new(100);
        let pa = Arc::clone(&p);
        let ta = thread::spawn(move || {
            pa.record_latency(Nanos::new(3), now);
            pa.delay(now)
        });
        let pb = Arc::clone(&p);
        let tb = thread::spawn(move || pb.delay(now));
        for d in [ta.join().unwrap(), tb.join().unwrap()] {
            assert!(d == Nanos::new(50) || d == Nanos::new(3), "{d}");
        }
        assert_eq!(p.delay(Nanos::new(110)), Nanos::new(3), "the next refresh sees the sample");
    });
}
