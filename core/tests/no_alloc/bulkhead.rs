//! Proof that the bulkhead and the adaptive limits never allocate: a counting global allocator,
//! armed per thread, around every path (admission, both refusals, shadow admission, guarded and
//! raw release, over-release, resize up, down and invalid, snapshot, counter carries, the timed
//! wait with and without success, AIMD and gradient updates, probes, `feed`, construction and
//! configuration errors).

use super::allocations_in;
use portcullis::Nanos;
use portcullis::adaptive::{
    AdaptiveLimit, Aimd, AimdConfig, Gradient, GradientConfig, Sample, feed,
};
use portcullis::bulkhead::{Bulkhead, MAX_LIMIT};

#[test]
fn bulkhead_never_allocates() {
    let n = allocations_in(|| {
        assert!(Bulkhead::new(MAX_LIMIT + 1).is_err());
        let b = Bulkhead::new(4).unwrap();
        for i in 0..10_000u32 {
            let p = b.try_acquire(1 + i % 3).unwrap();
            std::hint::black_box(p.in_flight_at_admission());
            assert!(b.try_acquire(4).is_err()); // Full
            assert!(b.try_acquire(5).is_err()); // ExceedsLimit
            drop(p);
            let raw = b.try_acquire_raw(2).unwrap();
            assert!(b.release(raw + 1).is_err()); // over-release
            b.release(raw).unwrap();
            std::hint::black_box(b.snapshot());
            if i % 1_000 == 0 {
                let held = b.try_acquire(4).unwrap();
                b.resize(2).unwrap(); // down while permits are out
                assert!(b.resize(MAX_LIMIT + 1).is_err()); // invalid
                b.set_shadow(true);
                std::hint::black_box(b.try_acquire(3).unwrap().would_reject()); // shadow admission
                b.set_shadow(false);
                drop(held);
                b.resize(4).unwrap();
            }
        }
        #[cfg(feature = "std")]
        {
            let held = b.try_acquire(4).unwrap();
            assert!(b.acquire_timeout(1, core::time::Duration::from_micros(200)).is_err());
            drop(held);
            assert!(b.acquire_timeout(1, core::time::Duration::from_micros(200)).is_ok());
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn adaptive_limits_never_allocate() {
    let n = allocations_in(|| {
        assert!(Aimd::new(AimdConfig { floor: 0, ..AimdConfig::new(Nanos::new(1)) }).is_err());
        assert!(
            Gradient::new(GradientConfig { probe_samples: 0, ..GradientConfig::DEFAULT }).is_err()
        );
        let aimd = Aimd::new(AimdConfig::new(Nanos::from_millis(10))).unwrap();
        let gradient =
            Gradient::new(GradientConfig { probe_interval: 500, ..GradientConfig::DEFAULT })
                .unwrap();
        let b = Bulkhead::new(200).unwrap();
        for i in 0..20_000u64 {
            let s = Sample {
                rtt: Nanos::from_micros(5_000 + (i * 7_919) % 20_000),
                in_flight: u32::try_from(i % 64).unwrap(),
                dropped: i % 97 == 0,
            };
            std::hint::black_box(feed(&aimd, &b, s));
            std::hint::black_box(feed(&gradient, &b, s));
            std::hint::black_box((aimd.limit(), gradient.estimate(), gradient.min_rtt()));
        }
    });
    assert_eq!(n, 0);
}
