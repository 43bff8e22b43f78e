//! Proof that the keyed table never allocates: a counting global allocator, armed per thread,
//! around construction (including configuration errors and an error midway), lookups that
//! insert, find, overflow and miss, iteration, snapshots and admissions through the entries.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portcullis::bulkhead::Bulkhead;
use portcullis::keyed::{KeyedBulkhead, KeyedLimiter};
use portcullis::limiter::{Quota, RateLimiterConfig};
use portcullis::{ConfigError, CountBreaker, Nanos, keyed::Keyed};
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
fn keyed_tables_never_allocate() {
    let n = allocations_in(|| {
        assert!(KeyedBulkhead::<8>::bulkheads(9, 1).is_err());
        assert!(KeyedBulkhead::<0>::bulkheads(1, 1).is_err());
        let mut calls = 0;
        let midway = Keyed::<Bulkhead, 8>::try_new(4, || {
            calls += 1;
            if calls == 5 { Err(ConfigError::ZeroCount { field: "x" }) } else { Bulkhead::new(1) }
        });
        assert!(midway.is_err());

        let quota = Quota::per_second(10, 2).unwrap();
        let limiters =
            KeyedLimiter::<16>::limiters(4, RateLimiterConfig::new(quota), Nanos::ZERO).unwrap();
        let bulkheads = KeyedBulkhead::<16>::bulkheads(4, 2).unwrap();
        let breakers =
            Keyed::<CountBreaker<8>, 4>::count_breakers(2, portcullis::BreakerConfig::DEFAULT)
                .unwrap();
        for i in 0..10_000u64 {
            let key = i % 40; // more keys than slots: inserts, hits and overflows
            let now = Nanos::from_millis(i);
            let _ = std::hint::black_box(limiters.get(key).try_acquire(now));
            if let Ok(p) = bulkheads.get(key).try_acquire(1) {
                drop(p);
            }
            if let Ok(p) = breakers.get(key).try_acquire(now) {
                let _ = p.record(breakers.get(key).classify(i % 7 == 0, Nanos::ZERO), now);
            }
            std::hint::black_box(limiters.find(key ^ 1));
            if i % 1_000 == 0 {
                std::hint::black_box(limiters.snapshot());
                std::hint::black_box(bulkheads.iter().count());
            }
        }
        assert!(limiters.snapshot().overflows > 0);
    });
    assert_eq!(n, 0);
}
