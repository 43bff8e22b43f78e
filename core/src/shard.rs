//! Cells and shuffle sharding: pure, allocation-free assignment of keys to cells and to
//! shuffle-shards of workers, so that one poisoned tenant reaches only its own cell or shard.
//!
//! - [`cell_of`]: the cell of a key among `cells`, by jump consistent hashing (when cells are
//!   added, only the keys that move to the new cell move).
//! - [`shuffle_shard`]: `k` distinct workers out of `n` for a key, written into a caller slice.
//! - [`expected_overlap_ppm`], [`overlap_probability_ppm`], [`distinct_shards`] and [`overlap`]:
//!   how much two keys' shards share.
//!
//! The exact semantics and the distribution tests are in `docs/semantics/sharding.md`, included
//! below.
#![doc = include_str!("../../docs/semantics/sharding.md")]

use crate::error::ConfigError;
use crate::rng::SplitMix64;

/// The most workers a shard can index (`u16` entries).
pub const MAX_WORKERS: u32 = 1 << 16;

/// The cell of `key` among `cells`, in `0..cells`: jump consistent hashing (Lamping and Veach,
/// 2014), in integer arithmetic.
///
/// # Semantics
///
/// Deterministic and uniform over `0..cells`. Monotone under growth: going from `cells` to
/// `cells + 1`, a key either keeps its cell or moves to the new cell `cells` (about
/// `1 / (cells + 1)` of the keys move, the fewest possible).
///
/// # Examples
///
/// ```
/// use portcullis::shard::cell_of;
/// let cell = cell_of(0xC0FFEE, 8).unwrap();
/// assert!(cell < 8);
/// assert_eq!(cell_of(0xC0FFEE, 8), Ok(cell)); // deterministic
/// let grown = cell_of(0xC0FFEE, 9).unwrap();
/// assert!(grown == cell || grown == 8);       // stays, or moves to the new cell
/// ```
///
/// # Errors
///
/// [`ConfigError::ZeroCount`] (`cells`) if `cells == 0`.
///
/// # Panics
///
/// Never.
pub const fn cell_of(key: u64, cells: u32) -> Result<u32, ConfigError> {
    if cells == 0 {
        return Err(ConfigError::ZeroCount { field: "cells" });
    }
    let mut key = key;
    let mut b: u64 = 0;
    let mut j: u64 = 0;
    while j < cells as u64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // The reference computes (b + 1) · 2³¹ / ((key >> 33) + 1) in floating point; the exact
        // integer quotient is the same rule without its rounding.
        let q = ((b as u128 + 1) << 31) / ((key >> 33) as u128 + 1);
        #[allow(clippy::cast_possible_truncation, reason = "checked against u64::MAX first")]
        let q64 = q as u64;
        j = if q > u64::MAX as u128 { u64::MAX } else { q64 };
    }
    // `b < cells`, a `u32`.
    #[allow(clippy::cast_possible_truncation, reason = "b < cells <= u32::MAX")]
    let cell = b as u32;
    Ok(cell)
}

/// Writes the shuffle-shard of `key` — `out.len()` distinct workers out of `workers`, in
/// ascending order — into `out`.
///
/// # Semantics
///
/// The shard is a uniformly random `k`-subset of `0..workers` (`k = out.len()`), drawn by
/// Floyd's algorithm from a SplitMix64 generator seeded with `key` mixed with `seed` (one seed
/// per fleet changes every shard at once). Deterministic: the same `(key, seed, workers, k)`
/// always gives the same shard. `O(k²)` comparisons, no allocation.
///
/// # Examples
///
/// ```
/// use portcullis::shard::{overlap, shuffle_shard};
/// let (mut a, mut b) = ([0u16; 4], [0u16; 4]);
/// shuffle_shard(1, 0, 16, &mut a).unwrap();
/// shuffle_shard(2, 0, 16, &mut b).unwrap();
/// assert!(a.windows(2).all(|w| w[0] < w[1])); // distinct, ascending
/// assert!(overlap(&a, &b) < 4);               // tenants 1 and 2 do not share a whole shard
/// ```
///
/// # Errors
///
/// [`ConfigError::ZeroCount`] (`shard_size`) if `out` is empty; [`ConfigError::OutOfRange`]
/// (`workers`) unless `1 <= workers <= 65,536`; [`ConfigError::FieldsOutOfOrder`] (`workers`
/// below `shard_size`) if `k > workers`. `out` is untouched on error.
///
/// # Panics
///
/// Never.
pub fn shuffle_shard(
    key: u64,
    seed: u64,
    workers: u32,
    out: &mut [u16],
) -> Result<(), ConfigError> {
    let k = out.len();
    if k == 0 {
        return Err(ConfigError::ZeroCount { field: "shard_size" });
    }
    if workers == 0 || workers > MAX_WORKERS {
        return Err(ConfigError::OutOfRange {
            field: "workers",
            min: 1,
            max: u64::from(MAX_WORKERS),
            got: u64::from(workers),
        });
    }
    if k as u64 > u64::from(workers) {
        return Err(ConfigError::FieldsOutOfOrder {
            field: "workers",
            value: u64::from(workers),
            lower_field: "shard_size",
            lower: k as u64,
        });
    }
    // Seeded by the key through one SplitMix64 step, so that nearby keys get unrelated streams.
    let mut rng = SplitMix64::new(SplitMix64::new(key ^ seed.rotate_left(32)).next_u64());
    // Floyd: for j in n−k..n, draw t in 0..=j; take t unless taken, else j (which cannot be).
    let first = u64::from(workers) - k as u64;
    for (filled, j) in (first..u64::from(workers)).enumerate() {
        let t = rng.below(j + 1);
        let chosen = out.get(..filled).unwrap_or(&[]);
        let pick = if chosen.iter().any(|&w| u64::from(w) == t) { j } else { t };
        if let (Some(slot), Ok(pick)) = (out.get_mut(filled), u16::try_from(pick)) {
            *slot = pick;
        }
    }
    out.sort_unstable();
    Ok(())
}

