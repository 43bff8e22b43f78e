//! Proof that cells and shuffle shards never allocate: a counting global allocator, armed per
//! thread, around every function, their errors included.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portcullis::shard::{
    cell_of, distinct_shards, expected_overlap_ppm, overlap, overlap_probability_ppm, shuffle_shard,
};

thread_local! {
    /// Only allocations made by the thread under test while armed are counted, on that thread's
    /// own counter, so tests running in parallel and the harness's threads do not disturb it.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    if ARMED.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

struct Counting;

// SAFETY: every method forwards to `System`, which upholds the `GlobalAlloc` contract; the
// counting is a side effect that touches no memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded with the caller's layout, as the caller of `alloc` guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: forwarded unchanged; the caller guarantees `ptr`/`layout` as for `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with the counter armed on this thread and returns how many allocations it made.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn positive_control_counts_an_allocation() {
    let n = allocations_in(|| {
        std::hint::black_box(vec![0u8; 16]);
    });
    assert_eq!(n, 1, "the counting allocator must see a Vec allocation");
}

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
