//! loom model of maintenance profiles: two operators switch one limiter to two different
//! profiles at once while a third thread acquires.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_profile`
#![cfg(loom)]

use loom::thread;
use portcullis::Nanos;
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::profile::{LimiterProfiles, SwitchError};
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
