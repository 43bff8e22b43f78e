//! `histogram_ops`: random records, resets and reads on a `Histogram` (two layouts, one small so
//! that the overflow counter is reached), checked against a model that keeps every sample.
//!
//! Properties: `count` and `overflow_count` are exact; every percentile is the documented
//! representative (the midpoint, rounded down, of the bucket holding the exact nearest-rank
//! sample, or `max_trackable` for a sample in the overflow region) and percentiles never
//! decrease with the rank; `count_above` counts exactly the samples past the threshold's bucket;
//! a snapshot agrees with the separate reads.
use crate::Bytes;
use portcullis::Nanos;
use portcullis::histogram::Histogram;

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    if b.u8().is_multiple_of(2) {
        run(&Histogram::<4, 6>::new(), &mut b);
    } else {
        run(&Histogram::<32, 36>::new(), &mut b);
    }
}

/// The exact nearest-rank sample for `ppm` of the sorted `samples` (non-empty).
fn nearest_rank(sorted: &[u64], ppm: u32) -> u64 {
    let n = sorted.len() as u64;
    let p = u64::from(ppm.min(1_000_000));
    let k = (p * n).div_ceil(1_000_000).max(1);
    sorted[usize::try_from(k - 1).expect("rank fits")]
}

fn run<const SUB: usize, const OCT: usize>(h: &Histogram<SUB, OCT>, b: &mut Bytes<'_>) {
    let max = h.max_trackable().as_u64();
    let mut samples: Vec<u64> = Vec::new();
    let mut ops = 0;
    while !b.is_empty() && ops < 2048 {
        ops += 1;
        match b.u8() % 8 {
            0..=4 => {
                // Values of every magnitude: a random number shifted right by a random amount.
                let v = b.u64() >> (b.u8() % 65).min(63);
                h.record(Nanos::new(v));
                samples.push(v);
            }
            5 => {
                h.reset();
                samples.clear();
            }
            _ => {
                let t = b.u64() >> (b.u8() % 64);
                let above = match h.bucket_range(Nanos::new(t)) {
                    Some((_, high)) => samples.iter().filter(|&&v| v > high.as_u64()).count(),
                    None => 0,
                };
                assert_eq!(h.count_above(Nanos::new(t)) as usize, above, "count_above({t})");
            }
        }
        assert_eq!(h.count() as usize, samples.len());
        let over = samples.iter().filter(|&&v| v >= max).count();
        assert_eq!(h.overflow_count() as usize, over);
        let mut sorted = samples.clone();
        sorted.sort_unstable();
        let ppms = [0, 1, 500_000, 900_000, 990_000, 999_000, 1_000_000, u32::MAX];
        let got = h.percentiles(&ppms);
        if sorted.is_empty() {
            assert!(
                got.is_none() && h.snapshot().is_none(),
                "an empty histogram has no percentile"
            );
            continue;
        }
        let got = got.expect("non-empty");
        for (i, &ppm) in ppms.iter().enumerate() {
            let exact = nearest_rank(&sorted, ppm);
            let want = match h.bucket_range(Nanos::new(exact)) {
                Some((low, high)) => low.as_u64() + (high.as_u64() - low.as_u64()) / 2,
                None => max,
            };
            assert_eq!(got[i].as_u64(), want, "p{ppm} of {} samples (exact {exact})", sorted.len());
            if i > 0 {
                assert!(got[i] >= got[i - 1], "percentiles decrease with the rank");
            }
            assert_eq!(h.percentile(ppm), Some(got[i]));
        }
        let snap = h.snapshot().expect("non-empty");
        assert_eq!(snap.count as usize, sorted.len());
        assert_eq!(snap.overflow as usize, over);
    }
}