/// How many workers two shards share (each sorted or not; entries assumed distinct).
///
/// # Panics
///
/// Never.
#[must_use]
pub fn overlap(a: &[u16], b: &[u16]) -> usize {
    a.iter().filter(|w| b.contains(w)).count()
}

/// The expected number of workers two independent keys' shards share, in millionths of a
/// worker: `k² / n` (the mean of the hypergeometric distribution).
///
/// # Examples
///
/// ```
/// use portcullis::shard::expected_overlap_ppm;
/// assert_eq!(expected_overlap_ppm(100, 5), Ok(250_000)); // a quarter of a worker on average
/// ```
///
/// # Errors
///
/// As [`shuffle_shard`] for `workers` and `shard_size`.
pub fn expected_overlap_ppm(workers: u32, shard_size: u32) -> Result<u64, ConfigError> {
    check(workers, shard_size)?;
    Ok(u64::from(shard_size) * u64::from(shard_size) * 1_000_000 / u64::from(workers))
}

/// The probability that two independent keys' shards share exactly `m` workers, in parts per
/// million, rounded to nearest: `C(k, m) · C(n − k, k − m) / C(n, k)`.
///
/// # Examples
///
/// ```
/// use portcullis::shard::overlap_probability_ppm;
/// // 8 workers, shards of 4: both keys on the same shard once in 70.
/// assert_eq!(overlap_probability_ppm(8, 4, 4), Ok(14_286));
/// assert_eq!(overlap_probability_ppm(8, 4, 0), Ok(14_286));
/// assert_eq!(overlap_probability_ppm(8, 4, 2), Ok(514_286)); // 36 / 70
/// ```
///
/// # Errors
///
/// As [`shuffle_shard`] for `workers` and `shard_size`; [`ConfigError::OutOfRange`]
/// (`overlap`) if `m > k`.
pub fn overlap_probability_ppm(workers: u32, shard_size: u32, m: u32) -> Result<u64, ConfigError> {
    check(workers, shard_size)?;
    if m > shard_size {
        return Err(ConfigError::OutOfRange {
            field: "overlap",
            min: 0,
            max: u64::from(shard_size),
            got: u64::from(m),
        });
    }
    let (n, k, m) = (u64::from(workers), u64::from(shard_size), u64::from(m));
    if k - m > n - k {
        return Ok(0);
    }
    // Ratios of binomials by logarithms would round; a product of ratios in u128 fixed point
    // stays exact enough: P = Π over the hypergeometric terms, computed as
    // C(k,m) · C(n−k,k−m) / C(n,k) with every factor in 64.64 fixed point.
    let p = ratio_of_binomials(k, m, n - k, k - m, n, k);
    Ok(p)
}

/// `C(a, b) · C(c, d) / C(e, f)` in parts per million, rounded, by multiplying ratios in
/// 64.64 fixed point (each binomial as a product of `(x − i) / (i + 1)` factors).
#[allow(
    clippy::many_single_char_names,
    reason = "the letters of the formula C(a, b) · C(c, d) / C(e, f)"
)]
fn ratio_of_binomials(a: u64, b: u64, c: u64, d: u64, e: u64, f: u64) -> u64 {
    // ln-free: accumulate numerator factors and divide by denominator factors alternately to
    // keep the value in range. Value = Π_{i<b} (a−i)/(i+1) · Π_{i<d} (c−i)/(i+1) · Π_{i<f} (i+1)/(e−i).
    const ONE: u128 = 1 << 64;
    let mut v: u128 = ONE;
    let (mut i1, mut i2, mut i3) = (0u64, 0u64, 0u64);
    loop {
        let grow = i1 < b || i2 < d;
        // Shrink first while the value is large, so that it stays below 2¹²⁸.
        if i3 < f && (!grow || v >= ONE) {
            v = v * u128::from(i3 + 1) / u128::from(e - i3);
            i3 += 1;
        } else if i1 < b {
            v = v * u128::from(a - i1) / u128::from(i1 + 1);
            i1 += 1;
        } else if i2 < d {
            v = v * u128::from(c - i2) / u128::from(i2 + 1);
            i2 += 1;
        } else {
            break;
        }
    }
    let ppm = (v * 1_000_000 + ONE / 2) >> 64;
    u64::try_from(ppm).unwrap_or(u64::MAX)
}

