//! Proof that maintenance profiles never allocate: a counting global allocator, armed per
//! thread, around construction (including errors), switches (known and unknown) and reads.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portcullis::Nanos;
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::profile::LimiterProfiles;

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
fn profiles_never_allocate() {
    let normal = Quota::per_second(10, 4).unwrap();
    let lenient = Quota::per_second(100, 8).unwrap();
    let n = allocations_in(|| {
        assert!(LimiterProfiles::new([("a", normal), ("a", lenient)]).is_err());
        let profiles = LimiterProfiles::new([("normal", normal), ("lenient", lenient)]).unwrap();
        let limiter = RateLimiter::new(RateLimiterConfig::new(normal), Nanos::ZERO);
        for i in 0..1_000u64 {
            let now = Nanos::from_millis(i);
            let name = if i % 2 == 0 { "lenient" } else { "normal" };
            profiles.switch(&limiter, name, now).unwrap();
            assert!(profiles.switch(&limiter, "unknown", now).is_err());
            std::hint::black_box(profiles.active(&limiter));
            let _ = std::hint::black_box(limiter.try_acquire(now));
        }
    });
    assert_eq!(n, 0);
}
