//! The health state machine against a sequential reference model written from the documented
//! rules (plain integers, no packing), on random valid configurations and random sequences of
//! results and clock steps; and the validation rules on random configurations.
#![cfg(not(loom))]

use portcullis::health::{CheckDue, HealthConfig, HealthMachine, HealthState};
use portcullis::{ConfigError, Nanos};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

/// A valid configuration: degrade thresholds 1..5, recover thresholds above them.
fn valid_config() -> impl Strategy<Value = HealthConfig> {
    (
        prop::array::uniform3(1u32..5),
        prop::array::uniform3(1u32..4),
        prop::array::uniform4(1u64..50),
        0usize..4,
    )
        .prop_map(|(d, extra, iv, init)| HealthConfig {
            degrade_after: d,
            recover_after: [d[0] + extra[0], d[1] + extra[1], d[2] + extra[2]],
            check_interval: iv.map(Nanos::new),
            initial: HealthState::ALL[init],
        })
}

/// The rules of `docs/semantics/health.md`, one result at a time.
struct Model {
    state: usize,
    failures: u32,
    successes: u32,
    last: Option<u64>,
}

impl Model {
    fn record(&mut self, c: &HealthConfig, success: bool, now: u64) -> (usize, usize) {
        let from = self.state;
        if success {
            self.failures = 0;
            self.successes += 1;
            if self.state > 0 && self.successes >= c.recover_after[self.state - 1] {
                self.state -= 1;
                self.successes = 0;
            }
        } else {
            self.successes = 0;
            self.failures += 1;
            if self.state < 3 && self.failures >= c.degrade_after[self.state] {
                self.state += 1;
                self.failures = 0;
            }
        }
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
        (from, self.state)
    }

    fn next_check(&self, c: &HealthConfig, now: u64) -> CheckDue {
        match self.last {
            None => CheckDue::Now,
            Some(l) => {
                let due = l + c.check_interval[self.state].as_u64();
                if now >= due { CheckDue::Now } else { CheckDue::In(Nanos::new(due - now)) }
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn machine_matches_model(
        c in valid_config(),
        ops in prop::collection::vec((any::<bool>(), 0u64..20, any::<bool>()), 0..120),
    ) {
        let m = HealthMachine::new(c).unwrap();
        let mut model = Model { state: c.initial as usize, failures: 0, successes: 0, last: None };
        let mut now = 1_000u64;
        for (success, step, backwards) in ops {
            // Mostly forwards, sometimes a late result from the past.
            now = if backwards { now.saturating_sub(step) } else { now + step };
            let t = m.record(success, Nanos::new(now));
            let (from, to) = model.record(&c, success, now);
            prop_assert_eq!(t.from, HealthState::ALL[from]);
            prop_assert_eq!(t.to, HealthState::ALL[to]);
            prop_assert_eq!(t.changed(), from != to);
            prop_assert_eq!(m.state(), HealthState::ALL[to]);
            prop_assert!(from.abs_diff(to) <= 1, "one state at a time");
            let snap = m.snapshot();
            prop_assert_eq!((snap.consecutive_failures, snap.consecutive_successes), (model.failures, model.successes));
            for probe in [now, now + 1, now + 25, now + 60] {
                prop_assert_eq!(m.next_check(Nanos::new(probe)), model.next_check(&c, probe));
            }
        }
    }

    /// Validation accepts exactly the configurations whose thresholds are in range, whose recovery
    /// thresholds exceed the failure thresholds they undo, and whose intervals are non-zero.
    #[test]
    fn validation_matches_rules(
        d in prop::array::uniform3(0u32..6),
        r in prop::array::uniform3(0u32..8),
        iv in prop::array::uniform4(0u64..3),
    ) {
        let c = HealthConfig {
            degrade_after: d,
            recover_after: r,
            check_interval: iv.map(Nanos::new),
            initial: HealthState::Healthy,
        };
        let thresholds_ok = (0..3).all(|i| d[i] >= 1 && r[i] > d[i]);
        let intervals_ok = iv.iter().all(|&x| x > 0);
        let got = c.validate();
        prop_assert_eq!(got.is_ok(), thresholds_ok && intervals_ok);
        if let Err(e) = got {
            let known = matches!(
                e,
                ConfigError::OutOfRange { .. }
                    | ConfigError::HysteresisImpossible { .. }
                    | ConfigError::ZeroDuration { .. }
            );
            prop_assert!(known, "unexpected error {:?}", e);
        }
    }
}
