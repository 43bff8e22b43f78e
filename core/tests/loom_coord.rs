//! loom models of coordinated breakers: a dependency trips, or recovers, while a dependent
//! records the outcome that its tightened profile would trip on and its normal profile would not.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_coord`
//!
//! Each model has two threads (the main thread included) and one-slot count windows. The profiles
//! differ in both the threshold and the open period, so the period of a trip says which profile
//! decided it, and a trip with the tight threshold and the normal period would be a decision that
//! mixed two profiles.
//!
//! Negative control: making a trip take its open period from the operator's profile instead of the
//! one the rule chose for its threshold fails both models.
#![cfg(loom)]

use loom::thread;
use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, State, Transition};
use portcullis::coord::{Coordinated, DependencyMap};
use portcullis::profile::ProfiledBreaker;
use portcullis::window::{CountWindow, Outcome};
use std::sync::Arc;

const T0: Nanos = Nanos::ZERO;

fn profile(n: u32, secs: u64) -> BreakerConfig {
    BreakerConfig {
        consecutive_failures: Some(n),
        open_duration: Nanos::from_secs(secs),
        max_open_duration: Nanos::from_secs(secs),
        jitter_ppm: 0,
        probe_timeout: Nanos::from_secs(60),
        ..BreakerConfig::DEFAULT
    }
}

type Set = Coordinated<CountWindow<1>, 2, 2>;

/// Node 0 depends on node 1. The dependent trips on 2 failures (1 s open) normally and on 1
/// failure (10 s open) when tightened; the dependency trips on its first failure either way.
fn set() -> Set {
    let dependent = ProfiledBreaker::<CountWindow<1>, 2>::with_profiles([
        ("normal", profile(2, 1)),
        ("tight", profile(1, 10)),
    ]);
    let dependency = ProfiledBreaker::<CountWindow<1>, 2>::with_profiles([
        ("normal", profile(1, 1)),
        ("tight", profile(1, 1)),
    ]);
    let map = DependencyMap::<2>::new(&[(0, 1)], 1).unwrap();
    Coordinated::new(map, [dependent.unwrap(), dependency.unwrap()]).unwrap()
}

/// Records one failure on node `i`; whether this call tripped it.
fn fail(c: &Set, i: usize) -> bool {
    let n = c.node(i).unwrap();
    match n.try_acquire(T0) {
        Ok(p) => n.record(p, Outcome::Failure, T0).transition == Transition::Opened,
        Err(_) => false,
    }
}

/// Whether node `i`'s open period left at `T0` is `secs` seconds (rounded up to a tick).
fn period_is(c: &Set, i: usize, secs: u64) -> bool {
    let left = c.node(i).unwrap().breaker().open_remaining(T0).unwrap();
    left >= Nanos::from_secs(secs) && left < Nanos::from_secs(secs + 1)
}

/// The dependency trips while the dependent records a failure. The dependent trips only if its
/// decision saw the dependency down, and then with the tight period; otherwise it decided under
/// its normal profile, and once the trip is visible its next failure trips it, tightened. The
/// dependency's trip is never lost and reported once.
#[test]
fn a_trip_racing_a_dependents_record() {
    loom::model(|| {
        let c = Arc::new(set());
        let tripper = {
            let c = Arc::clone(&c);
            thread::spawn(move || fail(&c, 1))
        };
        let tripped = fail(&c, 0);
        assert!(tripper.join().unwrap(), "the dependency's trip is reported");
        assert_eq!(c.node(1).unwrap().breaker().state(), State::Open);
        if !tripped {
            assert_eq!(c.node(0).unwrap().breaker().state(), State::Closed);
            assert!(c.node(0).unwrap().is_tightened());
            assert!(fail(&c, 0), "tightened: the next failure trips");
        }
        assert!(period_is(&c, 0, 10), "a tightened trip has the tight period");
        assert_eq!(c.down(), 0b11);
    });
}

/// The dependency recovers (its probe closes it) while the dependent records a failure. The
/// dependent trips only under the tight profile, with its period; otherwise its failure was judged
/// under the normal profile, and after the recovery its second failure trips it under the normal
/// profile, with the normal period.
#[test]
fn a_recovery_racing_a_dependents_record() {
    loom::model(|| {
        let c = Arc::new(set());
        assert!(fail(&c, 1));
        let later = Nanos::from_secs(2);
        let probe = c.node(1).unwrap().try_acquire(later).unwrap().into_token();
        let recoverer = {
            let c = Arc::clone(&c);
            thread::spawn(move || {
                let b = c.node(1).unwrap().breaker();
                b.record_token(probe, Outcome::Success, later).transition
            })
        };
        let tripped = fail(&c, 0);
        assert_eq!(recoverer.join().unwrap(), Transition::Closed);
        assert!(!c.node(0).unwrap().is_tightened());
        if tripped {
            assert!(period_is(&c, 0, 10), "a trip decided while the dependency was down");
        } else {
            assert!(fail(&c, 0), "the second failure trips under the normal profile");
            assert!(period_is(&c, 0, 1), "with the normal period");
        }
        assert_eq!(c.down(), 0b01);
    });
}
