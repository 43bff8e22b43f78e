//! Proof that the adaptive throttle never allocates: a counting global allocator, armed per
//! thread, around construction (including configuration errors), decisions that admit and that
//! refuse, reports, snapshots, resets and the probability function.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portcullis::Nanos;
use portcullis::throttle::{Throttle, ThrottleConfig, reject_ppm};

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
fn throttle_never_allocates() {
    let n = allocations_in(|| {
        let bad = ThrottleConfig { aggression: 9, ..ThrottleConfig::DEFAULT };
        assert!(Throttle::<8>::new(bad, Nanos::from_secs(8)).is_err());
        assert!(Throttle::<8>::new(ThrottleConfig::DEFAULT, Nanos::ZERO).is_err());
        let config = ThrottleConfig { aggression: 3, ..ThrottleConfig::DEFAULT };
        let t = Throttle::<8>::new(config, Nanos::from_secs(8)).unwrap();
        let mut refused = 0;
        for i in 0..20_000u64 {
            let now = Nanos::from_millis(i);
            match t.try_acquire(now) {
                Ok(()) => {
                    t.record(i % 5 == 0, now);
                }
                Err(e) => refused += u64::from(e.reject_ppm > 0),
            }
            if i % 1_000 == 0 {
                std::hint::black_box(t.snapshot(now));
                std::hint::black_box(reject_ppm(&config, i, i / 3));
            }
        }
        assert!(refused > 0);
        t.reset();
    });
    assert_eq!(n, 0);
}
