//! `pcl_status`: the one result type of every C function that can fail or refuse.

use core::ffi::c_char;

/// The result of a C call: success, a normal refusal, a caller error, or an internal error.
///
/// Numbers are fixed forever and never reused: `0` is success; `1..=99` are normal refusals
/// (answers, not errors); `100..=199` are caller errors; `200..=299` are internal errors;
/// `1000..=1999` name the invalid field of a config (one status per field, grouped by object). A status
/// received from C is read as a plain `uint32_t` (`pcl_status_str`, `pcl_status_is_error`), so an
/// unknown number is never undefined behaviour.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types, reason = "C naming: the type is pcl_status in the header")]
pub enum pcl_status {
    /// Success, or "admitted".
    Ok = 0,

    /// Refused: the circuit breaker is open.
    RejectedOpen = 1,
    /// Refused: the circuit breaker is half-open and all its probes are out.
    RejectedHalfOpenFull = 2,
    /// Refused: the circuit breaker was forced open by an operator.
    RejectedForcedOpen = 3,
    /// Refused: the rate limit allows no permit now.
    RateLimited = 4,
    /// Refused: the bulkhead has no free permit.
    NoPermits = 5,
    /// Refused: the deadline has passed (or leaves no time for what was asked).
    Expired = 6,
    /// Not counted: the outcome was older than the window (a clock that went backwards, or a
    /// record that arrived after its bucket expired).
    NotCounted = 7,

    /// A pointer argument was NULL.
    NullArgument = 100,
    /// A caller-provided buffer or memory block is smaller than required.
    BufferTooSmall = 101,
    /// Caller-provided memory is not aligned as the object requires.
    Misaligned = 102,
    /// A config struct's `size` field is smaller than the first version of that struct, or larger
    /// than this library knows with non-zero bytes past what it knows (built against a newer
    /// header).
    VersionMismatch = 103,
    /// An integer argument that stands for an enumeration has no meaning (for example an outcome
    /// other than the `PCL_OUTCOME_*` values).
    InvalidArgument = 104,
    /// The heap allocation of a `_new` function failed.
    OutOfMemory = 105,
    /// More permits were requested than the object can ever grant at its current configuration
    /// (above a bulkhead's limit, or above a rate limiter's burst).
    ExceedsCapacity = 106,
    /// More bulkhead permits were released than were out; nothing was released.
    OverRelease = 107,
    /// A timeout header value is empty.
    HeaderEmpty = 110,
    /// A `grpc-timeout` value has a unit but no digits.
    HeaderMissingValue = 111,
    /// A `grpc-timeout` value has no unit.
    HeaderMissingUnit = 112,
    /// A `grpc-timeout` value has more than 8 digits.
    HeaderTooManyDigits = 113,
    /// A `grpc-timeout` unit is not one of `H M S m u n`.
    HeaderBadUnit = 114,
    /// A timeout header value has a byte that should be an ASCII digit and is not.
    HeaderNotADigit = 115,
    /// A timeout header value does not fit in 64 bits of nanoseconds.
    HeaderOverflow = 116,

    /// Internal error: a Rust panic was caught at the boundary (a bug in the library; the object
    /// is still consistent, as its state lives in atomic words a panic cannot half-write).
    Panic = 200,

    /// Invalid config: `window_size` is 0 or above the object's capacity.
    InvalidWindowSize = 1000,
    /// Invalid config: `window_duration_ns` is 0, or not a multiple of `window_buckets`.
    InvalidWindowDuration = 1001,
    /// Invalid config: `window_buckets` is 0 or above the object's capacity.
    InvalidWindowBuckets = 1002,
    /// Invalid config: a bulkhead `limit` above `PCL_BULKHEAD_MAX_LIMIT`.
    InvalidBulkheadLimit = 1070,
    /// Invalid config: a `degrade_after` threshold is 0 or too large.
    InvalidHealthDegradeAfter = 1170,
    /// Invalid config: a `recover_after` threshold is 0, too large, or not larger than the
    /// `degrade_after` threshold it undoes (no hysteresis).
    InvalidHealthRecoverAfter = 1171,
    /// Invalid config: a `check_interval_ns` is 0.
    InvalidHealthCheckInterval = 1172,
    /// Invalid config: `initial_state` is not a `PCL_HEALTH_*` value.
    InvalidHealthInitialState = 1173,
}

