//! loom models of the bulkhead and of the adaptive limits: two worker threads and the main
//! thread.
//!
//! Run (2 min 19 s of cold release build on 2 shared cores, then 0.17 s for the models):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_bulkhead`
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;
use portcullis::Nanos;
use portcullis::adaptive::{
    AdaptiveLimit, Aimd, AimdConfig, Gradient, GradientConfig, Sample, feed,
};
use portcullis::bulkhead::{Bulkhead, ReleaseError};
use std::sync::Arc;

/// Holds one permit of `b` while checking, through `inside`, how many holders there are.
fn hold_one(b: &Bulkhead, inside: &AtomicUsize, max: usize) -> bool {
    match b.try_acquire(1) {
        Ok(p) => {
            // Relaxed: the count is ordered by the bulkhead's own Acquire/Release, which is
            // what this model checks (a holder's decrement happens-before the next admission).
            let n = inside.fetch_add(1, Ordering::Relaxed) + 1;
            assert!(n <= max, "{n} holders of a bulkhead of {max}");
            inside.fetch_sub(1, Ordering::Relaxed);
            drop(p);
            true
        }
        Err(_) => false,
    }
}

/// Two threads take and release one permit of a bulkhead of 2 while the main thread resizes it
/// to 1 and then takes a permit itself. Never more than 2 holders; once the main thread is
/// admitted after its resize, it is alone (the permits out before the resize were released, and
/// no one else can be admitted at a limit of 1); at the end nothing is in flight.
#[test]
fn never_oversubscribed_while_resized() {
    loom::model(|| {
        let b = Arc::new(Bulkhead::new(2).unwrap());
        let inside = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (b, inside) = (Arc::clone(&b), Arc::clone(&inside));
                thread::spawn(move || hold_one(&b, &inside, 2))
            })
            .collect();
        assert_eq!(b.resize(1), Ok(2));
        hold_one(&b, &inside, 1);
        let admitted = workers.into_iter().filter(|_| true).map(|t| t.join().unwrap()).count();
        assert_eq!(admitted, 2);
        let s = b.snapshot();
        assert_eq!((s.in_flight, s.limit), (0, 1));
        assert_eq!(s.admitted + s.rejected, 3, "every decision is counted once: {s:?}");
    });
}

/// A bulkhead of 1 is a mutex: two threads that each get the permit (one after the other) write
/// a plain, non-atomic cell under it, and loom's race detector sees no data race, because the
/// release (Release) happens-before the next admission (Acquire).
#[test]
fn bulkhead_of_one_orders_its_holders() {
    struct Shared {
        bulkhead: Bulkhead,
        cell: UnsafeCell<u64>,
    }
    // SAFETY: `cell` is only accessed by the holder of the bulkhead's single permit.
    unsafe impl Sync for Shared {}
    loom::model(|| {
        let shared =
            Arc::new(Shared { bulkhead: Bulkhead::new(1).unwrap(), cell: UnsafeCell::new(0) });
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    if let Ok(p) = shared.bulkhead.try_acquire(1) {
                        // SAFETY: we hold the only permit.
                        shared.cell.with_mut(|v| unsafe { *v += 1 });
                        drop(p);
                    }
                })
            })
            .collect();
        for t in workers {
            t.join().unwrap();
        }
        let p = shared.bulkhead.try_acquire(1).unwrap();
        // SAFETY: we hold the only permit, and both workers are joined.
        let v = shared.cell.with(|v| unsafe { *v });
        assert!((1..=2).contains(&v));
        drop(p);
    });
}

/// All or nothing: two threads ask for 2 permits of a bulkhead of 3 and keep them; exactly one is
/// admitted, the other refused, and the counters say so.
#[test]
fn all_or_nothing_under_contention() {
    loom::model(|| {
        let b = Arc::new(Bulkhead::new(3).unwrap());
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let b = Arc::clone(&b);
                thread::spawn(move || b.try_acquire_raw(2).is_ok())
            })
            .collect();
        let wins = workers.into_iter().map(|t| t.join().unwrap()).filter(|&ok| ok).count();
        assert_eq!(wins, 1);
        let s = b.snapshot();
        assert_eq!((s.in_flight, s.admitted, s.rejected, s.available), (2, 1, 1, 1));
    });
}

