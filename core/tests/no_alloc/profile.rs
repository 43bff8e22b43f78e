//! Proof that maintenance profiles never allocate: the counting allocator around construction
//! (including errors), switches (known and unknown) and reads, for limiters and for breakers
//! (whose every path also runs under a switching profile).

use portcullis::Nanos;
use portcullis::breaker::BreakerConfig;
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::profile::{LimiterProfiles, ProfiledBreaker};
use portcullis::window::{CountWindow, Outcome, TimeWindow};

use super::allocations_in;

#[test]
fn profiles_never_allocate() {
    let normal = Quota::per_second(10, 4).unwrap();
    let lenient = Quota::per_second(100, 8).unwrap();
    let n = allocations_in(|| {
        assert!(LimiterProfiles::new([("a", normal), ("a", lenient)]).is_err());
        let profiles = LimiterProfiles::new([("normal", normal), ("lenient", lenient)]).unwrap();
        let limiter = RateLimiter::new(RateLimiterConfig::new(normal), Nanos::ZERO);
        for i in 0..1_000u64 {
            let now = Nanos::from_millis(i);
            let name = if i % 2 == 0 { "lenient" } else { "normal" };
            profiles.switch(&limiter, name, now).unwrap();
            assert!(profiles.switch(&limiter, "unknown", now).is_err());
            std::hint::black_box(profiles.active(&limiter));
            let _ = std::hint::black_box(limiter.try_acquire(now));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn breaker_profiles_never_allocate() {
    let normal = BreakerConfig {
        consecutive_failures: Some(3),
        failure_rate_ppm: Some(500_000),
        min_calls: 4,
        slow_call_duration: Some(Nanos::from_millis(5)),
        open_duration: Nanos::from_millis(20),
        max_open_duration: Nanos::from_millis(80),
        probe_timeout: Nanos::from_millis(50),
        ..BreakerConfig::DEFAULT
    };
    let lenient = BreakerConfig { consecutive_failures: Some(8), min_calls: 8, ..normal };
    let n = allocations_in(|| {
        let bad = BreakerConfig { half_open_probes: 2, ..lenient };
        let err = ProfiledBreaker::<CountWindow<8>, 2>::with_profiles([("n", normal), ("l", bad)]);
        std::hint::black_box(err.unwrap_err());
        let b = ProfiledBreaker::<CountWindow<8>, 2>::with_profiles([
            ("normal", normal),
            ("lenient", lenient),
        ])
        .unwrap();
        let t = ProfiledBreaker::<TimeWindow<4>, 2>::with_profiles(
            [("normal", normal), ("lenient", lenient)],
            Nanos::from_millis(40),
        )
        .unwrap();
        for i in 0..5_000u64 {
            let now = Nanos::from_millis(i);
            if i % 37 == 0 {
                let name = if i % 74 == 0 { "lenient" } else { "normal" };
                let _ = b.switch_profile(name);
                let _ = t.switch_profile_index(usize::from(i % 74 == 0));
                assert!(b.switch_profile("unknown").is_err());
            }
            let outcome = if i % 7 < 3 { Outcome::Failure } else { Outcome::Success };
            if let Ok(p) = b.try_acquire(now) {
                let _ = std::hint::black_box(p.record(outcome, now));
            }
            if let Ok(p) = t.try_acquire(now) {
                let _ = std::hint::black_box(p.record(outcome, now));
            }
            std::hint::black_box((b.snapshot(now), b.active_profile(), b.config()));
            std::hint::black_box(b.classify(false, Nanos::from_millis(i % 10)));
        }
    });
    assert_eq!(n, 0);
}
