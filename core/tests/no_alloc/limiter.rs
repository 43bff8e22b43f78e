//! Proof that the rate limiter never allocates: a counting global allocator, armed per thread,
//! around every path of `RateLimiter` (admit, refuse, weighted, capacity error, wait time,
//! reservations and cancellation, reconfiguration, snapshot, shadow mode, counters), and around
//! the reads of the cheap clocks of the `std` feature.

use super::allocations_in;
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig, Start};
use portcullis::{Clock, ManualClock, Nanos};

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
