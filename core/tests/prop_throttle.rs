//! The adaptive throttle against a sequential reference model: the rejection probability
//! against the formula in floating point, and the throttle's decisions and counts against a
//! model of its window (a list of timestamped requests) and of its generator (a plain
//! SplitMix64 with the same seed), driven by random acquisitions, reports and clock steps.
#![cfg(not(loom))]
#![allow(
    clippy::cast_precision_loss,
    reason = "the floating-point model is used only where its inputs are below 2^20 (exact)"
)]

use portcullis::Nanos;
use portcullis::rng::SplitMix64;
use portcullis::throttle::{Throttle, ThrottleConfig, Throttled, reject_ppm};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

fn throttle_config() -> impl Strategy<Value = ThrottleConfig> {
    (
        1_000u32..=5_000,
        1u32..=4,
        prop_oneof![Just(1_000_000u32), 0u32..=1_000_000],
        0u32..20,
        any::<u64>(),
    )
        .prop_map(|(multiplier_milli, aggression, max_reject_ppm, min_requests, seed)| {
            ThrottleConfig { multiplier_milli, aggression, max_reject_ppm, min_requests, seed }
        })
}

/// The formula of `docs/semantics/throttle.md` in floating point.
fn model_ppm(config: &ThrottleConfig, requests: u64, accepts: u64) -> f64 {
    if requests < u64::from(config.min_requests) {
        return 0.0;
    }
    let (req, acc) = (requests as f64, accepts.min(requests) as f64);
    let k = f64::from(config.multiplier_milli) / 1000.0;
    let q = ((req - k * acc) / (req + 1.0)).max(0.0);
    (q.powf(1.0 / f64::from(config.aggression)) * 1e6).min(f64::from(config.max_reject_ppm))
}

proptest! {
    #![proptest_config(config())]

    /// The integer probability is the formula rounded down, within one part per million of
    /// floating point (which itself rounds), never above the cap, 0 at or above 1/K accepted.
    #[test]
    fn probability_matches_the_formula(
        c in throttle_config(),
        requests in prop_oneof![0u64..200, 0u64..1 << 20, any::<u64>()],
        accepts_frac in 0u64..=1000,
    ) {
        let accepts = u64::try_from(u128::from(requests) * u128::from(accepts_frac) / 1000).unwrap();
        let got = reject_ppm(&c, requests, accepts);
        // Floating point is exact enough to judge the rounding up to 2²⁰ requests (beyond, the
        // cancellation in `r − k·a` loses digits that a root near 0 magnifies).
        if requests < 1 << 20 {
            let want = model_ppm(&c, requests, accepts);
            prop_assert!(
                f64::from(got) <= want + 1e-6 && want < f64::from(got) + 1.0 + 1e-6,
                "got {} want {}", got, want
            );
        }
        prop_assert!(got <= c.max_reject_ppm);
        if u128::from(accepts) * u128::from(c.multiplier_milli) >= u128::from(requests) * 1000 {
            prop_assert_eq!(got, 0);
        }
        // Monotone: one more refused request never lowers the probability.
        if requests < u64::MAX && requests >= u64::from(c.min_requests) {
            prop_assert!(reject_ppm(&c, requests + 1, accepts) >= got);
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// `try_acquire`, then, if admitted, `record(accepted)` when `Some`.
    Acquire(Option<bool>),
    /// `record(accepted)` of a request admitted earlier.
    Record(bool),
    /// Advance the clock by this many milliseconds.
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop::option::of(prop::bool::weighted(0.3)).prop_map(Op::Acquire),
        3 => prop::bool::weighted(0.3).prop_map(Op::Record),
        1 => (0u64..1_500).prop_map(Op::Advance),
    ]
}

const BUCKETS: usize = 4;
const WIDTH_MS: u64 = 250;

/// The throttle on plain data: every counted request with its time and fate.
struct Model {
    config: ThrottleConfig,
    rng: SplitMix64,
    /// `(time in ms, accepted)`.
    events: Vec<(u64, bool)>,
}

impl Model {
    /// Requests and accepts in the last `BUCKETS` epochs of `WIDTH_MS`, the current included.
    fn counts(&self, now: u64) -> (u64, u64) {
        let epoch = now / WIDTH_MS;
        let live = self.events.iter().filter(|(t, _)| epoch - t / WIDTH_MS < BUCKETS as u64);
        let (mut requests, mut accepts) = (0, 0);
        for (_, accepted) in live {
            requests += 1;
            accepts += u64::from(*accepted);
        }
        (requests, accepts)
    }

    fn try_acquire(&mut self, now: u64) -> Result<(), Throttled> {
        let (requests, accepts) = self.counts(now);
        let p = reject_ppm(&self.config, requests, accepts);
        if p > 0 && self.rng.below(1_000_000) < u64::from(p) {
            self.events.push((now, false));
            return Err(Throttled { reject_ppm: p });
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(config())]

    /// Same seed, same calls, same times: the same decisions, counts and probabilities as the
    /// model, the clock only moving forwards.
    #[test]
    fn throttle_matches_model(
        c in throttle_config(),
        ops in prop::collection::vec(op(), 1..300),
    ) {
        let window = Nanos::from_millis(WIDTH_MS * BUCKETS as u64);
        let t = Throttle::<BUCKETS>::new(c, window).unwrap();
        let mut model = Model { config: c, rng: SplitMix64::new(c.seed), events: Vec::new() };
        let mut now_ms = 1_000u64;
        let mut throttled = 0;
        for op in ops {
            let now = Nanos::from_millis(now_ms);
            match op {
                Op::Acquire(report) => {
                    let got = t.try_acquire(now);
                    prop_assert_eq!(got, model.try_acquire(now_ms));
                    throttled += usize::from(got.is_err());
                    if let (Ok(()), Some(accepted)) = (got, report) {
                        prop_assert!(t.record(accepted, now));
                        model.events.push((now_ms, accepted));
                    }
                }
                Op::Record(accepted) => {
                    prop_assert!(t.record(accepted, now));
                    model.events.push((now_ms, accepted));
                }
                Op::Advance(ms) => now_ms += ms,
            }
            let snap = t.snapshot(Nanos::from_millis(now_ms));
            let (requests, accepts) = model.counts(now_ms);
            prop_assert_eq!((snap.requests, snap.accepts), (requests, accepts));
            prop_assert_eq!(snap.reject_ppm, reject_ppm(&c, requests, accepts));
        }
        let _ = throttled;
    }
}

/// Against a backend that accepts at most one request per 4 ms while clients attempt one per
/// millisecond, the share of attempts that reach it settles where `requests ≈ K·accepts`: with
/// `K = 2`, about half of the attempts (twice what the backend accepts), as the SRE book says.
#[test]
fn load_settles_where_the_rule_says() {
    let t = Throttle::<10>::new(ThrottleConfig::DEFAULT, Nanos::from_secs(10)).unwrap();
    let (mut sent, mut accepted, mut slot) = (0u64, 0u64, u64::MAX);
    for ms in 10_000..70_000u64 {
        let now = Nanos::from_millis(ms);
        if t.try_acquire(now).is_ok() {
            sent += 1;
            let ok = ms / 4 != slot;
            if ok {
                slot = ms / 4;
                accepted += 1;
            }
            t.record(ok, now);
        }
    }
    let share = sent as f64 / 60_000.0;
    assert!((0.45..=0.56).contains(&share), "share sent {share}");
    // It is offered work in most of its 15,000 slots: throttling does not starve it.
    assert!(accepted > 13_000, "the backend stays busy: {accepted}");
}
