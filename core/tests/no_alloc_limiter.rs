//! Proof that the rate limiter never allocates: a counting global allocator, armed per thread,
//! around every path of `RateLimiter` (admit, refuse, weighted, capacity error, wait time,
//! reservations and cancellation, reconfiguration, snapshot, shadow mode, counters), and around
//! the reads of the cheap clocks of the `std` feature.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig, Start};
use portcullis::{Clock, ManualClock, Nanos};

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

/// Every operation, over 100,000 steps of a manual clock that also steps back and jumps.
fn exercise(l: &RateLimiter, clock: &ManualClock) {
    let mut held = None;
    for i in 0..100_000u64 {
        let now = clock.now();
        let _ = std::hint::black_box(l.try_acquire(now));
        let _ = std::hint::black_box(l.try_acquire_n(i % 7, now));
        let _ = std::hint::black_box(l.try_acquire_n(u64::MAX, now)); // capacity error
        let _ = std::hint::black_box(l.wait_time(i % 5, now));
        match l.reserve(1 + i % 3, now, Nanos::from_millis(i % 50)) {
            Ok(r) => {
                if let Some(old) = held.replace(r) {
                    let _ = std::hint::black_box(l.cancel(old, now));
                }
            }
            Err(e) => {
                let _ = std::hint::black_box(e);
            }
        }
        let _ = std::hint::black_box(l.snapshot(now));
        if i % 1_000 == 999 {
            let q = Quota::per_second(1 + i % 997, 1 + i % 13).unwrap();
            let _ = std::hint::black_box(l.reconfigure(q, now).is_ok());
            let _ = std::hint::black_box(l.quota());
        }
        clock.advance(Nanos::new(if i % 10_000 == 9_999 { 1 << 40 } else { 137_000 }));
        if i % 777 == 0 {
            clock.set(clock.now().saturating_sub(Nanos::from_millis(3))); // backwards
        }
    }
}

#[test]
fn positive_control_counts_an_allocation() {
    let n = allocations_in(|| {
        let _ = std::hint::black_box(vec![0u8; 16]);
    });
    assert_eq!(n, 1, "the counting allocator must see a Vec allocation");
}

#[test]
fn limiter_never_allocates() {
    // Construction happens inside the armed region too.
    let n = allocations_in(|| {
        let clock = ManualClock::new(Nanos::from_secs(1));
        for cfg in [
            RateLimiterConfig::new(Quota::per_second(100, 10).unwrap()),
            RateLimiterConfig::new(Quota::per_interval(Nanos::new(3), 1_000).unwrap())
                .start(Start::Empty)
                .counting(true),
            RateLimiterConfig::new(Quota::per_second(7, 1).unwrap()).shadow(true).counting(true),
        ] {
            let l = RateLimiter::new(cfg, clock.now());
            exercise(&l, &clock);
        }
        let _ = std::hint::black_box(Quota::per_second(0, 1).is_err());
        let _ = std::hint::black_box(Quota::per_interval(Nanos::new(1 << 40), 1 << 40).is_err());
    });
    assert_eq!(n, 0);
}

#[cfg(feature = "std")]
#[test]
fn cheap_clock_reads_never_allocate() {
    use portcullis::clock::{CoarseClock, UpkeepClock};
    // Starting the upkeep thread allocates (a thread and a shared word); reading does not.
    let upkeep = UpkeepClock::start(std::time::Duration::from_millis(1)).unwrap();
    let n = allocations_in(|| {
        let coarse = CoarseClock::new();
        for _ in 0..100_000 {
            let _ = std::hint::black_box(coarse.now());
            let _ = std::hint::black_box(upkeep.now());
        }
        let _ = std::hint::black_box(CoarseClock::resolution());
    });
    assert_eq!(n, 0);
}
