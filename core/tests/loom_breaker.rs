//! loom models of the breaker's concurrent interleavings.
//!
//! Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_breaker
//! ```
//!
//! Measured on a shared 2-core machine (loom 0.7.3, `LOOM_MAX_PREEMPTIONS=2`): the eight models
//! run in 0.05 to 0.2 s in total (the machine's load varies); the command takes about 3.5 s wall
//! once built, and 2 min 01 s from cold (almost all of it the release build of loom and the
//! dev-dependencies).
//!
//! Negative control: replacing the transition's compare-and-swap with a load followed by a store
//! makes five of the models fail.
//!
//! Each model has two or three threads (the main thread included) and uses a one- or two-slot
//! count window, so that the window's own atomics do not multiply the interleavings.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, CountBreaker, RejectReason, State, Transition};
use portcullis::window::Outcome;

const T0: Nanos = Nanos::ZERO;
/// One tick past any open period used here (1 s base, no jitter, no growth).
const LATER: Nanos = Nanos::from_secs(2);

fn config(consecutive: u32) -> BreakerConfig {
    BreakerConfig {
        consecutive_failures: Some(consecutive),
        open_duration: Nanos::from_secs(1),
        max_open_duration: Nanos::from_secs(1),
        jitter_ppm: 0,
        probe_timeout: Nanos::from_secs(60),
        ..BreakerConfig::DEFAULT
    }
}

/// Admits one call and records a failure; returns whether this caller saw the breaker open.
fn fail_once(b: &CountBreaker<1>) -> bool {
    match b.try_acquire(T0) {
        Ok(p) => p.record(Outcome::Failure, T0).transition == Transition::Opened,
        Err(r) => {
            assert_eq!(r.reason(), RejectReason::Open);
            false
        }
    }
}

/// (a) Two callers fail at once, each failure enough to trip: exactly one of them reports the
/// closed-to-open transition, and the breaker is open once, in generation 1.
#[test]
fn concurrent_failures_trip_exactly_once() {
    loom::model(|| {
        let b = Arc::new(CountBreaker::<1>::new(config(1)).unwrap());
        let b2 = Arc::clone(&b);
        let t = thread::spawn(move || fail_once(&b2));
        let mine = fail_once(&b);
        let theirs = t.join().unwrap();
        assert!(mine ^ theirs, "exactly one opener (mine {mine}, theirs {theirs})");
        let s = b.snapshot(T0);
        assert_eq!((s.state, s.generation, s.times_tripped), (State::Open, 1, 1));
    });
}

/// (a, rate rule) Two failures that together reach a 100 % failure rate over two calls: whoever
/// sees the second call trips, exactly once, even if both see it.
#[test]
fn concurrent_failures_trip_the_rate_rule_exactly_once() {
    loom::model(|| {
        let cfg = BreakerConfig {
            consecutive_failures: None,
            failure_rate_ppm: Some(1_000_000),
            min_calls: 2,
            ..config(1)
        };
        let b = Arc::new(CountBreaker::<2>::new(cfg).unwrap());
        let b2 = Arc::clone(&b);
        let fail = |b: &CountBreaker<2>| {
            let p = b.try_acquire(T0).unwrap(); // the breaker opens only after both records
            p.record(Outcome::Failure, T0).transition == Transition::Opened
        };
        let t = thread::spawn(move || fail(&b2));
        let mine = fail(&b);
        let theirs = t.join().unwrap();
        assert!(mine ^ theirs, "exactly one opener (mine {mine}, theirs {theirs})");
        assert_eq!(b.state(), State::Open);
    });
}

/// (b) Callers race for the single probe of a half-open period: one probe at most is admitted
/// (exactly one here, since both arrive after the open period), and exactly one caller reports
/// the open-to-half-open transition.
#[test]
fn half_open_probe_limit_holds_under_concurrency() {
    loom::model(|| {
        let b = Arc::new(CountBreaker::<1>::new(config(1)).unwrap());
        assert!(fail_once(&b));
        let b2 = Arc::clone(&b);
        // Returns (admitted as a probe, reported HalfOpened). Probe permits are leaked rather
        // than dropped, so that no place is freed while the other thread still competes.
        let contend = |b: &CountBreaker<1>| match b.try_acquire(LATER) {
            Ok(p) => {
                assert!(p.is_probe());
                let half_opened = p.transition() == Transition::HalfOpened;
                core::mem::forget(p);
                (true, half_opened)
            }
            Err(r) => {
                assert_eq!(r.reason(), RejectReason::HalfOpenFull);
                (false, r.transition() == Transition::HalfOpened)
            }
        };
        let t = thread::spawn(move || contend(&b2));
        let mine = contend(&b);
        let theirs = t.join().unwrap();
        assert!(mine.0 ^ theirs.0, "exactly one probe admitted: {mine:?} {theirs:?}");
        assert!(mine.1 ^ theirs.1, "exactly one half-opener: {mine:?} {theirs:?}");
        let s = b.snapshot(LATER);
        assert_eq!((s.state, s.probes_admitted), (State::HalfOpen, 1));
    });
}

