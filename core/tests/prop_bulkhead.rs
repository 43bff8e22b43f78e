//! The bulkhead against a sequential reference model (plain integers), driven by random
//! acquisitions (guarded and raw), drops of held permits, raw releases (including
//! over-releases), resizes (including invalid ones) and shadow-mode switches; and the adaptive
//! limits against straightforward re-implementations of their rules.
#![cfg(not(loom))]

use portcullis::adaptive::{AdaptiveLimit, Aimd, AimdConfig, Gradient, GradientConfig, Sample};
use portcullis::bulkhead::{Bulkhead, MAX_LIMIT, Permit, Rejected, ReleaseError};
use portcullis::{ConfigError, Nanos};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

#[derive(Clone, Debug)]
enum Op {
    /// `try_acquire(n)`, keeping the permit.
    Acquire(u32),
    /// `try_acquire_raw(n)`.
    AcquireRaw(u32),
    /// Drop the held permit at this index (modulo the number held).
    DropPermit(usize),
    /// `release(n)`, which may be an over-release.
    Release(u32),
    Resize(u32),
    Shadow(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u32..5).prop_map(Op::Acquire),
        2 => (0u32..5).prop_map(Op::AcquireRaw),
        4 => any::<usize>().prop_map(Op::DropPermit),
        2 => (0u32..4).prop_map(Op::Release),
        2 => prop_oneof![8 => 0u32..8, 1 => Just(MAX_LIMIT), 1 => Just(MAX_LIMIT + 1)]
            .prop_map(Op::Resize),
        1 => any::<bool>().prop_map(Op::Shadow),
    ]
}

#[test]
fn errors_read_as_sentences() {
    let b = Bulkhead::new(2).unwrap();
    assert_eq!(
        b.resize(MAX_LIMIT + 1).unwrap_err().to_string(),
        "limit must be at most 8388607, got 8388608"
    );
    let p = b.try_acquire(2).unwrap();
    assert_eq!(
        b.try_acquire(1).unwrap_err().to_string(),
        "bulkhead full: 1 permits requested, 2 of 2 in flight"
    );
    drop(p);
    assert_eq!(
        b.release(1).unwrap_err().to_string(),
        "release of 1 permits refused: only 0 are in flight"
    );
    let base = AimdConfig::new(Nanos::from_millis(1));
    assert_eq!(
        Aimd::new(AimdConfig { initial: 201, ..base }).unwrap_err().to_string(),
        "initial = 201 breaks 1 <= floor <= initial <= ceiling (floor 1, ceiling 200)"
    );
    assert_eq!(
        Aimd::new(AimdConfig { ceiling: 70_000, ..base }).unwrap_err().to_string(),
        "ceiling must be in 1..=65535, got 70000"
    );
}

/// `x` as a `u32`; the model's values stay below 2²⁴.
fn narrow(x: u64) -> u32 {
    u32::try_from(x).unwrap()
}

/// The specification, one integer per fact.
#[derive(Debug, Default)]
struct Model {
    in_flight: u64,
    limit: u64,
    shadow: bool,
    /// Whether refusals are counted (`Bulkhead::count_refusals`).
    count_refusals: bool,
    admitted: u64,
    rejected: u64,
    over_releases: u64,
}

impl Model {
    /// `Ok(would_reject)` or the refusal.
    fn acquire(&mut self, n: u32) -> Result<Option<Rejected>, Rejected> {
        let n64 = u64::from(n);
        let refusal = if n64 > self.limit {
            Some(Rejected::ExceedsLimit { requested: n, limit: narrow(self.limit) })
        } else if self.in_flight + n64 > self.limit {
            Some(Rejected::Full {
                requested: n,
                in_flight: narrow(self.in_flight),
                limit: narrow(self.limit),
            })
        } else {
            None
        };
        match refusal {
            None => {
                self.in_flight += n64;
                self.admitted += 1;
                Ok(None)
            }
            Some(r) => {
                if self.shadow && self.in_flight + n64 < (1 << 24) {
                    // A would-be refusal is an admission: counted either way.
                    self.rejected += 1;
                    self.in_flight += n64;
                    Ok(Some(r))
                } else {
                    self.rejected += u64::from(self.count_refusals);
                    Err(r)
                }
            }
        }
    }

