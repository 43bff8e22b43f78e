//! Deadlines for C: pure functions over absolute deadlines (`uint64_t` nanoseconds of
//! `pcl_now_ns`'s clock; `PCL_DEADLINE_NEVER` never expires) and the `grpc-timeout` and
//! milliseconds header codecs. Semantics: `docs/semantics/deadline.md`.
//!
//! Thread-safety: every function is pure and thread-safe.

use core::ffi::c_char;

use portcullis::Nanos;
use portcullis::deadline::{
    Deadline, HeaderError, Remaining, RetryDelay, decode_grpc_timeout, decode_timeout_millis,
    encode_grpc_timeout, encode_timeout_millis,
};

use crate::boundary::{boundary, write_out};
use crate::status::pcl_status;

/// A deadline that never expires.
pub const PCL_DEADLINE_NEVER: u64 = u64::MAX;

/// The largest header buffer the codecs read or write; longer lengths are truncated to it when
/// encoding and rejected when decoding (`PCL_STATUS_HEADER_TOO_MANY_DIGITS`).
pub const PCL_HEADER_MAX_LEN: usize = 64;

fn header_status(e: HeaderError) -> pcl_status {
    match e {
        HeaderError::Empty => pcl_status::HeaderEmpty,
        HeaderError::MissingValue => pcl_status::HeaderMissingValue,
        HeaderError::MissingUnit => pcl_status::HeaderMissingUnit,
        HeaderError::TooManyDigits { .. } => pcl_status::HeaderTooManyDigits,
        HeaderError::BadUnit { .. } => pcl_status::HeaderBadUnit,
        HeaderError::NotADigit { .. } => pcl_status::HeaderNotADigit,
        HeaderError::Expired => pcl_status::Expired,
        HeaderError::BufferTooSmall { .. } => pcl_status::BufferTooSmall,
        // `Overflow`, and any kind added later, reads as the header being out of range.
        _ => pcl_status::HeaderOverflow,
    }
}

/// The time left before `deadline_ns` at `now_ns`, written to `*remaining_out` (never 0).
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_EXPIRED` (at or after the deadline; nothing written) or
/// `PCL_STATUS_NULL_ARGUMENT`. For `PCL_DEADLINE_NEVER` the remaining time is `UINT64_MAX - now`.
///
/// # Safety
///
/// `remaining_out` must be NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_deadline_remaining(
    deadline_ns: u64,
    now_ns: u64,
    remaining_out: *mut u64,
) -> pcl_status {
    boundary(|| match Deadline::at(Nanos::new(deadline_ns)).remaining(Nanos::new(now_ns)) {
        // SAFETY: forwarded caller guarantee.
        Remaining::Left(d) => unsafe { write_out(remaining_out, d.as_u64()) },
        Remaining::Expired => pcl_status::Expired,
    })
}

/// The deadline to give a downstream call so that `reserve_ns` remains for the response:
/// `deadline_ns - reserve_ns` (saturating at 0, which is already expired);
/// `PCL_DEADLINE_NEVER` stays never.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_deadline_child(deadline_ns: u64, reserve_ns: u64) -> u64 {
    Deadline::at(Nanos::new(deadline_ns)).child(Nanos::new(reserve_ns)).instant().as_u64()
}

/// An equal share of the time left at `now_ns` for each of `hops` calls still to make
/// (`hops == 0` reads as 1), written to `*share_out`.
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_EXPIRED` (no time left, or the share rounds to zero) or
/// `PCL_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `share_out` must be NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_deadline_split(
    deadline_ns: u64,
    now_ns: u64,
    hops: u32,
    share_out: *mut u64,
) -> pcl_status {
    boundary(|| match Deadline::at(Nanos::new(deadline_ns)).split(Nanos::new(now_ns), hops) {
        // SAFETY: forwarded caller guarantee.
        Remaining::Left(d) => unsafe { write_out(share_out, d.as_u64()) },
        Remaining::Expired => pcl_status::Expired,
    })
}

/// Whether a retry after `delay_ns` is still worth making before `deadline_ns`: it is if, when it
/// starts (`now_ns + delay_ns`), at least `max(min_attempt_ns, 1)` remains. The delay is never
/// shortened to fit.
///
/// Returns `PCL_STATUS_OK` (retry after exactly `delay_ns`) or `PCL_STATUS_EXPIRED` (give up).
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn pcl_deadline_retry_allowed(
    deadline_ns: u64,
    now_ns: u64,
    delay_ns: u64,
    min_attempt_ns: u64,
) -> pcl_status {
    let d = Deadline::at(Nanos::new(deadline_ns));
    match d.retry_after(Nanos::new(now_ns), Nanos::new(delay_ns), Nanos::new(min_attempt_ns)) {
        RetryDelay::After(_) => pcl_status::Ok,
        RetryDelay::GiveUp => pcl_status::Expired,
    }
}

