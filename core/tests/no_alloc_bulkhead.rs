//! Proof that the bulkhead and the adaptive limits never allocate: a counting global allocator,
//! armed per thread, around every path (admission, both refusals, shadow admission, guarded and
//! raw release, over-release, resize up, down and invalid, snapshot, counter carries, the timed
//! wait with and without success, AIMD and gradient updates, probes, `feed`, construction and
//! configuration errors).
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use portcullis::Nanos;
use portcullis::adaptive::{
    AdaptiveLimit, Aimd, AimdConfig, Gradient, GradientConfig, Sample, feed,
};
use portcullis::bulkhead::{Bulkhead, MAX_LIMIT};

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
fn bulkhead_never_allocates() {
    let n = allocations_in(|| {
        assert!(Bulkhead::new(MAX_LIMIT + 1).is_err());
        let b = Bulkhead::new(4).unwrap();
        for i in 0..10_000u32 {
            let p = b.try_acquire(1 + i % 3).unwrap();
            std::hint::black_box(p.in_flight_at_admission());
            assert!(b.try_acquire(4).is_err()); // Full
            assert!(b.try_acquire(5).is_err()); // ExceedsLimit
            drop(p);
            let raw = b.try_acquire_raw(2).unwrap();
            assert!(b.release(raw + 1).is_err()); // over-release
            b.release(raw).unwrap();
            std::hint::black_box(b.snapshot());
            if i % 1_000 == 0 {
                let held = b.try_acquire(4).unwrap();
                b.resize(2).unwrap(); // down while permits are out
                assert!(b.resize(MAX_LIMIT + 1).is_err()); // invalid
                b.set_shadow(true);
                std::hint::black_box(b.try_acquire(3).unwrap().would_reject()); // shadow admission
                b.set_shadow(false);
                drop(held);
                b.resize(4).unwrap();
            }
        }
        #[cfg(feature = "std")]
        {
            let held = b.try_acquire(4).unwrap();
            assert!(b.acquire_timeout(1, core::time::Duration::from_micros(200)).is_err());
            drop(held);
            assert!(b.acquire_timeout(1, core::time::Duration::from_micros(200)).is_ok());
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn adaptive_limits_never_allocate() {
    let n = allocations_in(|| {
        assert!(Aimd::new(AimdConfig { floor: 0, ..AimdConfig::new(Nanos::new(1)) }).is_err());
        assert!(
            Gradient::new(GradientConfig { probe_samples: 0, ..GradientConfig::DEFAULT }).is_err()
        );
        let aimd = Aimd::new(AimdConfig::new(Nanos::from_millis(10))).unwrap();
        let gradient =
            Gradient::new(GradientConfig { probe_interval: 500, ..GradientConfig::DEFAULT })
                .unwrap();
        let b = Bulkhead::new(200).unwrap();
        for i in 0..20_000u64 {
            let s = Sample {
                rtt: Nanos::from_micros(5_000 + (i * 7_919) % 20_000),
                in_flight: u32::try_from(i % 64).unwrap(),
                dropped: i % 97 == 0,
            };
            std::hint::black_box(feed(&aimd, &b, s));
            std::hint::black_box(feed(&gradient, &b, s));
            std::hint::black_box((aimd.limit(), gradient.estimate(), gradient.min_rtt()));
        }
    });
    assert_eq!(n, 0);
}