/// A refusal is linearizable: thread A releases the only permit and then raises a flag (Relaxed,
/// so no happens-before reaches B through it); thread B, having seen the flag, must be admitted,
/// because its acquisition started after the release completed. A refusal decided by a plain
/// load could read the stale "1 in flight" here; the CAS that confirms every refusal cannot.
#[test]
fn refusal_is_linearizable() {
    loom::model(|| {
        admitted_after_a_flagged_release(
            Bulkhead::new(1).unwrap(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    });
}

/// Thread A releases the only permit of `b` and then raises a flag with `store`; thread B, having
/// read the flag with `load`, tries to take the permit and must be admitted.
fn admitted_after_a_flagged_release(b: Bulkhead, store: Ordering, load: Ordering) {
    let b = Arc::new(b);
    let held = b.try_acquire_raw(1).unwrap();
    let released = Arc::new(AtomicBool::new(false));
    let (ba, ra) = (Arc::clone(&b), Arc::clone(&released));
    let ta = thread::spawn(move || {
        ba.release(held).unwrap();
        ra.store(true, store);
    });
    let (bb, rb) = (Arc::clone(&b), Arc::clone(&released));
    let tb = thread::spawn(move || {
        if rb.load(load) {
            assert!(bb.try_acquire_raw(1).is_ok(), "refused after the release was seen");
        }
    });
    ta.join().unwrap();
    tb.join().unwrap();
}

/// An uncounted refusal is decided on a load, fresh up to happens-before: a release that
/// happens-before the acquisition (here through a Release/Acquire flag) is always seen.
#[test]
fn uncounted_refusal_sees_what_happens_before() {
    loom::model(|| {
        let b = Bulkhead::new(1).unwrap().count_refusals(false);
        admitted_after_a_flagged_release(b, Ordering::Release, Ordering::Acquire);
    });
}

/// ...and no more than that: with the flag Relaxed (no happens-before), loom finds the execution
/// in which the uncounted refusal reads the stale "1 in flight" — the guarantee the docs state
/// for uncounted refusals is the exact one, and the counted refusal's CAS is what rules this out
/// (`refusal_is_linearizable`).
#[test]
#[should_panic(expected = "refused after the release was seen")]
fn uncounted_refusal_can_miss_an_unordered_release() {
    loom::model(|| {
        let b = Bulkhead::new(1).unwrap().count_refusals(false);
        admitted_after_a_flagged_release(b, Ordering::Relaxed, Ordering::Relaxed);
    });
}

/// Two threads each release one permit when only one is out: exactly one release succeeds, the
/// other is refused and counted, and capacity never grows.
#[test]
fn over_release_is_detected() {
    loom::model(|| {
        let b = Arc::new(Bulkhead::new(2).unwrap());
        let _ = b.try_acquire_raw(1).unwrap();
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let b = Arc::clone(&b);
                thread::spawn(move || b.release(1))
            })
            .collect();
        let results: Vec<_> = workers.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.contains(&Err(ReleaseError::OverRelease { released: 1, in_flight: 0 })));
        let s = b.snapshot();
        assert_eq!((s.in_flight, s.over_releases, s.available), (0, 1, 2));
        assert_eq!(b.try_acquire_raw(3).is_err(), true, "capacity did not grow");
    });
}

/// Two threads record into one AIMD limit: no sample is lost. A limit of 2 needs two fast
/// samples for +1; whichever order, the limit ends at 3.
#[test]
fn aimd_samples_are_not_lost() {
    loom::model(|| {
        let config = AimdConfig { initial: 2, ..AimdConfig::new(Nanos::new(100)) };
        let a = Arc::new(Aimd::new(config).unwrap());
        let fast = Sample { rtt: Nanos::new(10), in_flight: 2, dropped: false };
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let a = Arc::clone(&a);
                thread::spawn(move || a.record(fast))
            })
            .collect();
        let changes: Vec<_> = workers.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(a.limit(), 3);
        assert_eq!(changes.iter().filter(|c| **c == Some(3)).count(), 1, "{changes:?}");
    });
}

/// Two threads complete a gradient window of 2 samples: exactly one of them applies it, once.
#[test]
fn gradient_window_is_applied_once() {
    loom::model(|| {
        let config = GradientConfig {
            initial: 2,
            floor: 1,
            queue_size: 20,
            smoothing_permille: 1000,
            probe_interval: 0,
            ..GradientConfig::DEFAULT
        };
        let g = Arc::new(Gradient::new(config).unwrap());
        let s = Sample { rtt: Nanos::new(1_000), in_flight: 2, dropped: false };
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let g = Arc::clone(&g);
                thread::spawn(move || g.record(s))
            })
            .collect();
        let changes: Vec<_> = workers.into_iter().map(|t| t.join().unwrap()).collect();
        // One window: 2 · 1 + 20 = 22 (smoothing 1). Applied twice it would be 42.
        assert_eq!(g.estimate(), 22);
        assert_eq!(changes.iter().filter(|c| c.is_some()).count(), 1, "{changes:?}");
    });
}

/// Two threads feed one AIMD limit into one bulkhead: A a fast sample (1 → 2), B a drop (2 → 1,
/// or nothing at 1). Their resizes may land in the opposite order of their updates, but `feed`
/// re-reads the limit after resizing, so the bulkhead always ends at the adaptive limit.
#[test]
fn feed_never_leaves_a_stale_limit() {
    loom::model(|| {
        let config = AimdConfig { initial: 1, ..AimdConfig::new(Nanos::new(100)) };
        let a = Arc::new(Aimd::new(config).unwrap());
        let b = Arc::new(Bulkhead::new(1).unwrap());
        let samples = [
            Sample { rtt: Nanos::new(10), in_flight: 2, dropped: false },
            Sample { rtt: Nanos::new(10), in_flight: 2, dropped: true },
        ];
        let workers: Vec<_> = samples
            .into_iter()
            .map(|s| {
                let (a, b) = (Arc::clone(&a), Arc::clone(&b));
                thread::spawn(move || feed(&*a, &b, s))
            })
            .collect();
        for t in workers {
            t.join().unwrap();
        }
        assert_eq!(b.limit(), a.limit(), "the bulkhead was left at a stale limit");
    });
}