    fn release(&mut self, n: u32) -> Result<(), ReleaseError> {
        if u64::from(n) > self.in_flight {
            self.over_releases += 1;
            return Err(ReleaseError::OverRelease {
                released: n,
                in_flight: narrow(self.in_flight),
            });
        }
        self.in_flight -= u64::from(n);
        Ok(())
    }
}

fn check(initial: u32, count_refusals: bool, ops: &[Op]) -> Result<(), TestCaseError> {
    let bulkhead = Bulkhead::new(initial).unwrap().count_refusals(count_refusals);
    prop_assert_eq!(bulkhead.counts_refusals(), count_refusals);
    let mut model = Model { limit: u64::from(initial), count_refusals, ..Model::default() };
    let mut held: Vec<Permit<'_>> = Vec::new();
    for op in ops {
        match *op {
            Op::Acquire(n) => {
                let got = bulkhead.try_acquire(n);
                let want = model.acquire(n);
                prop_assert_eq!(got.as_ref().map(Permit::would_reject).map_err(|e| *e), want);
                if let Ok(p) = got {
                    if p.would_reject().is_none() {
                        // An admission by the rule never takes in_flight past the limit.
                        prop_assert!(u64::from(p.in_flight_at_admission()) <= model.limit);
                    }
                    prop_assert_eq!(p.permits(), n);
                    prop_assert_eq!(u64::from(p.in_flight_at_admission()), model.in_flight);
                    held.push(p);
                }
            }
            Op::AcquireRaw(n) => {
                let got = bulkhead.try_acquire_raw(n).map(u64::from);
                let want = model.acquire(n).map(|_| model.in_flight);
                prop_assert_eq!(got, want);
            }
            Op::DropPermit(index) => {
                if !held.is_empty() {
                    let permit = held.swap_remove(index % held.len());
                    let n = permit.permits();
                    drop(permit);
                    let _ = model.release(n); // a permit's drop is a release, errors counted
                }
            }
            Op::Release(n) => prop_assert_eq!(bulkhead.release(n), model.release(n)),
            Op::Resize(limit) => {
                let got = bulkhead.resize(limit);
                if limit > MAX_LIMIT {
                    prop_assert_eq!(
                        got,
                        Err(ConfigError::OutOfRange {
                            field: "limit",
                            min: 0,
                            max: u64::from(MAX_LIMIT),
                            got: u64::from(limit),
                        })
                    );
                } else {
                    prop_assert_eq!(got.map(u64::from), Ok(model.limit));
                    model.limit = u64::from(limit);
                }
            }
            Op::Shadow(on) => {
                prop_assert_eq!(bulkhead.set_shadow(on), model.shadow);
                model.shadow = on;
            }
        }
        let snap = bulkhead.snapshot();
        prop_assert_eq!(u64::from(snap.in_flight), model.in_flight, "after {:?}", op);
        prop_assert_eq!(u64::from(snap.limit), model.limit);
        prop_assert_eq!(u64::from(snap.available), model.limit.saturating_sub(model.in_flight));
        prop_assert_eq!(snap.shadow, model.shadow);
        prop_assert_eq!(
            (snap.admitted, snap.rejected, snap.over_releases),
            (model.admitted, model.rejected, model.over_releases)
        );
    }
    drop(held);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bulkhead_matches_model(
        initial in 0u32..6,
        count_refusals: bool,
        ops in prop::collection::vec(op(), 0..120),
    ) {
        check(initial, count_refusals, &ops)?;
    }

    /// Long runs cross the 256-wrap of the in-word counters many times.
    #[test]
    fn counters_match_model_across_wraps(
        count_refusals: bool,
        ops in prop::collection::vec(op(), 400..700),
    ) {
        check(3, count_refusals, &ops)?;
    }
}