/// (b, two probes, three callers) With a limit of two, three concurrent callers get two probes.
#[test]
fn two_probes_three_callers() {
    loom::model(|| {
        let cfg = BreakerConfig { half_open_probes: 2, successes_to_close: 2, ..config(1) };
        let b = Arc::new(CountBreaker::<1>::new(cfg).unwrap());
        assert!(fail_once(&b));
        let contend = |b: &CountBreaker<1>| match b.try_acquire(LATER) {
            Ok(p) => {
                core::mem::forget(p);
                1u32
            }
            Err(_) => 0,
        };
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let b = Arc::clone(&b);
                thread::spawn(move || contend(&b))
            })
            .collect();
        let mut admitted = contend(&b);
        for h in handles {
            admitted += h.join().unwrap();
        }
        assert_eq!(admitted, 2);
        assert_eq!(b.snapshot(LATER).probes_admitted, 2);
    });
}

/// (c) An operator forces the breaker open while a caller fails and may trip it: the operator's
/// transition is never lost (the breaker ends forced open), and the generation counts exactly
/// the transitions that were reported.
#[test]
fn force_open_is_not_lost_while_callers_trip() {
    loom::model(|| {
        let b = Arc::new(CountBreaker::<1>::new(config(1)).unwrap());
        let b2 = Arc::clone(&b);
        let t = thread::spawn(move || {
            let _ = b2.force_open();
        });
        let opened = match b.try_acquire(T0) {
            Ok(p) => p.record(Outcome::Failure, T0).transition == Transition::Opened,
            Err(r) => {
                assert_eq!(r.reason(), RejectReason::ForcedOpen);
                false
            }
        };
        t.join().unwrap();
        let s = b.snapshot(T0);
        assert_eq!(s.state, State::ForcedOpen);
        assert_eq!(s.generation, 1 + u32::from(opened));
        assert_eq!(s.times_tripped, u64::from(opened));
    });
}

/// (c, closing) An operator forces the breaker closed while the last probe reports success:
/// both transitions happen, in some order, and the breaker ends closed with an empty window.
#[test]
fn force_close_races_a_closing_probe() {
    loom::model(|| {
        let b = Arc::new(CountBreaker::<1>::new(config(1)).unwrap());
        assert!(fail_once(&b));
        let probe = b.try_acquire(LATER).unwrap();
        assert!(probe.is_probe());
        let b2 = Arc::clone(&b);
        let t = thread::spawn(move || b2.force_close());
        let closed = probe.record(Outcome::Success, LATER).transition == Transition::Closed;
        let replaced = t.join().unwrap();
        // Either the probe closed first (the operator replaced Closed) or the operator did (the
        // probe's outcome was then of an old generation).
        assert_eq!(replaced == State::Closed, closed);
        let s = b.snapshot(LATER);
        assert_eq!(s.state, State::Closed);
        assert_eq!(s.generation, 3 + u32::from(closed));
        assert_eq!(s.counts.calls, 0);
    });
}

/// Two callers each take one of two probes and succeed at once, together reaching
/// `successes_to_close`: exactly one reports the half-open-to-closed transition.
#[test]
fn concurrent_probe_successes_close_exactly_once() {
    loom::model(|| {
        let cfg = BreakerConfig { half_open_probes: 2, successes_to_close: 2, ..config(1) };
        let b = Arc::new(CountBreaker::<1>::new(cfg).unwrap());
        assert!(fail_once(&b));
        let probe = |b: &CountBreaker<1>| {
            // Neither caller can close alone, so both are admitted as probes.
            let p = b.try_acquire(LATER).unwrap();
            assert!(p.is_probe());
            p.record(Outcome::Success, LATER).transition == Transition::Closed
        };
        let b2 = Arc::clone(&b);
        let t = thread::spawn(move || probe(&b2));
        let mine = probe(&b);
        let theirs = t.join().unwrap();
        assert!(mine ^ theirs, "exactly one closer (mine {mine}, theirs {theirs})");
        let s = b.snapshot(LATER);
        assert_eq!((s.state, s.generation, s.counts.calls), (State::Closed, 3, 0));
    });
}

/// Half-open decided by rate: two probes report at once, one failure and one success (50 %, at
/// a 50 % threshold); exactly one caller decides, and the decision is to reopen.
#[test]
fn half_open_rate_decision_is_made_once() {
    loom::model(|| {
        let cfg = BreakerConfig {
            failure_rate_ppm: Some(500_000),
            half_open_probes: 2,
            successes_to_close: 2,
            half_open_by_rate: true,
            ..config(1)
        };
        let b = Arc::new(CountBreaker::<1>::new(cfg).unwrap());
        assert!(fail_once(&b));
        let probe = |b: &CountBreaker<1>, outcome: Outcome| {
            let p = b.try_acquire(LATER).unwrap();
            assert!(p.is_probe());
            p.record(outcome, LATER).transition
        };
        let b2 = Arc::clone(&b);
        let t = thread::spawn(move || probe(&b2, Outcome::Failure));
        let mine = probe(&b, Outcome::Success);
        let theirs = t.join().unwrap();
        let opened = [mine, theirs].iter().filter(|t| **t == Transition::Opened).count();
        let others = [mine, theirs].iter().filter(|t| **t == Transition::None).count();
        assert_eq!((opened, others), (1, 1), "{mine:?} {theirs:?}");
        assert_eq!(b.state(), State::Open);
    });
}
