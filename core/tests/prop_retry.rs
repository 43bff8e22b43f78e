//! Retry policies and budgets against sequential reference models: every strategy's delays stay
//! within their documented bounds at every attempt (huge attempt numbers included), the
//! decorrelated sequence follows its formula, a seed replays its sequence, the budgets match
//! their models on a manual clock and never allow more retries than their rule, and a retry storm
//! of many failing callers stays within the budget's bound.
#![cfg(not(loom))]

use portcullis::retry::{
    Backoff, ErrorClass, Jitter, RatioBudget, RatioBudgetConfig, RetryBudget, RetryConfig,
    RetryDecision, RetryPolicy, RetryState, RetryThrottle, StopReason, ThrottleConfig,
};
use portcullis::rng::SplitMix64;
use portcullis::{Clock, ConfigError, ManualClock, Nanos};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

fn backoff() -> impl Strategy<Value = Backoff> {
    prop_oneof![
        Just(Backoff::Constant),
        Just(Backoff::Linear),
        (1_000u32..5_000).prop_map(|m| Backoff::Exponential { multiplier_permille: m }),
        Just(Backoff::Exponential { multiplier_permille: 1_000 }),
        Just(Backoff::Exponential { multiplier_permille: u32::MAX }),
        Just(Backoff::Fibonacci),
    ]
}

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
        (0u32..=1_000_000).prop_map(|ppm| Jitter::Proportional { ppm }),
    ]
}

/// Base and cap anywhere in the u64 range, including near its top (saturation).
fn base_and_cap() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![
        (1u64..1_000_000, 0u64..1_000_000_000).prop_map(|(b, extra)| (b, b + extra)),
        (1u64..u64::MAX / 2, any::<bool>())
            .prop_map(|(b, max)| (b, if max { u64::MAX } else { b })),
        Just((u64::MAX, u64::MAX)),
    ]
}

fn policy(backoff: Backoff, jitter: Jitter, base: u64, cap: u64) -> RetryPolicy {
    RetryPolicy::new(RetryConfig {
        max_attempts: u32::MAX,
        backoff,
        base_delay: Nanos::new(base),
        max_delay: Nanos::new(cap),
        jitter,
        total_budget: Nanos::MAX,
        pushback_min: Nanos::ZERO,
        pushback_max: Nanos::MAX,
    })
    .expect("valid config")
}

fn delay_of(d: RetryDecision) -> Result<u64, TestCaseError> {
    match d {
        RetryDecision::Retry { delay, .. } => Ok(delay.as_u64()),
        RetryDecision::Stop(r) => Err(TestCaseError::fail(format!("unexpected stop {r:?}"))),
    }
}