/// The number of distinct shards of `k` out of `n`, `C(n, k)`: two keys share a whole shard with
/// probability `1 / C(n, k)`. `None` if it does not fit in 128 bits.
///
/// # Examples
///
/// ```
/// use portcullis::shard::distinct_shards;
/// assert_eq!(distinct_shards(100, 5), Ok(Some(75_287_520)));
/// ```
///
/// # Errors
///
/// As [`shuffle_shard`] for `workers` and `shard_size`.
pub fn distinct_shards(workers: u32, shard_size: u32) -> Result<Option<u128>, ConfigError> {
    check(workers, shard_size)?;
    let (n, k) = (u128::from(workers), u128::from(shard_size.min(workers - shard_size)));
    let mut c: u128 = 1;
    for i in 0..k {
        // C(n, i + 1) = C(n, i) · (n − i) / (i + 1), exact at every step.
        c = match c.checked_mul(n - i) {
            Some(x) => x / (i + 1),
            None => return Ok(None),
        };
    }
    Ok(Some(c))
}

/// The rules shared by the overlap functions.
fn check(workers: u32, shard_size: u32) -> Result<(), ConfigError> {
    if shard_size == 0 {
        return Err(ConfigError::ZeroCount { field: "shard_size" });
    }
    if workers == 0 || workers > MAX_WORKERS {
        return Err(ConfigError::OutOfRange {
            field: "workers",
            min: 1,
            max: u64::from(MAX_WORKERS),
            got: u64::from(workers),
        });
    }
    if shard_size > workers {
        return Err(ConfigError::FieldsOutOfOrder {
            field: "workers",
            value: u64::from(workers),
            lower_field: "shard_size",
            lower: u64::from(shard_size),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_precise() {
        assert_eq!(cell_of(1, 0), Err(ConfigError::ZeroCount { field: "cells" }));
        let mut out = [7u16; 5];
        assert_eq!(
            shuffle_shard(1, 0, 4, &mut out),
            Err(ConfigError::FieldsOutOfOrder {
                field: "workers",
                value: 4,
                lower_field: "shard_size",
                lower: 5
            })
        );
        assert_eq!(out, [7; 5], "untouched on error");
        assert_eq!(
            shuffle_shard(1, 0, 4, &mut []),
            Err(ConfigError::ZeroCount { field: "shard_size" })
        );
        assert_eq!(
            shuffle_shard(1, 0, 0, &mut out),
            Err(ConfigError::OutOfRange { field: "workers", min: 1, max: 65_536, got: 0 })
        );
        assert_eq!(
            expected_overlap_ppm(65_537, 1),
            Err(ConfigError::OutOfRange { field: "workers", min: 1, max: 65_536, got: 65_537 })
        );
        assert_eq!(
            overlap_probability_ppm(8, 4, 5),
            Err(ConfigError::OutOfRange { field: "overlap", min: 0, max: 4, got: 5 })
        );
        assert_eq!(distinct_shards(3, 0), Err(ConfigError::ZeroCount { field: "shard_size" }));
    }

    #[test]
    fn whole_and_single_shards() {
        let mut all = [0u16; 6];
        shuffle_shard(42, 1, 6, &mut all).unwrap();
        assert_eq!(all, [0, 1, 2, 3, 4, 5], "k = n takes every worker");
        let mut one = [0u16; 1];
        shuffle_shard(42, 1, 65_536, &mut one).unwrap();
        assert_eq!(cell_of(u64::MAX, 1), Ok(0));
        assert_eq!(distinct_shards(6, 6), Ok(Some(1)));
        assert_eq!(distinct_shards(65_536, 30_000), Ok(None));
        assert_eq!(overlap_probability_ppm(6, 6, 6), Ok(1_000_000));
        assert_eq!(overlap_probability_ppm(10, 3, 0), Ok(291_667)); // C(7,3)/C(10,3) = 35/120
        assert_eq!(overlap(&[1, 2, 3], &[3, 4, 1]), 2);
    }

    #[test]
    fn overlap_probabilities_sum_to_one() {
        for (n, k) in [(8u32, 4u32), (16, 4), (100, 5), (1_000, 10), (65_536, 16), (30, 15)] {
            let total: u64 = (0..=k).map(|m| overlap_probability_ppm(n, k, m).unwrap()).sum();
            assert!(total.abs_diff(1_000_000) <= u64::from(k) + 1, "n {n} k {k}: {total}");
        }
    }
}
