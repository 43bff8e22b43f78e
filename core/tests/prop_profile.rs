//! Maintenance profiles against a reference model: a second limiter reconfigured by hand with
//! the named quotas, and the name of the last successful switch, driven by random switches
//! (unknown names included), acquisitions and clock steps.
#![cfg(not(loom))]

use portcullis::Nanos;
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::profile::{LimiterProfiles, SwitchError};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

const NAMES: [&str; 3] = ["normal", "lenient", "strict"];

#[derive(Clone, Debug)]
enum Op {
    /// Switch to `NAMES[i]`, or to an unknown name for `i >= 3`.
    Switch(usize),
    Acquire(u64),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0usize..4).prop_map(Op::Switch),
        5 => (1u64..4).prop_map(Op::Acquire),
        2 => (0u64..200).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn profiles_match_model(
        rates in prop::array::uniform3(1u64..1_000),
        bursts in prop::array::uniform3(1u64..20),
        ops in prop::collection::vec(op(), 1..150),
    ) {
        let quotas: Vec<Quota> =
            rates.iter().zip(&bursts).map(|(&r, &b)| Quota::per_second(r, b).unwrap()).collect();
        prop_assume!(quotas[0] != quotas[1] && quotas[1] != quotas[2] && quotas[0] != quotas[2]);
        let profiles = LimiterProfiles::new([
            (NAMES[0], quotas[0]),
            (NAMES[1], quotas[1]),
            (NAMES[2], quotas[2]),
        ])
        .unwrap();
        let limiter = RateLimiter::new(RateLimiterConfig::new(quotas[0]), Nanos::ZERO);
        let model = RateLimiter::new(RateLimiterConfig::new(quotas[0]), Nanos::ZERO);
        let mut active = NAMES[0];
        let mut now = 0u64;
        for op in ops {
            let t = Nanos::from_millis(now);
            match op {
                Op::Switch(i) if i < 3 => {
                    prop_assert_eq!(profiles.switch(&limiter, NAMES[i], t), Ok(()));
                    model.reconfigure(quotas[i], t).unwrap();
                    active = NAMES[i];
                }
                Op::Switch(_) => {
                    prop_assert_eq!(
                        profiles.switch(&limiter, "unknown", t),
                        Err(SwitchError::UnknownProfile)
                    );
                }
                Op::Acquire(n) => {
                    prop_assert_eq!(limiter.try_acquire_n(n, t), model.try_acquire_n(n, t));
                }
                Op::Advance(ms) => now += ms,
            }
            prop_assert_eq!(profiles.active(&limiter), Some(active));
            let t = Nanos::from_millis(now);
            prop_assert_eq!(limiter.snapshot(t).available, model.snapshot(t).available);
        }
    }
}