// ---------------------------------------------------------------------------------------------
// AIMD against its rule, restated

#[derive(Debug)]
struct AimdModel {
    limit: u64,
    successes: u64,
    since: u64,
}

fn aimd_model_step(c: &AimdConfig, m: &mut AimdModel, s: Sample) -> Option<u32> {
    let before = m.limit;
    m.since = m.since.saturating_add(1);
    if s.dropped || s.rtt > c.latency_threshold {
        m.successes = 0;
        if m.since > m.limit {
            // `since` counts this sample too: "at least `limit` samples before it".
            let cut = (m.limit * u64::from(c.backoff_permille) / 1000).min(m.limit - 1);
            m.limit = cut.max(u64::from(c.floor));
            m.since = 0;
        }
    } else if u64::from(s.in_flight) * 2 >= m.limit {
        m.successes += 1;
        if m.successes >= m.limit {
            m.limit = (m.limit + u64::from(c.increase)).min(u64::from(c.ceiling));
            m.successes = 0;
        }
    }
    (m.limit != before).then_some(narrow(m.limit))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn aimd_matches_model(
        floor in 1u32..5,
        span in 0u32..20,
        increase in 1u32..4,
        backoff in 500u32..1000,
        samples in prop::collection::vec((0u64..200, 0u32..40, any::<bool>()), 0..300),
    ) {
        let ceiling = floor + span;
        let c = AimdConfig {
            initial: floor,
            floor,
            ceiling,
            latency_threshold: Nanos::new(100),
            increase: increase.min(ceiling),
            backoff_permille: backoff,
        };
        let a = Aimd::new(c).unwrap();
        let mut m = AimdModel { limit: u64::from(floor), successes: 0, since: u64::MAX };
        for (rtt, in_flight, dropped) in samples {
            let s = Sample { rtt: Nanos::new(rtt), in_flight, dropped: dropped && rtt % 7 == 0 };
            prop_assert_eq!(a.record(s), aimd_model_step(&c, &mut m, s));
            prop_assert_eq!(u64::from(a.limit()), m.limit);
            prop_assert!(a.limit() >= floor && a.limit() <= ceiling);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Gradient: invariants under arbitrary samples

proptest! {
    #![proptest_config(config())]

    /// Whatever the samples: the limit stays in `floor..=ceiling`, it is the floor exactly while
    /// probing, a change is reported exactly when the limit moved, and one update never grows
    /// the estimate by more than `queue_size · smoothing` (rounded up to a permit).
    #[test]
    fn gradient_invariants(
        floor in 1u32..5,
        span in 0u32..60,
        queue_size in 0u32..8,
        smoothing in 1u32..=1000,
        tolerance in 1000u32..3000,
        probe_interval in 0u32..200,
        probe_samples in 1u32..10,
        samples in prop::collection::vec((1u64..1_000_000, 0u32..80, any::<bool>()), 0..400),
    ) {
        let ceiling = floor + span;
        let config = GradientConfig {
            initial: floor,
            floor,
            ceiling,
            queue_size: queue_size.min(ceiling),
            smoothing_permille: smoothing,
            tolerance_permille: tolerance,
            probe_interval,
            probe_samples,
        };
        let g = Gradient::new(config).unwrap();
        let max_step = u64::from(config.queue_size) * u64::from(smoothing) / 1000 + 1;
        for (rtt, in_flight, dropped) in samples {
            let before = (g.limit(), g.estimate());
            let changed = g.record(Sample { rtt: Nanos::new(rtt), in_flight, dropped });
            let (limit, estimate) = (g.limit(), g.estimate());
            prop_assert!((floor..=ceiling).contains(&limit) && (floor..=ceiling).contains(&estimate));
            if g.probing() {
                prop_assert_eq!(limit, floor);
            } else {
                prop_assert_eq!(limit, estimate);
            }
            prop_assert_eq!(changed, (limit != before.0).then_some(limit));
            prop_assert!(u64::from(estimate) <= u64::from(before.1) + max_step);
        }
    }
}
