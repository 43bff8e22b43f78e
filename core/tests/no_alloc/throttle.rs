//! Proof that the adaptive throttle never allocates: the counting allocator around construction
//! (including configuration errors), decisions that admit and that refuse, reports, snapshots,
//! resets and the probability function.

use portcullis::Nanos;
use portcullis::throttle::{Throttle, ThrottleConfig, reject_ppm};

use super::allocations_in;

#[test]
fn throttle_never_allocates() {
    let n = allocations_in(|| {
        let bad = ThrottleConfig { aggression: 9, ..ThrottleConfig::DEFAULT };
        assert!(Throttle::<8>::new(bad, Nanos::from_secs(8)).is_err());
        assert!(Throttle::<8>::new(ThrottleConfig::DEFAULT, Nanos::ZERO).is_err());
        let config = ThrottleConfig { aggression: 3, ..ThrottleConfig::DEFAULT };
        let t = Throttle::<8>::new(config, Nanos::from_secs(8)).unwrap();
        let mut refused = 0;
        for i in 0..20_000u64 {
            let now = Nanos::from_millis(i);
            match t.try_acquire(now) {
                Ok(()) => {
                    t.record(i % 5 == 0, now);
                }
                Err(e) => refused += u64::from(e.reject_ppm > 0),
            }
            if i % 1_000 == 0 {
                std::hint::black_box(t.snapshot(now));
                std::hint::black_box(reject_ppm(&config, i, i / 3));
            }
        }
        assert!(refused > 0);
        t.reset();
    });
    assert_eq!(n, 0);
}
