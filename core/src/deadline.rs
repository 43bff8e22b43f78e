//! Deadlines: an absolute point on the caller's monotonic clock, and everything derived from it
//! (remaining budget, child deadlines with a reserve, splits over hops, retry clamping, and the
//! `grpc-timeout` and milliseconds wire headers).
//!
//! A [`Deadline`] is a plain `Copy` value (no atomics): it travels with one call. The exact
//! boundaries, the header grammar and the differences from gRPC's deadline propagation are in
//! `docs/semantics/deadline.md`, included below.
#![doc = include_str!("../../docs/semantics/deadline.md")]

use core::fmt;

use crate::clock::Nanos;

/// The name of gRPC's timeout header.
pub const GRPC_TIMEOUT_HEADER: &str = "grpc-timeout";

/// The longest `grpc-timeout` value: 8 digits and a unit.
pub const GRPC_TIMEOUT_MAX_LEN: usize = 9;

/// The longest milliseconds value [`encode_timeout_millis`] writes: `u64::MAX` ns is
/// 18,446,744,073,709 ms, 14 digits.
pub const MILLIS_MAX_LEN: usize = 14;

/// The largest `TimeoutValue` of `grpc-timeout`: 8 digits.
const GRPC_MAX_VALUE: u64 = 99_999_999;

/// `grpc-timeout` units, finest first, with their length in nanoseconds.
const GRPC_UNITS: [(u8, u64); 6] = [
    (b'n', 1),
    (b'u', 1_000),
    (b'm', 1_000_000),
    (b'S', 1_000_000_000),
    (b'M', 60_000_000_000),
    (b'H', 3_600_000_000_000),
];

/// The time left before a deadline: a positive duration, or "already expired". Never negative,
/// never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum Remaining {
    /// This much time is left (at least 1 ns).
    Left(Nanos),
    /// The deadline has passed (or is now).
    Expired,
}

impl Remaining {
    /// The time left, or `None` once expired.
    #[must_use]
    pub const fn left(self) -> Option<Nanos> {
        match self {
            Remaining::Left(d) => Some(d),
            Remaining::Expired => None,
        }
    }
}

/// Whether a retry after a backoff delay still fits before a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum RetryDelay {
    /// Wait this long (the backoff delay, unchanged), then retry.
    After(Nanos),
    /// Do not retry: the attempt would start too close to, or after, the deadline.
    GiveUp,
}

/// An absolute deadline on the caller's monotonic clock.
///
/// # Semantics
///
/// A deadline `at` is expired at every `now >= at`: [`remaining`](Self::remaining) is
/// `Left(at − now)` for `now < at` and `Expired` from `at` on (the boundary instant itself is
/// expired, so a `Left` is never zero). [`Deadline::NEVER`] (`at = Nanos::MAX`) never expires in
/// practice (584 years). All arithmetic saturates.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, deadline::{Deadline, Remaining}};
/// let now = Nanos::from_secs(100);
/// let d = Deadline::after(now, Nanos::from_millis(250));
/// assert_eq!(d.remaining(now), Remaining::Left(Nanos::from_millis(250)));
/// assert_eq!(d.remaining(d.instant()), Remaining::Expired);
/// // Keep 50 ms to send the response back; give each of 2 remaining hops an equal share.
/// let child = d.child(Nanos::from_millis(50));
/// assert_eq!(child.split(now, 2), Remaining::Left(Nanos::from_millis(100)));
/// ```
///
/// # Panics
///
/// Never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    at: Nanos,
}

impl Deadline {
    /// A deadline that never expires (`Nanos::MAX`).
    pub const NEVER: Deadline = Deadline { at: Nanos::MAX };

    /// The deadline at the instant `at`.
    #[must_use]
    pub const fn at(at: Nanos) -> Deadline {
        Deadline { at }
    }

    /// The deadline `timeout` after `now` (saturating: a timeout past `Nanos::MAX` is
    /// [`NEVER`](Self::NEVER)).
    #[must_use]
    pub const fn after(now: Nanos, timeout: Nanos) -> Deadline {
        Deadline { at: now.saturating_add(timeout) }
    }

    /// The instant of the deadline.
    #[must_use]
    pub const fn instant(self) -> Nanos {
        self.at
    }

