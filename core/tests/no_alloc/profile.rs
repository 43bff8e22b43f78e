//! Proof that maintenance profiles never allocate: the counting allocator around construction
//! (including errors), switches (known and unknown) and reads.

use portcullis::Nanos;
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::profile::LimiterProfiles;

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
