//! loom models of the sliding windows: two recorder threads and a concurrent reader.
//!
//! Run (about 40 s of release build, then a few seconds of models on 2 cores):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_window`
#![cfg(loom)]

use loom::thread;
use portcullis::Nanos;
use portcullis::window::{CountWindow, Outcome, TimeWindow, WindowCounts};
use std::sync::Arc;

fn counts_of(outcomes: &[Outcome]) -> WindowCounts {
    let mut c = WindowCounts::default();
    for o in outcomes {
        c.calls += 1;
        c.failures += u64::from(o.is_failure());
        c.slow += u64::from(o.is_slow());
    }
    c
}

fn assert_invariants(c: WindowCounts, max_calls: u64) {
    assert!(c.calls <= max_calls, "{c:?}");
    assert!(c.failures <= c.calls && c.slow <= c.calls, "{c:?}");
}

/// Two threads record two outcomes each into a window of 2 while the main thread reads. At the
/// end the window holds exactly the last two records in claim order, which (each thread's records
/// being in program order) is {A1, A2}, {B1, B2} or {A2, B2}; reads never break the bounds, and
/// the number of calls never goes down.
#[test]
fn count_window_two_recorders_and_a_reader() {
    loom::model(|| {
        let w = Arc::new(CountWindow::<2>::new());
        let (a1, a2) = (Outcome::Failure, Outcome::Success);
        let (b1, b2) = (Outcome::SlowSuccess, Outcome::SlowFailure);
        let wa = Arc::clone(&w);
        // A record may return `false` here: a record two positions later can reach the slot
        // first, which evicts the earlier one before it lands.
        let ta = thread::spawn(move || {
            wa.record(a1);
            wa.record(a2);
        });
        let wb = Arc::clone(&w);
        let tb = thread::spawn(move || {
            wb.record(b1);
            wb.record(b2);
        });
        let first = w.counts();
        let second = w.counts();
        assert_invariants(first, 2);
        assert_invariants(second, 2);
        assert!(first.calls <= second.calls, "calls went down: {first:?} then {second:?}");
        ta.join().unwrap();
        tb.join().unwrap();
        let end = w.counts();
        let allowed = [counts_of(&[a1, a2]), counts_of(&[b1, b2]), counts_of(&[a2, b2])];
        assert!(allowed.contains(&end), "final {end:?} is not the last two records");
    });
}

/// A batch of two racing a single record in a window of 2: at rest the window holds the last two
/// records in claim order ({A1, A2} or {A2, B}: the batch's two positions are consecutive), and a
/// reader never sees the bounds broken.
#[test]
fn count_window_batch_races_a_record() {
    loom::model(|| {
        let w = Arc::new(CountWindow::<2>::new());
        let (a1, a2, b) = (Outcome::Failure, Outcome::SlowSuccess, Outcome::Success);
        let wa = Arc::clone(&w);
        let ta = thread::spawn(move || {
            wa.record_batch(&[a1, a2]);
        });
        let wb = Arc::clone(&w);
        let tb = thread::spawn(move || {
            wb.record(b);
        });
        // A batch in progress holds back its effect on the counts, so a reader sees at most 2
        // calls plus the writes in progress; the clamp keeps the documented bounds.
        assert_invariants(w.counts(), 2);
        ta.join().unwrap();
        tb.join().unwrap();
        let end = w.counts();
        let allowed = [counts_of(&[a1, a2]), counts_of(&[a2, b])];
        assert!(allowed.contains(&end), "final {end:?} is not the last two records");
    });
}