    /// Whether this is [`NEVER`](Self::NEVER).
    #[must_use]
    pub const fn is_never(self) -> bool {
        self.at.as_u64() == u64::MAX
    }

    /// The time left at `now`: `Left(at − now)` if `now < at`, else `Expired`.
    pub const fn remaining(self, now: Nanos) -> Remaining {
        if now.as_u64() < self.at.as_u64() {
            Remaining::Left(self.at.saturating_sub(now))
        } else {
            Remaining::Expired
        }
    }

    /// Whether the deadline has passed at `now` (`now >= at`).
    #[must_use]
    pub const fn is_expired(self, now: Nanos) -> bool {
        now.as_u64() >= self.at.as_u64()
    }

    /// The earlier of two deadlines.
    #[must_use]
    pub const fn min(self, other: Deadline) -> Deadline {
        if other.at.as_u64() < self.at.as_u64() { other } else { self }
    }

    /// The deadline for a downstream call that keeps `reserve` for this service to send its own
    /// response: `at − reserve` (saturating at `Nanos::ZERO`, which is expired). The child of
    /// [`NEVER`](Self::NEVER) is `NEVER`.
    #[must_use]
    pub const fn child(self, reserve: Nanos) -> Deadline {
        if self.is_never() {
            return self;
        }
        Deadline { at: self.at.saturating_sub(reserve) }
    }

    /// [`child`](Self::child), further capped at `now + timeout` (a per-call timeout of the
    /// downstream): the earlier of the two.
    #[must_use]
    pub const fn child_with_timeout(self, now: Nanos, reserve: Nanos, timeout: Nanos) -> Deadline {
        self.child(reserve).min(Deadline::after(now, timeout))
    }

    /// An equal share of the remaining time for each of `hops` calls still to make in sequence:
    /// `⌊(at − now) / hops⌋`, or `Expired` if the deadline has passed or the share rounds to zero.
    /// `hops = 0` reads as 1.
    pub const fn split(self, now: Nanos, hops: u32) -> Remaining {
        let hops = if hops == 0 { 1 } else { hops as u64 };
        match self.remaining(now) {
            Remaining::Left(d) if d.as_u64() / hops > 0 => {
                Remaining::Left(Nanos::new(d.as_u64() / hops))
            }
            _ => Remaining::Expired,
        }
    }

    /// The deadline of the next of `hops` calls still to make: `now` plus its
    /// [`split`](Self::split) share (an expired share gives an expired deadline, `now`).
    #[must_use]
    pub const fn next_hop(self, now: Nanos, hops: u32) -> Deadline {
        match self.split(now, hops) {
            Remaining::Left(d) => Deadline::after(now, d),
            Remaining::Expired => Deadline { at: now },
        }
    }

    /// Whether to retry after `delay`, given that an attempt needs at least `min_attempt` to be
    /// worth making.
    ///
    /// The retry starts at `s = now + delay`. It is made, after exactly `delay`, iff
    /// `at − s >= max(min_attempt, 1 ns)`; otherwise `GiveUp`. The delay is never shortened to fit:
    /// retrying sooner than the backoff asked, just before a deadline, would turn the backoff into
    /// a burst against a dependency that is already slow.
    ///
    /// ```
    /// use portcullis::{Nanos, deadline::{Deadline, RetryDelay}};
    /// let d = Deadline::at(Nanos::new(1_000));
    /// let now = Nanos::new(100);
    /// let min = Nanos::new(100);
    /// assert_eq!(d.retry_after(now, Nanos::new(800), min), RetryDelay::After(Nanos::new(800)));
    /// assert_eq!(d.retry_after(now, Nanos::new(801), min), RetryDelay::GiveUp);
    /// assert_eq!(d.retry_after(now, Nanos::new(900), Nanos::ZERO), RetryDelay::GiveUp);
    /// ```
    pub const fn retry_after(self, now: Nanos, delay: Nanos, min_attempt: Nanos) -> RetryDelay {
        let start = now.saturating_add(delay);
        let need = if min_attempt.as_u64() == 0 { 1 } else { min_attempt.as_u64() };
        match self.remaining(start) {
            Remaining::Left(left) if left.as_u64() >= need => RetryDelay::After(delay),
            _ => RetryDelay::GiveUp,
        }
    }