impl pcl_status {
    /// Every status, in numeric order (for tests and `pcl_status_str`).
    pub const ALL: [pcl_status; 32] = [
        pcl_status::Ok,
        pcl_status::RejectedOpen,
        pcl_status::RejectedHalfOpenFull,
        pcl_status::RejectedForcedOpen,
        pcl_status::RateLimited,
        pcl_status::NoPermits,
        pcl_status::Expired,
        pcl_status::NotCounted,
        pcl_status::NullArgument,
        pcl_status::BufferTooSmall,
        pcl_status::Misaligned,
        pcl_status::VersionMismatch,
        pcl_status::InvalidArgument,
        pcl_status::OutOfMemory,
        pcl_status::ExceedsCapacity,
        pcl_status::OverRelease,
        pcl_status::HeaderEmpty,
        pcl_status::HeaderMissingValue,
        pcl_status::HeaderMissingUnit,
        pcl_status::HeaderTooManyDigits,
        pcl_status::HeaderBadUnit,
        pcl_status::HeaderNotADigit,
        pcl_status::HeaderOverflow,
        pcl_status::Panic,
        pcl_status::InvalidWindowSize,
        pcl_status::InvalidWindowDuration,
        pcl_status::InvalidWindowBuckets,
        pcl_status::InvalidBulkheadLimit,
        pcl_status::InvalidHealthDegradeAfter,
        pcl_status::InvalidHealthRecoverAfter,
        pcl_status::InvalidHealthCheckInterval,
        pcl_status::InvalidHealthInitialState,
    ];

    /// The status with number `n`, if there is one.
    #[must_use]
    pub fn from_u32(n: u32) -> Option<pcl_status> {
        pcl_status::ALL.into_iter().find(|s| *s as u32 == n)
    }

    /// A static, NUL-terminated description.
    #[must_use]
    pub const fn message(self) -> &'static core::ffi::CStr {
        match self {
            pcl_status::Ok => c"ok",
            pcl_status::RejectedOpen => c"rejected: circuit breaker open",
            pcl_status::RejectedHalfOpenFull => c"rejected: circuit breaker half-open, probes full",
            pcl_status::RejectedForcedOpen => c"rejected: circuit breaker forced open",
            pcl_status::RateLimited => c"rejected: rate limited",
            pcl_status::NoPermits => c"rejected: no bulkhead permit free",
            pcl_status::Expired => c"rejected: deadline expired",
            pcl_status::NotCounted => c"not counted: outcome older than the window",
            pcl_status::NullArgument => c"error: NULL argument",
            pcl_status::BufferTooSmall => c"error: buffer or memory block too small",
            pcl_status::Misaligned => c"error: memory block misaligned",
            pcl_status::VersionMismatch => c"error: config struct size not understood",
            pcl_status::InvalidArgument => c"error: invalid enumeration value",
            pcl_status::OutOfMemory => c"error: out of memory",
            pcl_status::InvalidWindowSize => c"invalid config: window_size",
            pcl_status::InvalidWindowDuration => c"invalid config: window_duration_ns",
            pcl_status::InvalidWindowBuckets => c"invalid config: window_buckets",
            pcl_status::Panic => c"internal error: panic caught at the C boundary",
            pcl_status::ExceedsCapacity => {
                c"error: more permits requested than can ever be granted"
            }
            pcl_status::OverRelease => c"error: more permits released than were out",
            pcl_status::InvalidBulkheadLimit => c"invalid config: bulkhead limit",
            pcl_status::HeaderEmpty => c"invalid header: empty",
            pcl_status::HeaderMissingValue => c"invalid header: no digits",
            pcl_status::HeaderMissingUnit => c"invalid header: no unit",
            pcl_status::HeaderTooManyDigits => c"invalid header: more than 8 digits",
            pcl_status::HeaderBadUnit => c"invalid header: unit not one of H M S m u n",
            pcl_status::HeaderNotADigit => c"invalid header: not an ASCII digit",
            pcl_status::HeaderOverflow => c"invalid header: timeout too large",
            pcl_status::InvalidHealthDegradeAfter => c"invalid config: degrade_after",
            pcl_status::InvalidHealthRecoverAfter => c"invalid config: recover_after",
            pcl_status::InvalidHealthCheckInterval => c"invalid config: check_interval_ns",
            pcl_status::InvalidHealthInitialState => c"invalid config: initial_state",
        }
    }
}

/// Returns a static, NUL-terminated description of `status` ("unknown status" for a number that
/// is not a `pcl_status`). Never NULL, never freed by the caller.
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_status_str(status: u32) -> *const c_char {
    pcl_status::from_u32(status).map_or(c"unknown status", pcl_status::message).as_ptr()
}

/// Returns whether `status` is an error (a caller or internal error), as opposed to success or a
/// normal refusal. Unknown numbers are errors.
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_status_is_error(status: u32) -> bool {
    !(0..100).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_sorted_and_in_their_ranges() {
        let nums: Vec<u32> = pcl_status::ALL.iter().map(|s| *s as u32).collect();
        assert!(nums.windows(2).all(|w| w[0] < w[1]));
        for s in pcl_status::ALL {
            assert_eq!(pcl_status::from_u32(s as u32), Some(s));
            let is_error = pcl_status_is_error(s as u32);
            assert_eq!(is_error, s as u32 >= 100, "{s:?}");
            let n = s as u32;
            assert!(n < 300 || (1000..2000).contains(&n), "{s:?} outside the documented ranges");
            assert!(!s.message().to_bytes().is_empty());
        }
        assert_eq!(pcl_status::from_u32(99), None);
        assert!(pcl_status_is_error(99_999));
    }
}
