//! The recovery ramp against sequential reference models: the curves against a floating-point
//! re-implementation, the gate's decisions against a plain SplitMix64 with the same seed, and a
//! ramped breaker's ramp against the transitions its breaker reported.
#![cfg(not(loom))]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::many_single_char_names,
    reason = "the floating-point model works on values below 2^53 and compares within 2 ppm, \
              in the letters of the formula"
)]

use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, CountBreaker, Transition};
use portcullis::ramp::{
    Curve, Ramp, RampConfig, RampRejected, RampedBreaker, RampedRejection, admit_ppm,
    probe_admit_ppm,
};
use portcullis::rng::SplitMix64;
use portcullis::window::Outcome;
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

fn ramp_config() -> impl Strategy<Value = RampConfig> {
    (
        1u64..1 << 40,
        prop_oneof![Just(Curve::Linear), Just(Curve::Exponential)],
        prop_oneof![1u32..=1_000_000, Just(1), Just(1_000_000)],
        prop_oneof![Just(0u32), 1u32..=1_000_000],
        any::<u64>(),
    )
        .prop_map(|(duration, curve, initial_ppm, probe_initial_ppm, seed)| RampConfig {
            duration: Nanos::new(duration),
            curve,
            initial_ppm,
            probe_initial_ppm,
            seed,
        })
}

/// The curves of `docs/semantics/ramp.md` in floating point.
fn model_ppm(c: &RampConfig, t: u64) -> f64 {
    let total = c.duration.as_u64();
    if t >= total {
        return 1e6;
    }
    let x = t as f64 / total as f64;
    let initial = f64::from(c.initial_ppm);
    match c.curve {
        Curve::Linear => initial + (1e6 - initial) * x,
        Curve::Exponential => {
            let mut doublings = 0;
            let mut v = initial;
            while v < 1e6 {
                v *= 2.0;
                doublings += 1;
            }
            let steps = x * f64::from(doublings);
            let k = steps.floor();
            let base = initial * 2f64.powf(k);
            (base * (1.0 + (steps - k))).min(1e6)
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every point of both curves is the formula rounded down (within floating point's own
    /// rounding), and the curves never fall.
    #[test]
    fn curves_match_the_model(c in ramp_config(), ts in prop::collection::vec(any::<u64>(), 1..20)) {
        let total = c.duration.as_u64();
        let mut ts: Vec<u64> = ts.into_iter().map(|t| t % (total + total / 4 + 1)).collect();
        ts.sort_unstable();
        let mut last = 0;
        for t in ts {
            let got = admit_ppm(&c, Nanos::new(t));
            let want = model_ppm(&c, t);
            prop_assert!((f64::from(got) - want).abs() <= 2.0, "t {} got {} want {}", t, got, want);
            prop_assert!(got >= last);
            prop_assert!(got >= c.initial_ppm && got <= 1_000_000);
            last = got;
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Start,
    Stop,
    Admit,
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![1 => Just(Op::Start), 1 => Just(Op::Stop), 8 => Just(Op::Admit), 3 => (0u64..400).prop_map(Op::Advance)]
}

proptest! {
    #![proptest_config(config())]

    /// Same seed, same calls: the gate's decisions are the model's, which draws only while a
    /// ramp is in progress.
    #[test]
    fn gate_matches_model(c in ramp_config(), ops in prop::collection::vec(op(), 1..200)) {
        let c = RampConfig { duration: Nanos::new(c.duration.as_u64() % 2_000 + 1), ..c };
        let ramp = Ramp::new(c).unwrap();
        let mut rng = SplitMix64::new(c.seed);
        let mut started: Option<u64> = None;
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Start => {
                    ramp.start(Nanos::new(now));
                    started = Some(now);
                }
                Op::Stop => {
                    ramp.stop();
                    started = None;
                }
                Op::Advance(d) => now += d,
                Op::Admit => {
                    let ppm = started.map_or(1_000_000, |s| admit_ppm(&c, Nanos::new(now - s)));
                    let want = if ppm == 1_000_000 || rng.below(1_000_000) < u64::from(ppm) {
                        Ok(())
                    } else {
                        Err(RampRejected { admit_ppm: ppm })
                    };
                    prop_assert_eq!(ramp.current_ppm(Nanos::new(now)), ppm);
                    prop_assert_eq!(ramp.try_admit(Nanos::new(now)), want);
                }
            }
        }
    }

    /// Whatever the outcomes, the ramp runs from the breaker's last reported close (until its
    /// duration ends) and is idle after a reported trip; a refusal by a gate records nothing.
    #[test]
    fn ramp_follows_the_breakers_transitions(
        seed in any::<u64>(),
        probe_initial_ppm in prop_oneof![Just(0u32), 1u32..=1_000_000],
        steps in prop::collection::vec((0u64..300, prop::bool::weighted(0.3)), 1..200),
    ) {
        let breaker = CountBreaker::<8>::new(BreakerConfig {
            consecutive_failures: Some(2),
            open_duration: Nanos::from_millis(100),
            max_open_duration: Nanos::from_millis(100),
            jitter_ppm: 0,
            half_open_probes: 3,
            successes_to_close: 2,
            ..BreakerConfig::DEFAULT
        }).unwrap();
        let config = RampConfig {
            duration: Nanos::from_millis(1_000),
            curve: Curve::Exponential,
            initial_ppm: 100_000,
            probe_initial_ppm,
            seed,
        };
        let rb = RampedBreaker::new(breaker, config).unwrap();
        let mut closed_at: Option<u64> = None;
        let mut now_ms = 0u64;
        for (advance, fail) in steps {
            now_ms += advance;
            let now = Nanos::from_millis(now_ms);
            let expected = closed_at
                .map_or(1_000_000, |at| admit_ppm(&config, Nanos::from_millis(now_ms - at)));
            prop_assert_eq!(rb.ramp().current_ppm(now), expected);
            let before = rb.breaker().snapshot(now).counts;
            match rb.try_acquire(now) {
                Ok(permit) => {
                    let outcome = if fail { Outcome::Failure } else { Outcome::Success };
                    match rb.record(permit, outcome, now).transition {
                        Transition::Closed => closed_at = Some(now_ms),
                        Transition::Opened => closed_at = None,
                        _ => {}
                    }
                }
                Err(RampedRejection::Breaker(_)) => {}
                Err(RampedRejection::Ramp(r)) => {
                    prop_assert_eq!(r.admit_ppm, expected);
                    prop_assert!(expected < 1_000_000);
                    prop_assert_eq!(rb.breaker().snapshot(now).counts, before);
                }
                Err(RampedRejection::Probe { rejected, .. }) => {
                    prop_assert!(probe_initial_ppm > 0);
                    let successes = rb.breaker().snapshot(now).probe_successes;
                    prop_assert_eq!(rejected.admit_ppm, probe_admit_ppm(&config, successes));
                    // Every earlier probe was recorded at once: none is left outstanding.
                    let snap = rb.breaker().snapshot(now);
                    prop_assert_eq!(
                        snap.probes_admitted,
                        snap.probe_successes + snap.probe_failures,
                        "the refused probe's place was given back"
                    );
                }
            }
        }
    }
}
