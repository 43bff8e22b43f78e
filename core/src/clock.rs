//! Time as a value: [`Nanos`], the [`Clock`] trait, and the [`ManualClock`] that drives tests and
//! the simulator.
//!
//! # Semantics
//!
//! The core never reads a clock. Every time-dependent operation takes `now: Nanos`, a reading of a
//! monotonic clock in nanoseconds from an arbitrary origin chosen by the caller (boot, process
//! start, the start of a simulation). Only differences between readings matter, and all readings
//! passed to one object must come from the same clock.
//!
//! A `now` earlier than one the object has already seen is not an error and never panics: each
//! primitive documents what it does (the sliding windows read at the latest time they have seen,
//! see [`TimeWindow`](crate::window::TimeWindow)).

use core::time::Duration;

use crate::sync::plain::{AtomicU64, Ordering};

#[cfg(feature = "std")]
mod cheap;
#[cfg(feature = "std")]
pub use cheap::{CoarseClock, UpkeepClock};

/// A point on a monotonic clock, or a span between two points, in nanoseconds.
///
/// A plain `u64`: 2⁶⁴ ns is about 584 years, so a clock that starts at boot never wraps.
/// Arithmetic helpers saturate rather than wrap or panic.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// let t = Nanos::from_millis(1_500);
/// assert_eq!(t, Nanos::from_micros(1_500_000));
/// assert_eq!(t.saturating_sub(Nanos::from_secs(2)), Nanos::ZERO);
/// assert_eq!(Nanos::MAX.saturating_add(Nanos::new(1)), Nanos::MAX);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Nanos(u64);

impl Nanos {
    /// Zero nanoseconds.
    pub const ZERO: Nanos = Nanos(0);
    /// The largest representable value (about 584 years).
    pub const MAX: Nanos = Nanos(u64::MAX);

    /// `n` nanoseconds.
    #[must_use]
    pub const fn new(n: u64) -> Nanos {
        Nanos(n)
    }

    /// `us` microseconds, saturating at [`Nanos::MAX`].
    #[must_use]
    pub const fn from_micros(us: u64) -> Nanos {
        Nanos(us.saturating_mul(1_000))
    }

    /// `ms` milliseconds, saturating at [`Nanos::MAX`].
    #[must_use]
    pub const fn from_millis(ms: u64) -> Nanos {
        Nanos(ms.saturating_mul(1_000_000))
    }

    /// `s` seconds, saturating at [`Nanos::MAX`].
    #[must_use]
    pub const fn from_secs(s: u64) -> Nanos {
        Nanos(s.saturating_mul(1_000_000_000))
    }

    /// Converts a [`Duration`], or `None` if it does not fit in 64 bits of nanoseconds.
    ///
    /// ```
    /// use core::time::Duration;
    /// use portcullis::Nanos;
    /// assert_eq!(Nanos::from_duration(Duration::from_millis(3)), Some(Nanos::from_millis(3)));
    /// assert_eq!(Nanos::from_duration(Duration::MAX), None);
    /// ```
    #[must_use]
    pub const fn from_duration(d: Duration) -> Option<Nanos> {
        let n = d.as_nanos();
        #[allow(clippy::cast_possible_truncation, reason = "checked against u64::MAX first")]
        if n > u64::MAX as u128 { None } else { Some(Nanos(n as u64)) }
    }

    /// The value in nanoseconds.
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The value as a [`Duration`].
    #[must_use]
    pub const fn as_duration(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// `self + rhs`, or [`Nanos::MAX`] on overflow.
    #[must_use]
    pub const fn saturating_add(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(rhs.0))
    }

    /// `self - rhs`, or [`Nanos::ZERO`] if `rhs` is later.
    #[must_use]
    pub const fn saturating_sub(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_sub(rhs.0))
    }

    /// `self + rhs`, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, rhs: Nanos) -> Option<Nanos> {
        match self.0.checked_add(rhs.0) {
            Some(n) => Some(Nanos(n)),
            None => None,
        }
    }
}

impl From<Nanos> for Duration {
    fn from(n: Nanos) -> Duration {
        n.as_duration()
    }
}

impl core::fmt::Display for Nanos {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}ns", self.0)
    }
}

/// A source of monotonic time.
///
/// The core never calls it: it is the seam through which a caller (the C ABI, the simulator, a
/// test) produces the `now` it passes in.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Nanos;
}

/// A clock that moves only when told to: the clock of tests and of the simulator.
///
/// Shareable between threads (`&ManualClock` is `Sync`); it never goes backwards unless
/// [`set`](ManualClock::set) is asked to, which tests use to check how primitives treat a clock
/// that jumps back.
///
/// # Examples
///
/// ```
/// use portcullis::{Clock, ManualClock, Nanos};
/// let clock = ManualClock::new(Nanos::ZERO);
/// clock.advance(Nanos::from_millis(5));
/// assert_eq!(clock.now(), Nanos::from_millis(5));
/// clock.set(Nanos::from_millis(1)); // backwards, on purpose
/// assert_eq!(clock.now(), Nanos::from_millis(1));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicU64,
}

impl ManualClock {
    /// A clock reading `start`.
    #[must_use]
    pub const fn new(start: Nanos) -> ManualClock {
        ManualClock { now: AtomicU64::new(start.0) }
    }

    /// Moves the clock forward by `d`, saturating at [`Nanos::MAX`]; returns the new time.
    pub fn advance(&self, d: Nanos) -> Nanos {
        // Relaxed: the clock is a value, not a publication point; callers that hand the time to
        // another thread synchronize through their own channel.
        let prev = self
            .now
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| Some(t.saturating_add(d.0)));
        // fetch_update with a closure that always returns Some never fails.
        let prev = match prev {
            Ok(p) | Err(p) => p,
        };
        Nanos(prev.saturating_add(d.0))
    }

    /// Sets the clock to `t`, which may be earlier than the current reading.
    pub fn set(&self, t: Nanos) {
        self.now.store(t.0, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Nanos {
        Nanos(self.now.load(Ordering::Relaxed))
    }
}

/// The operating system's monotonic clock, as nanoseconds since this value was created.
///
/// Available with the `std` feature. Reading it costs what [`std::time::Instant::now`] costs
/// (a vDSO `clock_gettime(CLOCK_MONOTONIC)` on Linux).
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: std::time::Instant,
}

#[cfg(feature = "std")]
impl MonotonicClock {
    /// A clock whose zero is the moment of this call.
    #[must_use]
    pub fn new() -> MonotonicClock {
        MonotonicClock { origin: std::time::Instant::now() }
    }
}

#[cfg(feature = "std")]
impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl Clock for MonotonicClock {
    fn now(&self) -> Nanos {
        // Saturates after 584 years of uptime.
        Nanos::from_duration(self.origin.elapsed()).unwrap_or(Nanos::MAX)
    }
}
