//! Proof that the recovery ramp and the ramped breaker never allocate: the counting allocator
//! around construction (including configuration errors), both curves, gate decisions, and a ramped
//! breaker through trips, probes (gated) and ramps.

use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, CountBreaker};
use portcullis::ramp::{Curve, Ramp, RampConfig, RampedBreaker, admit_ppm, probe_admit_ppm};
use portcullis::window::Outcome;

use super::allocations_in;

#[test]
fn ramp_never_allocates() {
    let n = allocations_in(|| {
        assert!(Ramp::new(RampConfig { initial_ppm: 0, ..RampConfig::DEFAULT }).is_err());
        let config = RampConfig {
            duration: Nanos::from_millis(500),
            curve: Curve::Exponential,
            initial_ppm: 10_000,
            probe_initial_ppm: 100_000,
            seed: 3,
        };
        let ramp = Ramp::new(config).unwrap();
        ramp.start(Nanos::ZERO);
        for i in 0..1_000u64 {
            let _ = std::hint::black_box(ramp.try_admit(Nanos::from_millis(i)));
            std::hint::black_box(admit_ppm(&RampConfig::DEFAULT, Nanos::from_millis(i)));
            std::hint::black_box(probe_admit_ppm(&config, u32::try_from(i % 30).unwrap()));
        }
        ramp.stop();
        let breaker = CountBreaker::<8>::new(BreakerConfig {
            consecutive_failures: Some(2),
            open_duration: Nanos::from_millis(50),
            max_open_duration: Nanos::from_millis(50),
            jitter_ppm: 0,
            ..BreakerConfig::DEFAULT
        })
        .unwrap();
        let rb = RampedBreaker::new(breaker, config).unwrap();
        for i in 0..20_000u64 {
            let now = Nanos::from_millis(i);
            if let Ok(p) = rb.try_acquire(now) {
                let outcome = if i % 97 < 3 { Outcome::Failure } else { Outcome::Success };
                let _ = std::hint::black_box(rb.record(p, outcome, now));
            }
        }
    });
    assert_eq!(n, 0);
}
