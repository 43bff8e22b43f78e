//! Proof that the core never allocates: a counting global allocator, armed per thread, around
//! every path of the windows, the generators and the clock.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portcullis::rng::{AtomicSplitMix64, SplitMix64};
use portcullis::window::{CountWindow, Outcome, TimeWindow, Window};
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

const OUTCOMES: [Outcome; 4] =
    [Outcome::Success, Outcome::Failure, Outcome::SlowSuccess, Outcome::SlowFailure];

fn exercise(w: &impl Window, clock: &ManualClock) {
    for i in 0..100_000u64 {
        #[allow(clippy::cast_possible_truncation)]
        let o = OUTCOMES[(i % 4) as usize];
        std::hint::black_box(w.record(o, clock.now()));
        std::hint::black_box(w.counts(clock.now()));
        clock.advance(Nanos::new(if i % 1_000 == 999 { 1 << 40 } else { 37 }));
        if i % 10_007 == 0 {
            clock.set(clock.now().saturating_sub(Nanos::from_millis(3))); // backwards
            w.reset();
        }
    }
}

#[test]
fn positive_control_counts_an_allocation() {
    let n = allocations_in(|| {
        std::hint::black_box(vec![0u8; 16]);
    });
    assert_eq!(n, 1, "the counting allocator must see a Vec allocation");
}

#[test]
fn windows_never_allocate() {
    // Construction happens inside the armed region too: it allocates nothing either.
    let n = allocations_in(|| {
        let count = CountWindow::<100>::new();
        let time = TimeWindow::<10>::new(Nanos::from_secs(1)).unwrap();
        let clock = ManualClock::new(Nanos::ZERO);
        exercise(&count, &clock);
        exercise(&time, &clock);
        std::hint::black_box(count.counts().failure_rate_ppm());
        std::hint::black_box(time.counts(clock.now()).slow_rate_ppm());
    });
    assert_eq!(n, 0);
}

#[test]
fn generators_and_clock_never_allocate() {
    let n = allocations_in(|| {
        let shared = AtomicSplitMix64::new(1);
        let mut local = SplitMix64::new(1);
        let clock = ManualClock::new(Nanos::ZERO);
        for _ in 0..10_000 {
            std::hint::black_box(shared.below(1_000) + local.below(1_000));
            clock.advance(Nanos::new(1));
        }
    });
    assert_eq!(n, 0);
}
