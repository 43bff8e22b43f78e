//! Proof that the recovery ramp and the ramped breaker never allocate: a counting global
//! allocator, armed per thread, around construction (including configuration errors), both
//! curves, gate decisions, and a ramped breaker through trips, probes (gated) and ramps.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, CountBreaker};
use portcullis::ramp::{Curve, Ramp, RampConfig, RampedBreaker, admit_ppm, probe_admit_ppm};
use portcullis::window::Outcome;

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
fn ramp_never_allocates() {
    let n = allocations_in(|| {
        assert!(Ramp::new(RampConfig { initial_ppm: 0, ..RampConfig::DEFAULT }).is_err());
        let config = RampConfig {
            duration: Nanos::from_millis(500),
            curve: Curve::Exponential,
            initial_ppm: 10_000,
            probe_initial_ppm: 100_000,
            seed: 3,
        };
        let ramp = Ramp::new(config).unwrap();
        ramp.start(Nanos::ZERO);
        for i in 0..1_000u64 {
            let _ = std::hint::black_box(ramp.try_admit(Nanos::from_millis(i)));
            std::hint::black_box(admit_ppm(&RampConfig::DEFAULT, Nanos::from_millis(i)));
            std::hint::black_box(probe_admit_ppm(&config, u32::try_from(i % 30).unwrap()));
        }
        ramp.stop();
        let breaker = CountBreaker::<8>::new(BreakerConfig {
            consecutive_failures: Some(2),
            open_duration: Nanos::from_millis(50),
            max_open_duration: Nanos::from_millis(50),
            jitter_ppm: 0,
            ..BreakerConfig::DEFAULT
        })
        .unwrap();
        let rb = RampedBreaker::new(breaker, config).unwrap();
        for i in 0..20_000u64 {
            let now = Nanos::from_millis(i);
            if let Ok(p) = rb.try_acquire(now) {
                let outcome = if i % 97 < 3 { Outcome::Failure } else { Outcome::Success };
                let _ = std::hint::black_box(rb.record(p, outcome, now));
            }
        }
    });
    assert_eq!(n, 0);
}