proptest! {
    #![proptest_config(config())]

    /// The pure backoff formula: within `base..=cap`, non-decreasing in `n`, at any `n`.
    #[test]
    fn backoff_delay_is_bounded_and_monotone(
        b in backoff(), (base, cap) in base_and_cap(), n in any::<u32>(), small in 1u32..200,
    ) {
        let p = policy(b, Jitter::None, base, cap);
        for k in [n, small, u32::MAX, n.saturating_add(1)] {
            let d = p.backoff_delay(k).as_u64();
            prop_assert!(base <= d && d <= cap, "{b:?} n={k}: {d} not in {base}..={cap}");
        }
        prop_assert!(p.backoff_delay(small) <= p.backoff_delay(small + 1));
        prop_assert!(p.backoff_delay(n) <= p.backoff_delay(n.saturating_add(1)));
        if let Backoff::Constant = b {
            prop_assert_eq!(p.backoff_delay(n).as_u64(), base);
        }
    }

    /// Every decision's delay is within its strategy's documented bounds, for a long run of
    /// retries (the schedule reaches and stays at its cap), and without jitter equals the pure
    /// formula step by step.
    #[test]
    fn delays_within_documented_bounds(
        b in backoff(), j in jitter(), (base, cap) in base_and_cap(), seed in any::<u64>(),
        steps in 1usize..150,
    ) {
        let p = policy(b, j, base, cap);
        let mut s = RetryState::new(&p, Nanos::ZERO, seed);
        let mut last_sleep = base;
        for n in 1..=steps {
            let n32 = u32::try_from(n).unwrap();
            let d = p.backoff_delay(n32).as_u64();
            let got = delay_of(s.decide(&p, ErrorClass::Retryable, Nanos::ZERO))?;
            prop_assert!(got <= cap, "never above the cap");
            match j {
                Jitter::None => prop_assert_eq!(got, d),
                Jitter::Full => prop_assert!(got <= d),
                Jitter::Equal => prop_assert!(d / 2 <= got && got <= d),
                Jitter::Decorrelated => {
                    prop_assert!(base <= got && got <= cap.min(last_sleep.saturating_mul(3)));
                    last_sleep = got;
                }
                Jitter::Proportional { ppm } => {
                    let spread = u64::try_from(u128::from(d) * u128::from(ppm) / 1_000_000).unwrap();
                    prop_assert!(d - spread <= got && got <= cap.min(d.saturating_add(spread)));
                }
            }
            prop_assert_eq!(s.attempts(), n32 + 1);
        }
    }

    /// Decorrelated jitter follows `sleep = min(cap, random(base, 3 · sleep))` exactly, drawn from
    /// a `SplitMix64` with the call's seed.
    #[test]
    fn decorrelated_matches_its_formula(
        base in 1u64..1_000_000_000, extra in 0u64..10_000_000_000, seed in any::<u64>(),
        steps in 1usize..60,
    ) {
        let cap = base + extra;
        let p = policy(Backoff::Exponential { multiplier_permille: 2_000 }, Jitter::Decorrelated, base, cap);
        let mut s = RetryState::new(&p, Nanos::ZERO, seed);
        let mut g = SplitMix64::new(seed);
        let mut sleep = base;
        for _ in 0..steps {
            let hi = sleep.saturating_mul(3);
            sleep = (base + g.below(hi - base + 1)).min(cap);
            prop_assert_eq!(delay_of(s.decide(&p, ErrorClass::Retryable, Nanos::ZERO))?, sleep);
        }
    }

    /// The same seed replays the same decisions, push-backs and stops included; the policy is
    /// pure and a copied state continues identically.
    #[test]
    fn same_seed_same_sequence(
        b in backoff(), j in jitter(), (base, cap) in base_and_cap(), seed in any::<u64>(),
        classes in prop::collection::vec(0u8..4, 1..40),
    ) {
        let p = policy(b, j, base, cap);
        let mut a = RetryState::new(&p, Nanos::ZERO, seed);
        let mut c = RetryState::new(&p, Nanos::ZERO, seed);
        for (i, k) in classes.iter().enumerate() {
            let class = match k {
                0 => ErrorClass::Retryable,
                1 => ErrorClass::RetryableAfter(Nanos::new(i as u64)),
                2 => ErrorClass::NotRetryable,
                _ => ErrorClass::StopRetrying,
            };
            let snapshot = a;
            let (x, y) = (a.decide(&p, class, Nanos::ZERO), c.decide(&p, class, Nanos::ZERO));
            prop_assert_eq!(x, y);
            if let RetryDecision::Stop(_) = x {
                prop_assert_eq!(a, snapshot, "a stop leaves the state unchanged");
            }
        }
    }

    /// The total budget: no retry is granted at or after the deadline, and no granted retry ends
    /// after it.
    #[test]
    fn retries_never_start_after_the_deadline(
        b in backoff(), j in jitter(), budget in 1u64..10_000, start in 0u64..1_000_000,
        gaps in prop::collection::vec(0u64..3_000, 1..30), seed in any::<u64>(),
    ) {
        let p = RetryPolicy::new(RetryConfig {
            max_attempts: u32::MAX,
            backoff: b,
            base_delay: Nanos::new(100),
            max_delay: Nanos::new(5_000),
            jitter: j,
            total_budget: Nanos::new(budget),
            ..RetryConfig::DEFAULT
        }).unwrap();
        let mut s = RetryState::new(&p, Nanos::new(start), seed);
        let deadline = start + budget;
        let mut now = start;
        for g in gaps {
            now += g;
            match s.decide(&p, ErrorClass::Retryable, Nanos::new(now)) {
                RetryDecision::Retry { delay, .. } => {
                    prop_assert!(now < deadline);
                    prop_assert!(now + delay.as_u64() <= deadline);
                    now += delay.as_u64();
                }
                RetryDecision::Stop(r) => {
                    prop_assert_eq!(r, StopReason::DeadlineExceeded);
                    prop_assert!(now >= deadline);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// gRPC throttling

proptest! {
    #![proptest_config(config())]

    /// `RetryThrottle` against the model of gRFC A6 in thousandths of a token.
    #[test]
    fn throttle_matches_model(
        max_tokens in 1u32..20, ratio in 1u32..3_000, ops in prop::collection::vec(any::<bool>(), 0..200),
    ) {
        let t = RetryThrottle::new(ThrottleConfig { max_tokens, token_ratio_milli: ratio }).unwrap();
        let max = u64::from(max_tokens) * 1_000;
        let mut model = max;
        for success in ops {
            if success {
                t.record_success();
                model = (model + u64::from(ratio)).min(max);
            } else {
                model = model.saturating_sub(1_000);
                prop_assert_eq!(t.record_failure(), model > max / 2);
            }
            prop_assert_eq!(t.milli_tokens(), model);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finagle ratio budget

/// Bucket width of the model tests, in ns.
const W: u64 = 10;
/// Bucket count of the jump operation's window (the tests use 1 and 4 buckets).
const JUMP_K: u64 = 4;

#[derive(Clone, Debug)]
enum BudgetOp {
    Deposit,
    Withdraw,
    Forward(u64),
    Backward(u64),
    Jump(u64),
}

fn budget_op() -> impl Strategy<Value = BudgetOp> {
    prop_oneof![
        6 => Just(BudgetOp::Deposit),
        6 => Just(BudgetOp::Withdraw),
        4 => (0..2 * W).prop_map(BudgetOp::Forward),
        1 => (0..2 * W).prop_map(BudgetOp::Backward),
        1 => (0u64..3).prop_map(|x| BudgetOp::Jump(W * JUMP_K * ((1 << 20) + x))),
    ]
}

/// The sequential model: every accepted deposit and withdrawal with the epoch it landed in.
struct BudgetModel<const K: usize> {
    reserve: i64,
    deposit: i64,
    newest: Option<u64>,
    ops: Vec<(u64, i64)>,
}

impl<const K: usize> BudgetModel<K> {
    fn epoch(&self, now: Nanos) -> u64 {
        let e = (now.as_u64() / W).min(u64::MAX - 1);
        self.newest.map_or(e, |n| n.max(e))
    }
    fn balance_at(&self, e: u64) -> i64 {
        self.reserve
            + self
                .ops
                .iter()
                .filter(|(x, _)| *x <= e && *x + K as u64 > e)
                .map(|(_, v)| v)
                .sum::<i64>()
    }
    fn apply(&mut self, now: Nanos, withdraw: bool) -> bool {
        if !withdraw && self.deposit == 0 {
            return true; // a deposit of nothing does not even move the window
        }
        let e = self.epoch(now);
        self.newest = Some(e);
        if withdraw {
            if self.balance_at(e) < 1_000 {
                return false;
            }
            self.ops.push((e, -1_000));
        } else if self.deposit > 0 {
            self.ops.push((e, self.deposit));
        }
        true
    }
}

fn check_budget<const K: usize>(
    reserve_per_sec: u32,
    ratio: u32,
    ops: &[BudgetOp],
) -> Result<(), TestCaseError> {
    // ttl = K · W ns; reserve = per_sec · ttl · 1000 / 1e9 units: use a huge per-second rate to
    // get whole retries out of a 40 ns ttl.
    let b = RatioBudget::<K>::new(RatioBudgetConfig {
        ttl: Nanos::new(W * K as u64),
        min_retries_per_sec: reserve_per_sec,
        retry_ratio_permille: ratio,
    })
    .unwrap();
    let mut model = BudgetModel::<K> {
        reserve: b.reserve_units(),
        deposit: i64::from(ratio),
        newest: None,
        ops: Vec::new(),
    };
    let clock = ManualClock::new(Nanos::new(1_000));
    for op in ops {
        let now = clock.now();
        match *op {
            BudgetOp::Deposit => {
                b.deposit(now);
                model.apply(now, false);
            }
            BudgetOp::Withdraw => {
                let granted = b.try_withdraw(now);
                prop_assert_eq!(granted, model.apply(now, true), "withdraw at {}", now);
                if granted {
                    // The rule, in the window that ends at the withdrawal's bucket:
                    // 1000 · retries <= reserve + ratio · requests.
                    let e = model.epoch(now);
                    let (mut retries, mut requests) = (0i64, 0i64);
                    for (x, v) in &model.ops {
                        if *x <= e && *x + K as u64 > e {
                            if *v < 0 { retries += 1 } else { requests += 1 }
                        }
                    }
                    prop_assert!(1_000 * retries <= model.reserve + i64::from(ratio) * requests);
                }
            }
            BudgetOp::Forward(d) | BudgetOp::Jump(d) => {
                clock.advance(Nanos::new(d));
            }
            BudgetOp::Backward(d) => clock.set(now.saturating_sub(Nanos::new(d))),
        }
        let now = clock.now();
        let e = model.epoch(now);
        prop_assert_eq!(b.balance_units(now), model.balance_at(e), "after {:?} at {}", op, now);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ratio_budget_matches_model(
        reserve_per_sec in prop_oneof![Just(0u32), 25_000_000u32..100_000_000],
        ratio in prop_oneof![Just(0u32), 1u32..=10_000],
        ops in prop::collection::vec(budget_op(), 0..120),
    ) {
        check_budget::<4>(reserve_per_sec, ratio, &ops)?;
    }

    #[test]
    fn ratio_budget_of_one_bucket_matches_model(
        reserve_per_sec in prop_oneof![Just(0u32), 100_000_000u32..400_000_000],
        ratio in prop_oneof![Just(0u32), 1u32..=10_000],
        ops in prop::collection::vec(budget_op(), 0..120),
    ) {
        check_budget::<1>(reserve_per_sec, ratio, &ops)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Retry storms

/// `callers` calls, each failing every attempt with a policy of up to 10 attempts, against
/// `budget`; returns the number of retries granted.
fn storm(budget: &dyn RetryBudget, callers: u32, clock: &ManualClock) -> u64 {
    let p = RetryPolicy::new(RetryConfig {
        max_attempts: 10,
        backoff: Backoff::Constant,
        base_delay: Nanos::ZERO,
        max_delay: Nanos::ZERO,
        jitter: Jitter::None,
        ..RetryConfig::DEFAULT
    })
    .unwrap();
    let mut retries = 0;
    for c in 0..callers {
        let now = clock.now();
        budget.record_request(now);
        let mut s = RetryState::new(&p, now, u64::from(c));
        while let RetryDecision::Retry { .. } =
            s.decide_with_budget(&p, ErrorClass::Retryable, clock.now(), budget)
        {
            retries += 1;
        }
        clock.advance(Nanos::from_micros(100));
    }
    retries
}

#[test]
fn retry_storm_is_bounded_by_each_budget() {
    // Without a budget: 9 retries per call.
    let clock = ManualClock::new(Nanos::ZERO);
    let callers = 10_000;

    // gRPC throttling, 10 tokens: at most ⌈10 / 2⌉ − 1 = 4 "retry" answers, ever.
    let throttle = RetryThrottle::new(ThrottleConfig::DEFAULT).unwrap();
    let r = storm(&throttle, callers, &clock);
    assert!(r <= 4, "throttle granted {r} retries");
    assert_eq!(r, 4, "and it does grant the retries above the threshold");

    // Finagle defaults over 1 s of calls (10 000 calls 100 µs apart, all inside one 10 s ttl):
    // at most 100 (reserve) + 20 % of 10 000 requests = 2 100 retries, instead of 90 000.
    let ratio = RatioBudget::<10>::new(RatioBudgetConfig::DEFAULT).unwrap();
    let r = storm(&ratio, callers, &clock);
    assert!(r <= 100 + u64::from(callers) / 5, "ratio budget granted {r} retries");
    assert!(r >= 2_000, "the budget is spent, not hoarded: {r}");
}

/// Many threads storming one budget at once: the bound holds under real concurrency too.
#[test]
fn retry_storm_from_many_threads_is_bounded() {
    let throttle = RetryThrottle::new(ThrottleConfig::DEFAULT).unwrap();
    let ratio = RatioBudget::<10>::new(RatioBudgetConfig::DEFAULT).unwrap();
    let clock = ManualClock::new(Nanos::ZERO);
    let (t, r) = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| (storm(&throttle, 2_000, &clock), storm(&ratio, 2_000, &clock)))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    assert!(t <= 4, "throttle: {t}");
    // 8 000 calls; the clock moves 100 µs per call, so all fall within 0.8 s, inside one 10 s
    // ttl. Bound: 100 + 20 % · 8 000 = 1 700.
    assert!(r <= 100 + 8_000 / 5, "ratio: {r}");
}

#[test]
fn config_errors_display_their_field_bound_and_value() {
    let e = RetryPolicy::new(RetryConfig { max_attempts: 0, ..RetryConfig::DEFAULT }).unwrap_err();
    assert_eq!(e.to_string(), "max_attempts must be greater than zero");
    let e = RatioBudget::<10>::new(RatioBudgetConfig {
        retry_ratio_permille: 20_000,
        ..RatioBudgetConfig::DEFAULT
    })
    .unwrap_err();
    assert_eq!(e.to_string(), "retry_ratio_permille must be at most 10000, got 20000");
    let e = RetryPolicy::new(RetryConfig { max_delay: Nanos::new(1), ..RetryConfig::DEFAULT })
        .unwrap_err();
    assert_eq!(
        e,
        ConfigError::FieldsOutOfOrder {
            field: "max_delay",
            value: 1,
            lower_field: "base_delay",
            lower: 100_000_000
        }
    );
    assert_eq!(e.to_string(), "max_delay must be at least base_delay (100000000), got 1");
}
