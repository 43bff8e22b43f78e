//! The histograms against exact percentiles of random samples (a sorted `Vec`): every answer
//! within the documented relative error `1 / (2·SUB)`, exact below `2·SUB`, and the overflow
//! rule; the rolling histogram against a model of "the samples of the current and previous
//! periods" on a manual clock.
#![cfg(not(loom))]

use portcullis::histogram::{Histogram, PPM, RollingHistogram};
use portcullis::{Clock, ManualClock, Nanos};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

/// Latencies spread over many orders of magnitude (log-uniform), plus exact small values.
fn latency(max_bits: u32) -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => 0u64..130,
        3 => (0u32..max_bits, any::<u64>()).prop_map(|(bits, r)| {
            let hi = 1u64 << bits;
            hi + r % hi
        }),
    ]
}

fn ppm() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0),
        Just(500_000),
        Just(950_000),
        Just(990_000),
        Just(999_000),
        Just(PPM),
        0u32..=PPM,
        PPM..u32::MAX
    ]
}

/// The exact nearest-rank percentile of sorted `samples`.
fn exact(sorted: &[u64], ppm: u32) -> u64 {
    let n = sorted.len() as u128;
    let k = (u128::from(ppm.min(PPM)) * n).div_ceil(u128::from(PPM)).max(1);
    sorted[usize::try_from(k).unwrap() - 1]
}

/// Checks one answer against the exact value: the documented bound.
fn check_bound(answer: u64, exact: u64, sub: u64, max: u64) -> Result<(), TestCaseError> {
    if exact >= max {
        prop_assert_eq!(answer, max, "at or above max_trackable answers max_trackable");
    } else if exact < 2 * sub {
        prop_assert_eq!(answer, exact, "exact below 2·SUB");
    } else {
        // |a − v| <= v / (2·SUB), in integers.
        prop_assert!(
            u128::from(answer.abs_diff(exact)) * u128::from(2 * sub) <= u128::from(exact),
            "answer {} for exact {} breaks 1/(2·{})",
            answer,
            exact,
            sub
        );
    }
    Ok(())
}

fn check_histogram<const SUB: usize, const OCT: usize>(
    samples: &[u64],
    ppms: &[u32],
) -> Result<(), TestCaseError> {
    let h = Histogram::<SUB, OCT>::new();
    for &s in samples {
        h.record(Nanos::new(s));
    }
    prop_assert_eq!(h.count(), samples.len() as u64);
    let max = h.max_trackable().as_u64();
    prop_assert_eq!(h.overflow_count(), samples.iter().filter(|&&s| s >= max).count() as u64);
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    for &p in ppms {
        let got = h.percentile(p);
        if sorted.is_empty() {
            prop_assert_eq!(got, None);
            continue;
        }
        check_bound(got.unwrap().as_u64(), exact(&sorted, p), SUB as u64, max)?;
    }
    // The multi-percentile read agrees with the single reads.
    if let Some(&[a, b, c]) = ppms.first_chunk::<3>() {
        let many = h.percentiles(&[a, b, c]);
        prop_assert_eq!(
            many,
            h.percentile(a).map(|x| [x, h.percentile(b).unwrap(), h.percentile(c).unwrap()])
        );
    }
    // Slow-call counts at bucket resolution: the samples above the top of the threshold's bucket.
    for &t in samples.iter().take(4) {
        let expected = match h.bucket_range(Nanos::new(t)) {
            Some((_, high)) => samples.iter().filter(|&&s| s > high.as_u64()).count() as u64,
            None => 0,
        };
        prop_assert_eq!(h.count_above(Nanos::new(t)), expected);
    }
    // The snapshot is the same percentiles.
    match h.snapshot() {
        None => prop_assert!(samples.is_empty()),
        Some(s) => {
            prop_assert_eq!(s.count, samples.len() as u64);
            prop_assert_eq!(
                [s.p50, s.p90, s.p99, s.p999, s.max],
                h.percentiles(&[500_000, 900_000, 990_000, 999_000, PPM]).unwrap()
            );
        }
    }
    h.reset();
    prop_assert_eq!(h.count(), 0);
    prop_assert_eq!(h.percentile(500_000), None);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn default_layout_within_error_bound(
        samples in prop::collection::vec(latency(42), 0..400),
        ppms in prop::collection::vec(ppm(), 1..8),
    ) {
        check_histogram::<32, 36>(&samples, &ppms)?;
    }

    #[test]
    fn coarse_layout_within_error_bound(
        samples in prop::collection::vec(latency(14), 0..300),
        ppms in prop::collection::vec(ppm(), 1..8),
    ) {
        // SUB = 4: relative error 1/8; max_trackable = 4·2^9 = 2048, so overflow is exercised.
        check_histogram::<4, 10>(&samples, &ppms)?;
    }

    #[test]
    fn fine_layout_within_error_bound(
        samples in prop::collection::vec(latency(62), 1..300),
        ppms in prop::collection::vec(ppm(), 1..8),
    ) {
        check_histogram::<256, 56>(&samples, &ppms)?;
    }

    #[test]
    fn bucket_range_contains_the_value(v in latency(40)) {
        let h = Histogram::<32, 36>::new();
        match h.bucket_range(Nanos::new(v)) {
            Some((lo, hi)) => {
                prop_assert!(lo.as_u64() <= v && v <= hi.as_u64());
                prop_assert!((hi.as_u64() - lo.as_u64() + 1) * 32 <= lo.as_u64().max(32));
            }
            None => prop_assert!(v >= h.max_trackable().as_u64()),
        }
    }
}

#[derive(Clone, Debug)]
enum RollOp {
    Record(u64),
    Advance(u64),
    Reset,
}

fn roll_op() -> impl Strategy<Value = RollOp> {
    prop_oneof![
        8 => latency(20).prop_map(RollOp::Record),
        3 => (0u64..250).prop_map(RollOp::Advance),
        1 => (0u64..10_000).prop_map(RollOp::Advance),
        1 => Just(RollOp::Reset),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// With a clock that only moves forward, a read at `now` sees exactly the samples recorded in
    /// periods `now / P` and `now / P − 1` (since the last reset).
    #[test]
    fn rolling_matches_model(start in 0u64..1_000, ops in prop::collection::vec(roll_op(), 0..80)) {
        const P: u64 = 100;
        let h = RollingHistogram::<32, 36>::new(Nanos::new(P)).unwrap();
        let clock = ManualClock::new(Nanos::new(start));
        let mut model: Vec<(u64, u64)> = Vec::new(); // (period, value)
        for op in &ops {
            match *op {
                RollOp::Record(v) => {
                    h.record(Nanos::new(v), clock.now());
                    model.push((clock.now().as_u64() / P, v));
                }
                RollOp::Advance(d) => { clock.advance(Nanos::new(d)); }
                RollOp::Reset => { h.reset(); model.clear(); }
            }
            let e = clock.now().as_u64() / P;
            let mut live: Vec<u64> =
                model.iter().filter(|(p, _)| *p + 1 >= e).map(|(_, v)| *v).collect();
            live.sort_unstable();
            prop_assert_eq!(h.count(clock.now()), live.len() as u64, "after {:?}", op);
            let (n, q) = h.percentiles(&[0, 500_000, PPM], clock.now());
            prop_assert_eq!(n, live.len() as u64);
            match q {
                None => prop_assert!(live.is_empty()),
                Some(answers) => {
                    for (a, p) in answers.iter().zip([0, 500_000, PPM]) {
                        check_bound(a.as_u64(), exact(&live, p), 32, 1 << 40)?;
                    }
                }
            }
        }
    }
}
