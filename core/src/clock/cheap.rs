//! Clocks that are cheaper to read than [`MonotonicClock`](super::MonotonicClock), for callers
//! that want a "now-less" call: [`CoarseClock`] and [`UpkeepClock`]. Available with the `std`
//! feature only; the core never reads them.
//!
//! | clock | source | resolution | cost of `now()` |
//! |---|---|---|---|
//! | `MonotonicClock` | `Instant::now()` (`CLOCK_MONOTONIC`: vDSO, reads the TSC or the VM's clock source) | 1 ns | a vDSO call plus a clock-source read |
//! | `CoarseClock` | `CLOCK_MONOTONIC_COARSE` (vDSO, the last tick's copy, no clock-source read) | one kernel tick: 1–4 ms (`CONFIG_HZ`) | a vDSO call |
//! | `UpkeepClock` | an atomic that a background thread refreshes | the refresh interval you choose | one relaxed load |
//!
//! `benches/benches/limiter.rs` (group `limiter_with_clock`, ids `clock/*`) measures each beside
//! governor's default clock on the machine at hand; a short run on a shared 2-core x86-64 VM
//! (`cargo bench -p portcullis-benches --bench limiter -- --warm-up-time 0.2
//! --measurement-time 0.5`) gave, in that order of cost, `UpkeepClock` under 1 ns,
//! `CoarseClock` 6–12 ns, governor's quanta clock 10–24 ns, `MonotonicClock` 37–63 ns: orders of
//! magnitude, not promises. A coarse reading lags the true time by up to
//! one resolution step; a rate limiter fed by it sees refill in steps of that size, so bursts
//! shorter than the resolution are decided as if they happened at one instant.

use core::time::Duration;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use super::{Clock, Nanos};
use crate::sync::plain::{AtomicU64, Ordering};

/// `CLOCK_MONOTONIC_COARSE`: the kernel's monotonic clock as of the last timer tick.
///
/// On Linux and Android it reads the vDSO's copy of the last tick without touching the TSC, so it
/// costs a few nanoseconds; its resolution is one tick (1 ms at `CONFIG_HZ=1000`, 4 ms at 250),
/// as reported by [`CoarseClock::resolution`]. Its origin is the boot (the same origin as
/// `CLOCK_MONOTONIC`). On other systems it falls back to [`std::time::Instant`] (origin: the
/// clock's creation), with that clock's resolution and cost.
///
/// # Examples
///
/// ```
/// use portcullis::{Clock, clock::CoarseClock};
/// let clock = CoarseClock::new();
/// let (a, b) = (clock.now(), clock.now());
/// assert!(b >= a);
/// assert!(CoarseClock::resolution().as_u64() > 0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CoarseClock {
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    origin: Instant,
}

impl CoarseClock {
    /// A coarse clock.
    #[must_use]
    pub fn new() -> CoarseClock {
        CoarseClock {
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            origin: Instant::now(),
        }
    }

    /// The step between two distinct readings (`clock_getres`); 1 ns on the fallback.
    #[must_use]
    pub fn resolution() -> Nanos {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: `ts` is a valid, writable `timespec`; the clock id is a constant the kernel
            // knows (since Linux 2.6.32); the call writes only `ts`.
            let rc = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &raw mut ts) };
            if rc == 0 { timespec_nanos(&ts) } else { Nanos::new(1) }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            Nanos::new(1)
        }
    }
}

impl Default for CoarseClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn timespec_nanos(ts: &libc::timespec) -> Nanos {
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    Nanos::from_secs(secs).saturating_add(Nanos::new(nanos))
}

impl Clock for CoarseClock {
    #[inline]
    fn now(&self) -> Nanos {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: as in `resolution`: a valid `timespec` out-parameter and a known clock id.
            // `clock_gettime` cannot fail for a valid id and pointer; if it ever did, `ts` stays
            // zero and the reading is the origin, which a limiter treats as time not advancing.
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &raw mut ts) };
            timespec_nanos(&ts)
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            Nanos::from_duration(self.origin.elapsed()).unwrap_or(Nanos::MAX)
        }
    }
}

/// What the background thread and the readers of an [`UpkeepClock`] share.
#[derive(Debug)]
struct Shared {
    now: AtomicU64,
    stop: AtomicU64,
}

/// A clock read with one relaxed load: a background thread, started by the caller, stores the
/// time every `interval` (the approach of quanta's `Upkeep`).
///
/// Resolution: the `interval` given to [`start`](UpkeepClock::start), plus the thread's wake-up
/// latency (readings lag the true time by up to about one interval, more if the machine is
/// overloaded and the thread is not scheduled). The origin is the moment of `start`. The thread
/// stops and is joined when the clock is dropped. Share it between threads by reference (it is
/// `Sync`).
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use portcullis::{Clock, Nanos, clock::UpkeepClock};
/// let clock = UpkeepClock::start(Duration::from_millis(1)).unwrap();
/// let a = clock.now();
/// std::thread::sleep(Duration::from_millis(20));
/// assert!(clock.now() > a);
/// assert_eq!(clock.interval(), Nanos::from_millis(1));
/// ```
#[derive(Debug)]
pub struct UpkeepClock {
    shared: Arc<Shared>,
    interval: Duration,
    thread: Option<JoinHandle<()>>,
}

impl UpkeepClock {
    /// Starts the background thread that refreshes the clock every `interval`.
    ///
    /// # Errors
    ///
    /// The error of [`std::thread::Builder::spawn`] if the thread cannot be started.
    pub fn start(interval: Duration) -> std::io::Result<UpkeepClock> {
        let origin = Instant::now();
        let shared = Arc::new(Shared { now: AtomicU64::new(0), stop: AtomicU64::new(0) });
        let theirs = Arc::clone(&shared);
        let thread = thread::Builder::new().name("portcullis-upkeep".into()).spawn(move || {
            // Relaxed: `stop` carries no data; `join` in `drop` orders the thread's end.
            while theirs.stop.load(Ordering::Relaxed) == 0 {
                let now = Nanos::from_duration(origin.elapsed()).unwrap_or(Nanos::MAX);
                // Relaxed: the clock is a value, not a publication point (as `ManualClock`).
                theirs.now.store(now.as_u64(), Ordering::Relaxed);
                thread::park_timeout(interval);
            }
        })?;
        Ok(UpkeepClock { shared, interval, thread: Some(thread) })
    }

    /// The refresh interval: the resolution of the clock.
    #[must_use]
    pub fn interval(&self) -> Nanos {
        Nanos::from_duration(self.interval).unwrap_or(Nanos::MAX)
    }
}

impl Clock for UpkeepClock {
    #[inline]
    fn now(&self) -> Nanos {
        // Relaxed: see the store in `start`.
        Nanos::new(self.shared.now.load(Ordering::Relaxed))
    }
}

impl Drop for UpkeepClock {
    fn drop(&mut self) {
        self.shared.stop.store(1, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            // A panic of the refresh thread (it has none) would only be reported here; ignore it.
            let _ = thread.join();
        }
    }
}
