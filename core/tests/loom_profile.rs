//! loom models of maintenance profiles: two operators switch one limiter to two different
//! profiles at once while a third thread acquires; a breaker's profile switch races the records
//! that trip it.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_profile`
//!
//! Negative control: making the trip of a closed breaker read the profile again (instead of using
//! the one its rule check read) fails the first breaker model.
#![cfg(loom)]

use loom::thread;
use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, State, Transition};
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::profile::{LimiterProfiles, ProfiledBreaker, SwitchError};
use portcullis::window::{CountWindow, Outcome};
use std::sync::Arc;

/// Each switch either takes effect or reports `InProgress` (never a torn quota); at the end the
/// profile in force is the one of a switch that succeeded, and `active` names it.
#[test]
fn concurrent_switches_leave_one_named_profile_in_force() {
    loom::model(|| {
        let normal = Quota::per_second(10, 4).unwrap();
        let lenient = Quota::per_second(100, 8).unwrap();
        let strict = Quota::per_second(1, 2).unwrap();
        let profiles =
            LimiterProfiles::new([("normal", normal), ("lenient", lenient), ("strict", strict)])
                .unwrap();
        let limiter = Arc::new(RateLimiter::new(RateLimiterConfig::new(normal), Nanos::ZERO));
        let spawn = |name: &'static str| {
            let limiter = Arc::clone(&limiter);
            thread::spawn(move || (name, profiles.switch(&limiter, name, Nanos::ZERO)))
        };
        let a = spawn("lenient");
        let b = spawn("strict");
        let _ = limiter.try_acquire(Nanos::ZERO);
        let results = [a.join().unwrap(), b.join().unwrap()];
        let succeeded: Vec<&str> =
            results.iter().filter(|(_, r)| r.is_ok()).map(|(n, _)| *n).collect();
        assert!(results.iter().all(|(_, r)| matches!(r, Ok(()) | Err(SwitchError::InProgress))));
        assert!(!succeeded.is_empty(), "the first switch cannot find another in progress");
        let active = profiles.active(&limiter).expect("a named quota is in force");
        assert!(succeeded.contains(&active), "{active} not among {succeeded:?}");
    });
}

const T0: Nanos = Nanos::ZERO;

/// A profile that trips on `n` consecutive failures and stays open `secs` seconds (constant, no
/// jitter), so the open period says which profile made a trip.
fn profile(n: u32, secs: u64) -> BreakerConfig {
    BreakerConfig {
        consecutive_failures: Some(n),
        open_duration: Nanos::from_secs(secs),
        max_open_duration: Nanos::from_secs(secs),
        jitter_ppm: 0,
        ..BreakerConfig::DEFAULT
    }
}

type Profiled = ProfiledBreaker<CountWindow<2>, 2>;

fn strict_then_lenient() -> Profiled {
    Profiled::with_profiles([("strict", profile(1, 10)), ("lenient", profile(2, 1))]).unwrap()
}

/// Records one failure; whether this caller saw the breaker open.
fn fail(b: &Profiled) -> bool {
    match b.try_acquire(T0) {
        Ok(p) => p.record(Outcome::Failure, T0).transition == Transition::Opened,
        Err(_) => false,
    }
}

/// Whether the open period left at `T0` is `secs` seconds (rounded up to a whole tick).
fn period_is(b: &Profiled, secs: u64) -> bool {
    let left = b.open_remaining(T0).unwrap();
    left >= Nanos::from_secs(secs) && left < Nanos::from_secs(secs + 1)
}

/// A switch to "lenient" races a failure that trips under "strict" only. A trip, if it happens,
/// was decided under "strict" and has strict's open period (10 s), never lenient's (1 s): the
/// threshold and the period come from one profile. Otherwise the failure was judged under
/// "lenient", and the next one trips by lenient's rule with lenient's period: no trip is lost.
#[test]
fn a_switch_racing_a_record_never_mixes_two_profiles_in_one_decision() {
    loom::model(|| {
        let b = Arc::new(strict_then_lenient());
        let switcher = {
            let b = Arc::clone(&b);
            thread::spawn(move || b.switch_profile("lenient"))
        };
        let tripped = fail(&b);
        assert_eq!(switcher.join().unwrap(), Ok("strict"));
        if tripped {
            assert!(period_is(&b, 10), "strict's period");
        } else {
            assert_eq!(b.state(), State::Closed);
            assert!(fail(&b), "the second failure trips under lenient");
            assert!(period_is(&b, 1), "lenient's period");
        }
        let s = b.snapshot(T0);
        assert_eq!((s.state, s.times_tripped, s.profile), (State::Open, 1, 1));
    });
}

/// Two failures recorded at once, each thread's the second failure of the breaker's life under
/// either profile, while an operator switches: exactly one caller reports the trip, and the breaker
/// is open once.
#[test]
fn concurrent_records_and_a_switch_trip_exactly_once() {
    loom::model(|| {
        let b = Arc::new(
            Profiled::with_profiles([("strict", profile(2, 10)), ("lenient", profile(2, 1))])
                .unwrap(),
        );
        let other = {
            let b = Arc::clone(&b);
            thread::spawn(move || fail(&b))
        };
        let switcher = {
            let b = Arc::clone(&b);
            thread::spawn(move || b.switch_profile_index(1))
        };
        let mine = fail(&b);
        let theirs = other.join().unwrap();
        assert_eq!(switcher.join().unwrap(), Ok(0));
        assert!(mine ^ theirs, "exactly one opener (mine {mine}, theirs {theirs})");
        let s = b.snapshot(T0);
        assert_eq!((s.state, s.times_tripped, s.generation), (State::Open, 1, 1));
        assert!(period_is(&b, 1) || period_is(&b, 10), "one profile's period");
    });
}
