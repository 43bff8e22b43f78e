//! The hedge policy against its definitions: the live delay within the histogram's error of the
//! formula applied to exact percentiles, the budget against a sequential integer model, and the
//! decisions against the rules (max hedges, budget, deadline).
#![cfg(not(loom))]

use portcullis::Nanos;
use portcullis::deadline::Deadline;
use portcullis::hedge::{HedgeBudget, HedgeConfig, HedgeDecision, HedgePolicy, NoHedge};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

/// The exact nearest-rank percentile of sorted `samples`.
fn exact(sorted: &[u64], ppm: u32) -> u64 {
    let n = sorted.len() as u128;
    let k = (u128::from(ppm) * n).div_ceil(1_000_000).max(1);
    sorted[usize::try_from(k).unwrap() - 1]
}

proptest! {
    #![proptest_config(config())]

    /// `delay = clamp(q(low) + w·(q(high) − q(low)))`: a convex combination of two percentiles, so
    /// the histogram's relative error 1/64 carries over to the unclamped delay (plus 1 ns for the
    /// rounding of the weight), and clamping never increases the difference.
    #[test]
    fn live_delay_within_error_of_exact_formula(
        samples in prop::collection::vec(1u64..5_000_000_000, 1..300),
        low in 0u32..=1_000_000,
        spread in 0u32..=1_000_000,
        weight in 0u32..=1_000_000,
        min_ms in 0u64..5,
        max_ms in 5u64..2_000,
    ) {
        let high = low.saturating_add(spread).min(1_000_000);
        let c = HedgeConfig {
            low_ppm: low,
            high_ppm: high,
            weight_ppm: weight,
            min_samples: samples.len() as u64,
            min_delay: Nanos::from_millis(min_ms),
            max_delay: Nanos::from_millis(max_ms),
            ..HedgeConfig::DEFAULT
        };
        let p = HedgePolicy::<32, 36>::new(c).unwrap();
        let now = Nanos::from_secs(3);
        for &s in &samples {
            p.record_latency(Nanos::new(s), now);
        }
        let mut sorted = samples.clone();
        sorted.sort_unstable();
        let (l, h) = (exact(&sorted, low), exact(&sorted, high));
        let formula = |l: u64, h: u64| -> u64 {
            l + u64::try_from(u128::from(h - l) * u128::from(weight) / 1_000_000).unwrap()
        };
        let unclamped = formula(l, h);
        let clamp = |d: u64| d.clamp(c.min_delay.as_u64(), c.max_delay.as_u64());
        let got = p.delay(now).as_u64();
        prop_assert!(
            got.abs_diff(clamp(unclamped)) <= unclamped / 64 + 1,
            "delay {} vs exact {} (q = {}, {})", got, clamp(unclamped), l, h
        );
        // One sample fewer than min_samples: the static delay.
        let q = HedgePolicy::<32, 36>::new(HedgeConfig { min_samples: samples.len() as u64 + 1, ..c }).unwrap();
        for &s in &samples {
            q.record_latency(Nanos::new(s), now);
        }
        prop_assert_eq!(q.delay(now), c.static_delay);
    }

    /// The budget against integers: balance in millionths, capped at `burst` hedges.
    #[test]
    fn budget_matches_model(
        ratio in 0u32..=1_000_000,
        burst in 1u32..5,
        ops in prop::collection::vec(any::<bool>(), 0..300),
    ) {
        let b = HedgeBudget::new(ratio, burst).unwrap();
        let cap = u64::from(burst) * 1_000_000;
        let mut balance = cap;
        let (mut deposits, mut hedges) = (0u64, 0u64);
        for deposit in ops {
            if deposit {
                b.deposit();
                balance = (balance + u64::from(ratio)).min(cap);
                deposits += 1;
            } else {
                let ok = balance >= 1_000_000;
                if ok {
                    balance -= 1_000_000;
                    hedges += 1;
                }
                prop_assert_eq!(b.try_withdraw(), ok);
            }
            prop_assert_eq!(b.balance_ppm(), balance);
            prop_assert_eq!(b.available(), balance >= 1_000_000);
            prop_assert!(hedges <= u64::from(burst) + u64::from(ratio) * deposits / 1_000_000);
        }
    }

    /// Decisions follow the rules in order: max hedges, then budget, then deadline.
    #[test]
    fn decisions_follow_the_rules(
        max_hedges in 1u32..5,
        sent in 0u32..7,
        burst in 1u32..3,
        spend in 0u32..4,
        deadline_ms in 0u64..200,
    ) {
        let c = HedgeConfig { max_hedges, budget_burst: burst, budget_ratio_ppm: 0, ..HedgeConfig::DEFAULT };
        let p: HedgePolicy = HedgePolicy::new(c).unwrap();
        let mut spent = 0;
        for _ in 0..spend {
            if p.budget().try_withdraw() { spent += 1; }
        }
        let now = Nanos::from_millis(100);
        let deadline = Deadline::at(Nanos::from_millis(deadline_ms));
        let expected = if sent >= max_hedges {
            HedgeDecision::NoHedge(NoHedge::MaxHedges)
        } else if spent >= burst {
            HedgeDecision::NoHedge(NoHedge::BudgetExhausted)
        } else if 100 + 50 >= deadline_ms {
            HedgeDecision::NoHedge(NoHedge::DeadlineTooClose)
        } else {
            HedgeDecision::HedgeAfter(Nanos::from_millis(50))
        };
        prop_assert_eq!(p.decide_before(sent, now, deadline), expected);
        let launch = p.try_launch(sent);
        match expected {
            HedgeDecision::NoHedge(NoHedge::MaxHedges) => prop_assert_eq!(launch, Err(NoHedge::MaxHedges)),
            HedgeDecision::NoHedge(NoHedge::BudgetExhausted) => prop_assert_eq!(launch, Err(NoHedge::BudgetExhausted)),
            _ => prop_assert_eq!(launch, Ok(())),
        }
    }
}
