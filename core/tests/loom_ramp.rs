//! loom model of the ramped breaker: two half-open probes report success at once; exactly one
//! of them closes the breaker, and the ramp is started once, at the close.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_ramp`
#![cfg(loom)]

use loom::thread;
use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, CountBreaker, Transition};
use portcullis::ramp::{RampConfig, RampedBreaker};
use portcullis::window::Outcome;
use std::sync::Arc;

#[test]
fn one_close_starts_one_ramp() {
    loom::model(|| {
        let breaker = CountBreaker::<4>::new(BreakerConfig {
            consecutive_failures: Some(1),
            open_duration: Nanos::from_secs(1),
            max_open_duration: Nanos::from_secs(1),
            jitter_ppm: 0,
            half_open_probes: 2,
            successes_to_close: 1,
            ..BreakerConfig::DEFAULT
        })
        .unwrap();
        let rb = Arc::new(RampedBreaker::new(breaker, RampConfig::DEFAULT).unwrap());
        let p = rb.try_acquire(Nanos::ZERO).unwrap();
        assert_eq!(rb.record(p, Outcome::Failure, Nanos::ZERO).transition, Transition::Opened);
        let now = Nanos::from_secs(2);
        let first = rb.try_acquire(now).unwrap();
        let second = rb.try_acquire(now).unwrap();
        assert!(first.is_probe() && second.is_probe());
        let other = {
            let rb = Arc::clone(&rb);
            // A permit borrows `rb` and cannot move into the thread: give the second probe's
            // place back and let the thread take its own (a probe, or an ordinary call if the
            // first success has already closed the breaker).
            drop(second);
            thread::spawn(move || {
                rb.try_acquire(now).map(|p| rb.record(p, Outcome::Success, now).transition)
            })
        };
        let mine = rb.record(first, Outcome::Success, now).transition;
        let theirs = other.join().unwrap();
        let closes =
            [Some(mine), theirs.ok()].iter().filter(|t| **t == Some(Transition::Closed)).count();
        assert_eq!(closes, 1, "{mine:?} {theirs:?}");
        assert_eq!(rb.ramp().current_ppm(now), RampConfig::DEFAULT.initial_ppm);
    });
}
