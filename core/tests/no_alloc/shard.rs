//! Proof that cells and shuffle shards never allocate: the counting allocator around every
//! function, their errors included.

use portcullis::shard::{
    cell_of, distinct_shards, expected_overlap_ppm, overlap, overlap_probability_ppm, shuffle_shard,
};

use super::allocations_in;

#[test]
fn sharding_never_allocates() {
    let mut a = [0u16; 8];
    let mut b = [0u16; 8];
    let n = allocations_in(|| {
        assert!(cell_of(1, 0).is_err());
        assert!(shuffle_shard(1, 0, 4, &mut a).is_err());
        for key in 0..2_000u64 {
            std::hint::black_box(cell_of(key, 97).unwrap());
            shuffle_shard(key, 3, 1_000, &mut a).unwrap();
            shuffle_shard(key + 1, 3, 1_000, &mut b).unwrap();
            std::hint::black_box(overlap(&a, &b));
        }
        std::hint::black_box(expected_overlap_ppm(1_000, 8).unwrap());
        std::hint::black_box(overlap_probability_ppm(1_000, 8, 2).unwrap());
        std::hint::black_box(distinct_shards(1_000, 8).unwrap());
    });
    assert_eq!(n, 0);
}
