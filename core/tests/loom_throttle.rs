//! loom model of the adaptive throttle: two threads decide at once against a window that makes
//! rejection likely; every local rejection is counted exactly once.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_throttle`
#![cfg(loom)]

use loom::thread;
use portcullis::Nanos;
use portcullis::throttle::{Throttle, ThrottleConfig};
use std::sync::Arc;

/// After one refused request, `p = 1/2`: two threads each decide once (and report an admitted
/// request as refused). Whatever the interleaving and the draws, the window ends up with exactly
/// `1 + 2` requests and no accepts: a local rejection and a report are each counted once.
#[test]
fn concurrent_decisions_are_each_counted_once() {
    loom::model(|| {
        let t = Arc::new(Throttle::<2>::new(ThrottleConfig::DEFAULT, Nanos::from_secs(2)).unwrap());
        let now = Nanos::from_millis(100);
        assert!(t.record(false, now));
        let decide = move |t: &Throttle<2>| match t.try_acquire(now) {
            Ok(()) => {
                assert!(t.record(false, now));
                false
            }
            Err(_) => true,
        };
        let other = {
            let t = Arc::clone(&t);
            thread::spawn(move || decide(&t))
        };
        let mine = decide(&t);
        let theirs = other.join().unwrap();
        let snap = t.snapshot(now);
        assert_eq!((snap.requests, snap.accepts), (3, 0), "{mine} {theirs}");
        assert_eq!(snap.reject_ppm, 750_000); // 3 / 4
    });
}