/// Reads `len` bytes at `value` as a byte slice, checking NULL and the length bound.
///
/// # Safety
///
/// `value` must be NULL or valid for reads of `len` bytes.
unsafe fn header_in<'a>(value: *const c_char, len: usize) -> Result<&'a [u8], pcl_status> {
    if value.is_null() {
        return Err(pcl_status::NullArgument);
    }
    if len > PCL_HEADER_MAX_LEN {
        return Err(pcl_status::HeaderTooManyDigits);
    }
    // SAFETY: non-NULL, `len` bounded; the caller guarantees `len` readable bytes.
    Ok(unsafe { core::slice::from_raw_parts(value.cast::<u8>(), len) })
}

/// Decodes a header value of `len` bytes at `value` with `decode` into `*timeout_out`.
///
/// # Safety
///
/// `value` must be NULL or valid for reads of `len` bytes; `timeout_out` NULL or writable.
unsafe fn decode_with(
    decode: fn(&[u8]) -> Result<Nanos, HeaderError>,
    value: *const c_char,
    len: usize,
    timeout_out: *mut u64,
) -> pcl_status {
    boundary(|| {
        // SAFETY: forwarded caller guarantee.
        let bytes = match unsafe { header_in(value, len) } {
            Ok(b) => b,
            Err(s) => return s,
        };
        match decode(bytes) {
            // SAFETY: forwarded caller guarantee.
            Ok(t) => unsafe { write_out(timeout_out, t.as_u64()) },
            Err(e) => header_status(e),
        }
    })
}

/// Encodes a timeout with `encode`, writing at most `capacity` bytes (no NUL) to `buf` and the
/// length to `*written_out`.
///
/// # Safety
///
/// `buf` must be NULL or valid for writes of `capacity` bytes; `written_out` NULL or writable.
unsafe fn encode_with(
    encode: fn(Nanos, &mut [u8]) -> Result<usize, HeaderError>,
    timeout_ns: u64,
    buf: *mut c_char,
    capacity: usize,
    written_out: *mut usize,
) -> pcl_status {
    boundary(|| {
        if buf.is_null() || written_out.is_null() {
            return pcl_status::NullArgument;
        }
        let capacity = capacity.min(PCL_HEADER_MAX_LEN);
        // SAFETY: non-NULL; the caller guarantees `capacity` writable bytes (we use fewer or as
        // many).
        let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), capacity) };
        match encode(Nanos::new(timeout_ns), out) {
            // SAFETY: `written_out` is non-NULL and writable (contract).
            Ok(n) => unsafe { write_out(written_out, n) },
            Err(e) => header_status(e),
        }
    })
}

/// Writes the `grpc-timeout` header value for a timeout of `timeout_ns` into `buf` (at most
/// `capacity` bytes, no NUL terminator; 9 bytes always suffice) and its length into
/// `*written_out`. The finest unit that fits 8 digits is chosen, rounding down.
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_EXPIRED` (zero timeout: send no request),
/// `PCL_STATUS_BUFFER_TOO_SMALL` or `PCL_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `buf` must be NULL or valid for writes of `capacity` bytes; `written_out` NULL or valid for
/// one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_grpc_timeout_encode(
    timeout_ns: u64,
    buf: *mut c_char,
    capacity: usize,
    written_out: *mut usize,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { encode_with(encode_grpc_timeout, timeout_ns, buf, capacity, written_out) }
}

/// Parses a `grpc-timeout` header value of `len` bytes (no NUL needed; trim surrounding
/// whitespace first) into `*timeout_out` nanoseconds. `0` with any unit parses as 0: already
/// expired.
///
/// Returns `PCL_STATUS_OK`, one of the `PCL_STATUS_HEADER_*` statuses naming what is wrong, or
/// `PCL_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `value` must be NULL or valid for reads of `len` bytes; `timeout_out` NULL or valid for one
/// write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_grpc_timeout_decode(
    value: *const c_char,
    len: usize,
    timeout_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { decode_with(decode_grpc_timeout, value, len, timeout_out) }
}

/// Writes a plain milliseconds header value (decimal digits, rounded down) for `timeout_ns`; as
/// `pcl_grpc_timeout_encode` (20 bytes always suffice).
///
/// # Safety
///
/// As `pcl_grpc_timeout_encode`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_timeout_millis_encode(
    timeout_ns: u64,
    buf: *mut c_char,
    capacity: usize,
    written_out: *mut usize,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { encode_with(encode_timeout_millis, timeout_ns, buf, capacity, written_out) }
}

/// Parses a plain milliseconds header value (ASCII digits only) into `*timeout_out` nanoseconds;
/// as `pcl_grpc_timeout_decode`.
///
/// # Safety
///
/// As `pcl_grpc_timeout_decode`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_timeout_millis_decode(
    value: *const c_char,
    len: usize,
    timeout_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { decode_with(decode_timeout_millis, value, len, timeout_out) }
}