/// A window of one slot: the later of two racing records must win, even if the earlier one
/// reaches the slot last (the lap check); the counts always equal the slot.
#[test]
fn count_window_of_one_keeps_the_newest_record() {
    loom::model(|| {
        let w = Arc::new(CountWindow::<1>::new());
        let wa = Arc::clone(&w);
        let ta = thread::spawn(move || {
            wa.record(Outcome::Failure);
            wa.record(Outcome::SlowFailure);
        });
        let wb = Arc::clone(&w);
        let tb = thread::spawn(move || {
            wb.record(Outcome::Success);
        });
        assert_invariants(w.counts(), 1);
        ta.join().unwrap();
        tb.join().unwrap();
        let end = w.counts();
        // The newest record is A's second or B's only one; A's first can never be the survivor.
        let allowed = [counts_of(&[Outcome::SlowFailure]), counts_of(&[Outcome::Success])];
        assert!(allowed.contains(&end), "final {end:?}");
    });
}

/// `reset` racing a record: the counts always equal what the slots hold afterwards (the record
/// survives or not, but nothing is double-counted or lost from the counts).
#[test]
fn count_window_reset_races_a_record() {
    loom::model(|| {
        let w = Arc::new(CountWindow::<2>::new());
        w.record(Outcome::Failure);
        let wa = Arc::clone(&w);
        let ta = thread::spawn(move || {
            wa.record(Outcome::SlowFailure);
        });
        w.reset();
        ta.join().unwrap();
        let end = w.counts();
        let allowed = [WindowCounts::default(), counts_of(&[Outcome::SlowFailure])];
        assert!(allowed.contains(&end), "final {end:?}");
        // And the window still works as a window afterwards.
        w.record(Outcome::Success);
        w.record(Outcome::Success);
        assert_eq!(w.counts(), counts_of(&[Outcome::Success, Outcome::Success]));
    });
}

/// Two recorders in a time window of 2 buckets of 10 ns: A records a failure at epoch 0 and a
/// success at epoch 1; B records a slow success at epoch 2, which moves the window and sweeps
/// bucket 0. Whatever the interleaving, a read at epoch 2 never sees A's failure (epoch 0 is
/// outside the window there), and at the end the window holds exactly A's success and B's call.
#[test]
fn time_window_two_recorders_and_a_reader() {
    loom::model(|| {
        let w = Arc::new(TimeWindow::<2>::new(Nanos::new(20)).unwrap());
        let wa = Arc::clone(&w);
        let ta = thread::spawn(move || {
            wa.record(Outcome::Failure, Nanos::new(0));
            assert!(wa.record(Outcome::Success, Nanos::new(10)));
        });
        let wb = Arc::clone(&w);
        let tb = thread::spawn(move || {
            assert!(wb.record(Outcome::SlowSuccess, Nanos::new(20)));
        });
        let seen = w.counts(Nanos::new(25));
        assert_invariants(seen, 2);
        assert_eq!(seen.failures, 0, "epoch 0 is outside the window at epoch 2: {seen:?}");
        ta.join().unwrap();
        tb.join().unwrap();
        assert_eq!(w.counts(Nanos::new(25)), WindowCounts { calls: 2, failures: 0, slow: 1 });
    });
}

/// Two first records into a fresh time window at the same late epoch: the all-zero buckets carry
/// an arbitrary tag, and neither record may be lost to the other's sweep.
#[test]
fn time_window_concurrent_first_records() {
    loom::model(|| {
        let w = Arc::new(TimeWindow::<2>::new(Nanos::new(20)).unwrap());
        // Epoch 2·(2²⁴ − 1) + 1: lap 2²⁴ − 1, whose tag the zero tag of a fresh bucket looks
        // newer than (modulo 2²⁴); a fresh bucket must still be taken.
        let now = Nanos::new(10 * (2 * ((1 << 24) - 1) + 1));
        let wa = Arc::clone(&w);
        let ta = thread::spawn(move || assert!(wa.record(Outcome::Failure, now)));
        let wb = Arc::clone(&w);
        let tb = thread::spawn(move || assert!(wb.record(Outcome::Success, now)));
        assert_invariants(w.counts(now), 2);
        ta.join().unwrap();
        tb.join().unwrap();
        assert_eq!(w.counts(now), WindowCounts { calls: 2, failures: 1, slow: 0 });
    });
}
