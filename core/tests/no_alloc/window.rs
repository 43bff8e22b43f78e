//! Proof that the core never allocates: a counting global allocator, armed per thread, around
//! every path of the windows, the generators and the clock.

use super::allocations_in;
use portcullis::rng::{AtomicSplitMix64, SplitMix64};
use portcullis::window::{CountWindow, Outcome, TimeWindow, Window};
use portcullis::{Clock, ManualClock, Nanos};

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
fn windows_never_allocate() {
    // Construction happens inside the armed region too: it allocates nothing either.
    let n = allocations_in(|| {
        let count = CountWindow::<100>::new();
        let time = TimeWindow::<10>::new(Nanos::from_secs(1)).unwrap();
        let clock = ManualClock::new(Nanos::ZERO);
        exercise(&count, &clock);
        exercise(&time, &clock);
        // A batch longer than two chunks, on the stack.
        let batch = [Outcome::SlowFailure; 2_500];
        std::hint::black_box(count.record_batch(&batch));
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
