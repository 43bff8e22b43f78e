//! Cells and shuffle shards: properties of every shard (proptest), and their distribution over
//! many keys against the probabilities the module reports.
#![cfg(not(loom))]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "frequencies of at most 40,000 events and shard sizes below 10, exact in f64 and u32"
)]

use portcullis::ConfigError;
use portcullis::rng::SplitMix64;
use portcullis::shard::{
    cell_of, expected_overlap_ppm, overlap, overlap_probability_ppm, shuffle_shard,
};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    /// A shard is `k` distinct workers below `n`, ascending, the same every time; `k > n` is
    /// refused without touching `out`.
    #[test]
    fn shards_are_distinct_sorted_and_deterministic(
        key in any::<u64>(),
        seed in any::<u64>(),
        workers in 1u32..=300,
        k in 1usize..=40,
    ) {
        let mut out = vec![u16::MAX; k];
        let result = shuffle_shard(key, seed, workers, &mut out);
        if k as u64 > u64::from(workers) {
            prop_assert_eq!(result, Err(ConfigError::FieldsOutOfOrder {
                field: "workers",
                value: u64::from(workers),
                lower_field: "shard_size",
                lower: k as u64,
            }));
            prop_assert!(out.iter().all(|&w| w == u16::MAX));
        } else {
            prop_assert_eq!(result, Ok(()));
            prop_assert!(out.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(out.iter().all(|&w| u32::from(w) < workers));
            let mut again = vec![0u16; k];
            shuffle_shard(key, seed, workers, &mut again).unwrap();
            prop_assert_eq!(out, again);
        }
    }

    /// Growing the cells moves a key only into the new cell.
    #[test]
    fn cells_move_only_to_the_new_cell(key in any::<u64>(), cells in 1u32..1_000) {
        let before = cell_of(key, cells).unwrap();
        let after = cell_of(key, cells + 1).unwrap();
        prop_assert!(before < cells);
        prop_assert!(after == before || after == cells);
    }
}

/// Keys drawn from a fixed stream, so that the counts below are reproducible.
fn keys(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| rng.next_u64()).collect()
}

/// Every cell holds 1/cells of 20,000 keys within 10 %; growing from 10 to 11 cells moves about
/// 1/11 of them, all to the new cell.
#[test]
fn cells_are_balanced_and_move_minimally() {
    let keys = keys(20_000, 1);
    let mut counts = [0u32; 10];
    for &k in &keys {
        counts[cell_of(k, 10).unwrap() as usize] += 1;
    }
    assert!(counts.iter().all(|&c| (1_800..=2_200).contains(&c)), "{counts:?}");
    let moved = keys.iter().filter(|&&k| cell_of(k, 11).unwrap() != cell_of(k, 10).unwrap());
    let moved: Vec<_> = moved.collect();
    assert!(moved.iter().all(|&&k| cell_of(k, 11).unwrap() == 10));
    let share = moved.len() as f64 / 20_000.0;
    assert!((share - 1.0 / 11.0).abs() < 0.01, "moved {share}");
}

/// Over 20,000 keys (n = 16, k = 4) each worker is in about k/n = 1/4 of the shards, and the
/// overlaps of 20,000 pairs of keys follow the hypergeometric probabilities within 1.5 points,
/// with the mean within 3 % of k²/n.
#[test]
fn overlaps_follow_the_hypergeometric_distribution() {
    const N: u32 = 16;
    const K: usize = 4;
    let keys = keys(40_000, 2);
    let mut per_worker = [0u32; N as usize];
    let mut histogram = [0u32; K + 1];
    let mut total = 0u64;
    for pair in keys.chunks_exact(2) {
        let (mut a, mut b) = ([0u16; K], [0u16; K]);
        shuffle_shard(pair[0], 7, N, &mut a).unwrap();
        shuffle_shard(pair[1], 7, N, &mut b).unwrap();
        for w in a.iter().chain(&b) {
            per_worker[*w as usize] += 1;
        }
        let m = overlap(&a, &b);
        histogram[m] += 1;
        total += m as u64;
    }
    // 40,000 shards × 4 workers / 16 = 10,000 each.
    assert!(per_worker.iter().all(|&c| (9_500..=10_500).contains(&c)), "{per_worker:?}");
    for (m, &seen) in histogram.iter().enumerate() {
        let want = overlap_probability_ppm(N, K as u32, m as u32).unwrap() as f64 / 1e6;
        let got = f64::from(seen) / 20_000.0;
        assert!((got - want).abs() < 0.015, "overlap {m}: {got} vs {want}");
    }
    let mean = total as f64 / 20_000.0;
    let expected = expected_overlap_ppm(N, K as u32).unwrap() as f64 / 1e6;
    assert!((mean - expected).abs() < 0.03 * expected, "mean {mean} vs {expected}");
}
