//! Clocks for C callers: `pcl_now_ns` (precise) and `pcl_now_coarse_ns` (cheap).
//!
//! The core never reads a clock; these are the readings the `_now` convenience functions pass in.
//! Both are monotonic, in nanoseconds from an arbitrary origin (boot on Linux), and the same clock
//! for every thread and every process of the machine, so objects in shared memory can be driven
//! from several processes.

use portcullis::{Clock, Nanos};

/// Reads `clock` with `clock_gettime`; 0 if the call fails (it cannot for these clock ids).
fn read(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; `clock_gettime` writes only into it.
    let rc = unsafe { libc::clock_gettime(clock, &raw mut ts) };
    if rc != 0 {
        return 0;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// The monotonic clock (`CLOCK_MONOTONIC`) in nanoseconds.
///
/// Cost: one vDSO `clock_gettime` on Linux, about 15–25 ns. Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_now_ns() -> u64 {
    read(libc::CLOCK_MONOTONIC)
}

/// A cheaper monotonic clock: `CLOCK_MONOTONIC_COARSE` on Linux, whose value advances once per
/// scheduler tick (1–4 ms resolution, see `clock_getres`) and costs a few nanoseconds; elsewhere
/// the same as `pcl_now_ns`. Readings from both clocks may be mixed on one object: they share an
/// origin, and the coarse one lags by at most its resolution.
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_now_coarse_ns() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        read(libc::CLOCK_MONOTONIC_COARSE)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        read(libc::CLOCK_MONOTONIC)
    }
}

/// The clock of the `_now` convenience functions, as a core [`Clock`]: a primitive that can
/// decide without the time (a closed breaker) never reads it.
pub(crate) struct Monotonic;

impl Clock for Monotonic {
    fn now(&self) -> Nanos {
        Nanos::new(pcl_now_ns())
    }
}

/// A caller's `now_ns` as a core [`Clock`].
pub(crate) struct At(pub(crate) u64);

impl Clock for At {
    fn now(&self) -> Nanos {
        Nanos::new(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_are_monotonic_and_close() {
        let a = pcl_now_ns();
        let c = pcl_now_coarse_ns();
        let b = pcl_now_ns();
        assert!(a > 0 && b >= a);
        // The coarse clock lags the precise one by at most its resolution (generously 50 ms).
        assert!(c <= b && b - c < 50_000_000, "precise {b}, coarse {c}");
    }
}