    /// The deadline of an incoming request whose `grpc-timeout` header is `value`, received at
    /// `now`.
    ///
    /// # Errors
    ///
    /// As [`decode_grpc_timeout`].
    pub fn from_grpc_timeout(now: Nanos, value: &[u8]) -> Result<Deadline, HeaderError> {
        decode_grpc_timeout(value).map(|t| Deadline::after(now, t))
    }

    /// Writes the remaining time at `now` as a `grpc-timeout` value into `buf`; returns the number
    /// of bytes written.
    ///
    /// # Errors
    ///
    /// [`HeaderError::Expired`] if the deadline has passed (send no request);
    /// [`HeaderError::BufferTooSmall`] as [`encode_grpc_timeout`].
    pub fn to_grpc_timeout(self, now: Nanos, buf: &mut [u8]) -> Result<usize, HeaderError> {
        match self.remaining(now) {
            Remaining::Left(d) => encode_grpc_timeout(d, buf),
            Remaining::Expired => Err(HeaderError::Expired),
        }
    }
}

/// Why a timeout header value was rejected, or could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderError {
    /// The value is empty.
    Empty,
    /// A `grpc-timeout` value has a unit but no digits before it (for example `"m"`).
    MissingValue,
    /// A `grpc-timeout` value ends with a digit: the unit is missing (for example `"100"`).
    MissingUnit,
    /// A `grpc-timeout` value has more than 8 digits.
    TooManyDigits {
        /// How many digits it has.
        digits: usize,
    },
    /// The last byte of a `grpc-timeout` value is not one of `H M S m u n`.
    BadUnit {
        /// The byte found.
        unit: u8,
    },
    /// A byte that must be an ASCII digit is not (signs, spaces and decimal points included).
    NotADigit {
        /// Its position in the value.
        index: usize,
        /// The byte found.
        byte: u8,
    },
    /// The timeout does not fit in 64 bits of nanoseconds (about 584 years).
    Overflow,
    /// Encoding: the timeout is zero, or rounds down to zero in the header's unit, so no request
    /// should be sent.
    Expired,
    /// Encoding: the buffer is shorter than the value.
    BufferTooSmall {
        /// The bytes the value needs.
        needed: usize,
    },
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            HeaderError::Empty => write!(f, "empty timeout header value"),
            HeaderError::MissingValue => write!(f, "timeout header value has no digits"),
            HeaderError::MissingUnit => write!(f, "grpc-timeout value has no unit (H M S m u n)"),
            HeaderError::TooManyDigits { digits } => {
                write!(f, "grpc-timeout value has {digits} digits, at most 8 are allowed")
            }
            HeaderError::BadUnit { unit } => {
                write!(f, "grpc-timeout unit must be one of H M S m u n, got byte {unit:#04x}")
            }
            HeaderError::NotADigit { index, byte } => {
                write!(f, "timeout header byte {index} is {byte:#04x}, not an ASCII digit")
            }
            HeaderError::Overflow => write!(f, "timeout does not fit in 64 bits of nanoseconds"),
            HeaderError::Expired => write!(f, "no time left to encode: the deadline has passed"),
            HeaderError::BufferTooSmall { needed } => {
                write!(f, "buffer too small for the timeout header value: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for HeaderError {}

/// Parses ASCII digits into a `u64`, rejecting any other byte and overflow. `offset` is added to
/// the index reported for a bad byte.
fn parse_digits(digits: &[u8], offset: usize) -> Result<u64, HeaderError> {
    let mut v = 0u64;
    for (i, &b) in digits.iter().enumerate() {
        if !b.is_ascii_digit() {
            return Err(HeaderError::NotADigit { index: offset + i, byte: b });
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(HeaderError::Overflow)?;
    }
    Ok(v)
}

/// Writes `v` in decimal followed by `suffix` (if any) into `buf`.
fn write_decimal(v: u64, suffix: Option<u8>, buf: &mut [u8]) -> Result<usize, HeaderError> {
    let mut digits = [0u8; 20];
    let mut n = 0;
    let mut x = v;
    while let Some(slot) = digits.get_mut(n) {
        #[allow(clippy::cast_possible_truncation, reason = "x % 10 < 10")]
        {
            *slot = b'0' + (x % 10) as u8;
        }
        n += 1;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    let needed = n + usize::from(suffix.is_some());
    if buf.len() < needed {
        return Err(HeaderError::BufferTooSmall { needed });
    }
    for (out, d) in buf.iter_mut().zip(digits.iter().take(n).rev()) {
        *out = *d;
    }
    if let (Some(s), Some(out)) = (suffix, buf.get_mut(n)) {
        *out = s;
    }
    Ok(needed)
}

/// Decodes a `grpc-timeout` value (`TimeoutValue TimeoutUnit`: 1 to 8 ASCII digits, then one of
/// `H M S m u n`) into a duration.
///
/// Leading zeros count as digits. `0` with any unit is accepted and means "already expired"
/// (the grammar says *positive*; grpc-go accepts 0 too). Nothing else is tolerated: no sign, no
/// space (trim the header's surrounding whitespace before calling), no decimal point.
///
/// ```
/// use portcullis::{Nanos, deadline::{HeaderError, decode_grpc_timeout}};
/// assert_eq!(decode_grpc_timeout(b"250m"), Ok(Nanos::from_millis(250)));
/// assert_eq!(decode_grpc_timeout(b"1H"), Ok(Nanos::from_secs(3_600)));
/// assert_eq!(decode_grpc_timeout(b"123456789n"), Err(HeaderError::TooManyDigits { digits: 9 }));
/// assert_eq!(decode_grpc_timeout(b"10s"), Err(HeaderError::BadUnit { unit: b's' }));
/// ```
///
/// # Errors
///
/// [`HeaderError::Empty`], [`MissingUnit`](HeaderError::MissingUnit),
/// [`BadUnit`](HeaderError::BadUnit), [`MissingValue`](HeaderError::MissingValue),
/// [`TooManyDigits`](HeaderError::TooManyDigits), [`NotADigit`](HeaderError::NotADigit), checked in
/// that order; [`Overflow`](HeaderError::Overflow) for hours beyond 5,124,095.
pub fn decode_grpc_timeout(value: &[u8]) -> Result<Nanos, HeaderError> {
    let Some((&unit, digits)) = value.split_last() else {
        return Err(HeaderError::Empty);
    };
    if unit.is_ascii_digit() {
        return Err(HeaderError::MissingUnit);
    }
    let Some(&(_, unit_ns)) = GRPC_UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(HeaderError::BadUnit { unit });
    };
    if digits.is_empty() {
        return Err(HeaderError::MissingValue);
    }
    if digits.len() > 8 {
        return Err(HeaderError::TooManyDigits { digits: digits.len() });
    }
    let v = parse_digits(digits, 0)?;
    v.checked_mul(unit_ns).map(Nanos::new).ok_or(HeaderError::Overflow)
}

/// Encodes `timeout` as a `grpc-timeout` value into `buf`, in the finest unit whose value fits in
/// 8 digits, rounded down; returns the number of bytes written (at most
/// [`GRPC_TIMEOUT_MAX_LEN`]).
///
/// Rounding down means the receiver never believes it has more time than the sender gave it; with
/// the finest unit that fits, the loss is below 10⁻⁵ of the timeout (none below 0.1 s, which is
/// written in nanoseconds). Every `Nanos` fits: `u64::MAX` ns is 5,124,095 hours.
///
/// ```
/// use portcullis::{Nanos, deadline::{HeaderError, encode_grpc_timeout}};
/// let mut buf = [0u8; 9];
/// let n = encode_grpc_timeout(Nanos::from_millis(250), &mut buf).unwrap();
/// assert_eq!(&buf[..n], b"250000u"); // 250,000,000 ns has 9 digits
/// # let _ = n;
/// let n = encode_grpc_timeout(Nanos::from_secs(30), &mut buf).unwrap();
/// assert_eq!(&buf[..n], b"30000000u");
/// assert_eq!(encode_grpc_timeout(Nanos::ZERO, &mut buf), Err(HeaderError::Expired));
/// ```
///
/// # Errors
///
/// [`HeaderError::Expired`] for a zero timeout; [`HeaderError::BufferTooSmall`] when `buf` is
/// shorter than the value (nothing is written then).
pub fn encode_grpc_timeout(timeout: Nanos, buf: &mut [u8]) -> Result<usize, HeaderError> {
    let ns = timeout.as_u64();
    if ns == 0 {
        return Err(HeaderError::Expired);
    }
    for &(unit, unit_ns) in &GRPC_UNITS {
        let v = ns / unit_ns;
        if v <= GRPC_MAX_VALUE {
            return write_decimal(v, Some(unit), buf);
        }
    }
    // Unreachable: u64::MAX / 3.6e12 = 5,124,095 <= 99,999,999.
    Err(HeaderError::Overflow)
}

/// Decodes a plain milliseconds timeout header value (ASCII digits only, for example Envoy's
/// `x-envoy-upstream-rq-timeout-ms`) into a duration. `0` is accepted (already expired).
///
/// ```
/// use portcullis::{Nanos, deadline::{HeaderError, decode_timeout_millis}};
/// assert_eq!(decode_timeout_millis(b"1500"), Ok(Nanos::from_millis(1_500)));
/// assert_eq!(decode_timeout_millis(b"-5"), Err(HeaderError::NotADigit { index: 0, byte: b'-' }));
/// ```
///
/// # Errors
///
/// [`HeaderError::Empty`], [`HeaderError::NotADigit`], and [`HeaderError::Overflow`] above
/// 18,446,744,073,709 ms.
pub fn decode_timeout_millis(value: &[u8]) -> Result<Nanos, HeaderError> {
    if value.is_empty() {
        return Err(HeaderError::Empty);
    }
    let ms = parse_digits(value, 0)?;
    ms.checked_mul(1_000_000).map(Nanos::new).ok_or(HeaderError::Overflow)
}

/// Encodes `timeout` in whole milliseconds, rounded down, into `buf`; returns the number of bytes
/// written (at most [`MILLIS_MAX_LEN`]).
///
/// # Errors
///
/// [`HeaderError::Expired`] when less than 1 ms is left (it would round down to 0);
/// [`HeaderError::BufferTooSmall`] when `buf` is shorter than the value.
pub fn encode_timeout_millis(timeout: Nanos, buf: &mut [u8]) -> Result<usize, HeaderError> {
    let ms = timeout.as_u64() / 1_000_000;
    if ms == 0 {
        return Err(HeaderError::Expired);
    }
    write_decimal(ms, None, buf)
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn remaining_boundary_is_exclusive() {
        let d = Deadline::at(Nanos::new(10));
        assert_eq!(d.remaining(Nanos::new(9)), Remaining::Left(Nanos::new(1)));
        assert_eq!(d.remaining(Nanos::new(10)), Remaining::Expired);
        assert_eq!(d.remaining(Nanos::new(11)), Remaining::Expired);
        assert!(!d.is_expired(Nanos::new(9)) && d.is_expired(Nanos::new(10)));
        assert_eq!(Remaining::Expired.left(), None);
        assert_eq!(Deadline::after(Nanos::new(5), Nanos::MAX), Deadline::NEVER);
        assert!(Deadline::NEVER.is_never());
        assert_eq!(Deadline::NEVER.child(Nanos::from_secs(1)), Deadline::NEVER);
    }

    #[test]
    fn child_split_and_hops() {
        let now = Nanos::new(1_000);
        let d = Deadline::at(Nanos::new(2_000));
        assert_eq!(d.child(Nanos::new(300)).instant(), Nanos::new(1_700));
        assert!(d.child(Nanos::new(5_000)).is_expired(Nanos::ZERO), "reserve beyond: expired");
        assert_eq!(
            d.child_with_timeout(now, Nanos::new(300), Nanos::new(100)).instant(),
            Nanos::new(1_100)
        );
        assert_eq!(
            d.child_with_timeout(now, Nanos::new(300), Nanos::new(900)).instant(),
            Nanos::new(1_700)
        );
        assert_eq!(d.split(now, 3), Remaining::Left(Nanos::new(333)));
        assert_eq!(d.split(now, 0), Remaining::Left(Nanos::new(1_000)));
        assert_eq!(d.split(Nanos::new(1_999), 2), Remaining::Expired, "share rounds to zero");
        assert_eq!(d.split(Nanos::new(2_000), 1), Remaining::Expired);
        assert_eq!(d.next_hop(now, 4).instant(), Nanos::new(1_250));
        assert_eq!(d.next_hop(Nanos::new(3_000), 4).instant(), Nanos::new(3_000));
        assert_eq!(d.min(Deadline::NEVER), d);
    }

    #[test]
    fn retry_rule_boundaries() {
        let d = Deadline::at(Nanos::new(100));
        let now = Nanos::ZERO;
        assert_eq!(
            d.retry_after(now, Nanos::new(99), Nanos::ZERO),
            RetryDelay::After(Nanos::new(99))
        );
        assert_eq!(d.retry_after(now, Nanos::new(100), Nanos::ZERO), RetryDelay::GiveUp);
        assert_eq!(
            d.retry_after(now, Nanos::new(90), Nanos::new(10)),
            RetryDelay::After(Nanos::new(90))
        );
        assert_eq!(d.retry_after(now, Nanos::new(91), Nanos::new(10)), RetryDelay::GiveUp);
        assert_eq!(d.retry_after(now, Nanos::MAX, Nanos::ZERO), RetryDelay::GiveUp);
    }

    #[test]
    fn grpc_units_and_rounding() {
        let mut buf = [0u8; GRPC_TIMEOUT_MAX_LEN];
        let enc = |ns: u64, expected: &[u8]| {
            let mut b = [0u8; GRPC_TIMEOUT_MAX_LEN];
            let n = encode_grpc_timeout(Nanos::new(ns), &mut b).unwrap();
            assert_eq!(&b[..n], expected, "{ns}");
        };
        enc(1, b"1n");
        enc(99_999_999, b"99999999n");
        enc(100_000_000, b"100000u");
        enc(100_000_999, b"100000u");
        enc(99_999_999_999, b"99999999u");
        enc(100_000_000_000, b"100000m");
        enc(u64::MAX, b"5124095H");
        assert_eq!(
            encode_grpc_timeout(Nanos::new(100_000_000), &mut [0u8; 6]),
            Err(HeaderError::BufferTooSmall { needed: 7 })
        );
        assert_eq!(decode_grpc_timeout(b"5124095H"), Ok(Nanos::new(5_124_095 * 3_600_000_000_000)));
        assert_eq!(decode_grpc_timeout(b"5124096H"), Err(HeaderError::Overflow));
        assert_eq!(decode_grpc_timeout(b"99999999M"), Ok(Nanos::new(99_999_999 * 60_000_000_000)));
        assert_eq!(decode_grpc_timeout(b"0n"), Ok(Nanos::ZERO));
        let now = Nanos::from_secs(1);
        let d = Deadline::from_grpc_timeout(now, b"2S").unwrap();
        assert_eq!(d.instant(), Nanos::from_secs(3));
        let n = d.to_grpc_timeout(now, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"2000000u");
        assert_eq!(d.to_grpc_timeout(Nanos::from_secs(3), &mut buf), Err(HeaderError::Expired));
    }

    #[test]
    fn millis_codec() {
        let mut buf = [0u8; MILLIS_MAX_LEN];
        let n = encode_timeout_millis(Nanos::MAX, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"18446744073709");
        assert_eq!(decode_timeout_millis(&buf[..n]), Ok(Nanos::new(18_446_744_073_709_000_000)));
        assert_eq!(decode_timeout_millis(b"18446744073710"), Err(HeaderError::Overflow));
        assert_eq!(decode_timeout_millis(b"99999999999999999999999"), Err(HeaderError::Overflow));
        assert_eq!(encode_timeout_millis(Nanos::new(999_999), &mut buf), Err(HeaderError::Expired));
        assert_eq!(
            encode_timeout_millis(Nanos::from_millis(12), &mut [0u8; 1]),
            Err(HeaderError::BufferTooSmall { needed: 2 })
        );
        assert_eq!(decode_timeout_millis(b""), Err(HeaderError::Empty));
        assert_eq!(
            decode_timeout_millis(b"1 "),
            Err(HeaderError::NotADigit { index: 1, byte: b' ' })
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            HeaderError::TooManyDigits { digits: 9 }.to_string(),
            "grpc-timeout value has 9 digits, at most 8 are allowed"
        );
        assert_eq!(
            HeaderError::BadUnit { unit: b's' }.to_string(),
            "grpc-timeout unit must be one of H M S m u n, got byte 0x73"
        );
    }
}
