//! Sliding windows of call outcomes: the evidence a circuit breaker decides on.
//!
//! Two windows, one contract ([`Window`]):
//!
//! - [`CountWindow<N>`]: the last `N` outcomes, whatever their age;
//! - [`TimeWindow<K>`]: the outcomes of the last `K` time buckets of a configured width.
//!
//! Both are lock-free, allocation-free, and hold their whole state in atomic words inside the
//! value (no pointers), so they can live in a `static` or in memory shared between processes.
//!
//! The exact semantics, boundaries and concurrency guarantees are in
//! `docs/semantics/windows.md`, included below.
#![doc = include_str!("../../docs/semantics/windows.md")]

mod count;
mod time;

pub use count::{BATCH_CHUNK, CountWindow};
pub use time::TimeWindow;

use crate::clock::Nanos;

/// The outcome of one call, as a window counts it.
///
/// A call is *slow* when it took longer than the caller's slow-call threshold, whether it
/// succeeded or failed; the breaker's slow-call rate counts both [`SlowSuccess`](Outcome::SlowSuccess)
/// and [`SlowFailure`](Outcome::SlowFailure), its failure rate counts both
/// [`Failure`](Outcome::Failure) and [`SlowFailure`](Outcome::SlowFailure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Outcome {
    /// Succeeded within the slow-call threshold.
    Success = 1,
    /// Failed within the slow-call threshold.
    Failure = 2,
    /// Succeeded, but slower than the slow-call threshold.
    SlowSuccess = 3,
    /// Failed, and slower than the slow-call threshold.
    SlowFailure = 4,
}

impl Outcome {
    /// The outcome of a call that `failed` or not and was `slow` or not.
    ///
    /// ```
    /// use portcullis::window::Outcome;
    /// assert_eq!(Outcome::from_parts(true, true), Outcome::SlowFailure);
    /// assert!(Outcome::SlowFailure.is_failure() && Outcome::SlowFailure.is_slow());
    /// ```
    #[must_use]
    pub const fn from_parts(failed: bool, slow: bool) -> Outcome {
        match (failed, slow) {
            (false, false) => Outcome::Success,
            (true, false) => Outcome::Failure,
            (false, true) => Outcome::SlowSuccess,
            (true, true) => Outcome::SlowFailure,
        }
    }

    /// Whether the call failed (slow or not).
    #[must_use]
    pub const fn is_failure(self) -> bool {
        matches!(self, Outcome::Failure | Outcome::SlowFailure)
    }

    /// Whether the call was slower than the threshold (failed or not).
    #[must_use]
    pub const fn is_slow(self) -> bool {
        matches!(self, Outcome::SlowSuccess | Outcome::SlowFailure)
    }
}

/// What a window holds at one moment: how many calls, how many of them failed, how many were slow.
///
/// Always `failures <= calls` and `slow <= calls` (a slow failure counts in both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WindowCounts {
    /// Calls in the window.
    pub calls: u64,
    /// Calls that failed ([`Outcome::Failure`] and [`Outcome::SlowFailure`]).
    pub failures: u64,
    /// Calls that were slow ([`Outcome::SlowSuccess`] and [`Outcome::SlowFailure`]).
    pub slow: u64,
}

impl WindowCounts {
    /// Failed calls per million calls, rounded down; `None` when the window holds no call.
    ///
    /// ```
    /// use portcullis::window::WindowCounts;
    /// let c = WindowCounts { calls: 3, failures: 1, slow: 0 };
    /// assert_eq!(c.failure_rate_ppm(), Some(333_333));
    /// assert_eq!(WindowCounts::default().failure_rate_ppm(), None);
    /// ```
    #[must_use]
    pub const fn failure_rate_ppm(&self) -> Option<u32> {
        ppm(self.failures, self.calls)
    }

    /// Slow calls per million calls, rounded down; `None` when the window holds no call.
    #[must_use]
    pub const fn slow_rate_ppm(&self) -> Option<u32> {
        ppm(self.slow, self.calls)
    }
}

/// `part / whole` in parts per million, rounded down; `None` when `whole` is 0.
const fn ppm(part: u64, whole: u64) -> Option<u32> {
    if whole == 0 {
        return None;
    }
    // u128: part * 1e6 cannot overflow; part <= whole keeps the quotient <= 1e6, so it fits u32.
    let q = (part as u128 * 1_000_000) / whole as u128;
    #[allow(clippy::cast_possible_truncation, reason = "q <= 1_000_000 after the comparison")]
    Some(if q > 1_000_000 { 1_000_000 } else { q as u32 })
}

/// The contract both windows keep, so a breaker can be generic over its window.
pub trait Window {
    /// Adds one outcome observed at `now`; returns whether it is counted (`false` only for an
    /// outcome that is already outside the window when it arrives).
    fn record(&self, outcome: Outcome, now: Nanos) -> bool;

    /// The outcomes in the window at `now`.
    fn counts(&self, now: Nanos) -> WindowCounts;

    /// Empties the window. Records running concurrently land before or after it, per slot.
    fn reset(&self);
}

impl<const N: usize> Window for CountWindow<N> {
    #[inline]
    fn record(&self, outcome: Outcome, _now: Nanos) -> bool {
        CountWindow::record(self, outcome)
    }
    #[inline]
    fn counts(&self, _now: Nanos) -> WindowCounts {
        CountWindow::counts(self)
    }
    fn reset(&self) {
        CountWindow::reset(self);
    }
}

impl<const K: usize> Window for TimeWindow<K> {
    #[inline]
    fn record(&self, outcome: Outcome, now: Nanos) -> bool {
        TimeWindow::record(self, outcome, now)
    }
    #[inline]
    fn counts(&self, now: Nanos) -> WindowCounts {
        TimeWindow::counts(self, now)
    }
    fn reset(&self) {
        TimeWindow::reset(self);
    }
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    use super::{CountWindow, TimeWindow};
    use core::mem::size_of;

    /// The sizes stated in `docs/semantics/windows.md`.
    #[test]
    fn sizes_match_the_documentation() {
        let round = |n: usize| n.div_ceil(128) * 128;
        assert_eq!(size_of::<CountWindow<100>>(), round(256 + 8 * 100));
        assert_eq!(size_of::<CountWindow<100>>(), 1_152);
        assert_eq!(size_of::<CountWindow<1>>(), round(256 + 8));
        assert_eq!(size_of::<TimeWindow<10>>(), round(136 + 16 * 10));
        assert_eq!(size_of::<TimeWindow<10>>(), 384);
        assert_eq!(size_of::<TimeWindow<1>>(), round(136 + 16));
    }
}
