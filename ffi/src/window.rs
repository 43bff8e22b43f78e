//! Sliding windows for C: `pcl_count_window` (the last N outcomes) and `pcl_time_window` (the last
//! K buckets of time). Semantics: `docs/semantics/windows.md`.
//!
//! Thread-safety: every function on a live window may be called from any number of threads at
//! once (the windows are lock-free); `_init`, `_new` and `_free` must not race with other calls on
//! the same object.

use core::ffi::c_void;

use portcullis::window::{CountWindow, Outcome, TimeWindow, WindowCounts};
use portcullis::{ConfigError, Nanos};

use crate::boundary::{
    Config, free_boxed, init_object, new_object, read_slice, with, write_opt, write_out,
};
use crate::clock::pcl_now_ns;
use crate::status::pcl_status;

/// A call that succeeded within the slow-call threshold.
pub const PCL_OUTCOME_SUCCESS: u32 = 1;
/// A call that failed within the slow-call threshold.
pub const PCL_OUTCOME_FAILURE: u32 = 2;
/// A call that succeeded but was slow.
pub const PCL_OUTCOME_SLOW_SUCCESS: u32 = 3;
/// A call that failed and was slow.
pub const PCL_OUTCOME_SLOW_FAILURE: u32 = 4;

/// The largest `window_size` of a `pcl_count_window`.
pub const PCL_COUNT_WINDOW_MAX_SIZE: u32 = 1024;
/// The largest `window_buckets` of a `pcl_time_window`.
pub const PCL_TIME_WINDOW_MAX_BUCKETS: u32 = 128;
/// `sizeof` a `pcl_count_window`, for static or shared-memory placement (`pcl_count_window_init`).
pub const PCL_COUNT_WINDOW_SIZE: usize = 8448;
/// Required alignment of a `pcl_count_window`.
pub const PCL_COUNT_WINDOW_ALIGN: usize = 128;
/// `sizeof` a `pcl_time_window`.
pub const PCL_TIME_WINDOW_SIZE: usize = 2304;
/// Required alignment of a `pcl_time_window`.
pub const PCL_TIME_WINDOW_ALIGN: usize = 128;

/// A count window of up to `PCL_COUNT_WINDOW_MAX_SIZE` outcomes (opaque to C).
#[derive(Debug)]
pub struct pcl_count_window(CountWindow<{ PCL_COUNT_WINDOW_MAX_SIZE as usize }>);

/// A time window of up to `PCL_TIME_WINDOW_MAX_BUCKETS` buckets (opaque to C).
#[derive(Debug)]
pub struct pcl_time_window(TimeWindow<{ PCL_TIME_WINDOW_MAX_BUCKETS as usize }>);

const _: () = assert!(size_of::<pcl_count_window>() == PCL_COUNT_WINDOW_SIZE);
const _: () = assert!(align_of::<pcl_count_window>() == PCL_COUNT_WINDOW_ALIGN);
const _: () = assert!(size_of::<pcl_time_window>() == PCL_TIME_WINDOW_SIZE);
const _: () = assert!(align_of::<pcl_time_window>() == PCL_TIME_WINDOW_ALIGN);

/// Configuration of a `pcl_count_window`. Start from `pcl_count_window_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_count_window_config {
    /// `sizeof(pcl_count_window_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// How many of the most recent outcomes the window holds, `1..=PCL_COUNT_WINDOW_MAX_SIZE`.
    /// Default 100.
    pub window_size: u32,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_count_window_config {
    const MIN_SIZE: usize = size_of::<pcl_count_window_config>();
    fn defaults() -> Self {
        pcl_count_window_config { size: size_of::<Self>(), window_size: 100 }
    }
}

/// Configuration of a `pcl_time_window`. Start from `pcl_time_window_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_time_window_config {
    /// `sizeof(pcl_time_window_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// The span the window covers, in nanoseconds; a non-zero multiple of `window_buckets`.
    /// Default 10 s.
    pub window_duration_ns: u64,
    /// Number of buckets, `1..=PCL_TIME_WINDOW_MAX_BUCKETS`. Default 10.
    pub window_buckets: u32,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_time_window_config {
    const MIN_SIZE: usize = size_of::<pcl_time_window_config>();
    fn defaults() -> Self {
        pcl_time_window_config {
            size: size_of::<Self>(),
            window_duration_ns: 10_000_000_000,
            window_buckets: 10,
        }
    }
}

/// What a window holds: calls, failed calls, slow calls (`failures <= calls`, `slow <= calls`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct pcl_window_counts {
    /// Calls in the window.
    pub calls: u64,
    /// Calls that failed (slow or not).
    pub failures: u64,
    /// Calls that were slow (failed or not).
    pub slow: u64,
}

impl From<WindowCounts> for pcl_window_counts {
    fn from(c: WindowCounts) -> Self {
        pcl_window_counts { calls: c.calls, failures: c.failures, slow: c.slow }
    }
}

/// The `pcl_status` for a rejected window config.
fn config_status(e: ConfigError) -> pcl_status {
    match e.field() {
        "window_size" => pcl_status::InvalidWindowSize,
        "window_buckets" => pcl_status::InvalidWindowBuckets,
        _ => pcl_status::InvalidWindowDuration,
    }
}

/// An outcome number from C, validated.
pub(crate) fn outcome(n: u32) -> Option<Outcome> {
    match n {
        PCL_OUTCOME_SUCCESS => Some(Outcome::Success),
        PCL_OUTCOME_FAILURE => Some(Outcome::Failure),
        PCL_OUTCOME_SLOW_SUCCESS => Some(Outcome::SlowSuccess),
        PCL_OUTCOME_SLOW_FAILURE => Some(Outcome::SlowFailure),
        _ => None,
    }
}

fn build_count(cfg: &pcl_count_window_config) -> Result<pcl_count_window, pcl_status> {
    let size = usize::try_from(cfg.window_size).unwrap_or(usize::MAX);
    CountWindow::with_size(size).map(pcl_count_window).map_err(config_status)
}

fn build_time(cfg: &pcl_time_window_config) -> Result<pcl_time_window, pcl_status> {
    let buckets = usize::try_from(cfg.window_buckets).unwrap_or(usize::MAX);
    TimeWindow::with_buckets(Nanos::new(cfg.window_duration_ns), buckets)
        .map(pcl_time_window)
        .map_err(config_status)
}

// ------------------------------------------------------------------------------------------------
// Count window

/// The default count-window configuration (`size` set, a window of 100 outcomes).
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_count_window_config_default() -> pcl_count_window_config {
    pcl_count_window_config::defaults()
}

/// `sizeof` a `pcl_count_window` (equals `PCL_COUNT_WINDOW_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_count_window_size() -> usize {
    size_of::<pcl_count_window>()
}

/// Required alignment of a `pcl_count_window` (equals `PCL_COUNT_WINDOW_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_count_window_align() -> usize {
    align_of::<pcl_count_window>()
}

/// Initialises a count window in caller memory `mem` of `size` bytes.
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_NULL_ARGUMENT`, `PCL_STATUS_BUFFER_TOO_SMALL`,
/// `PCL_STATUS_MISALIGNED`, `PCL_STATUS_VERSION_MISMATCH` or `PCL_STATUS_INVALID_WINDOW_SIZE`;
/// on error `mem` is left untouched. The object holds no pointers: `mem` may be static storage or
/// a mapping shared between processes. It needs no destructor.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and not hold a live object in use;
/// `config` must be NULL or point to a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_count_window_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_count_window_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build_count) }
}

/// Creates a count window on the heap; `*window_out` receives it (only on `PCL_STATUS_OK`).
/// Free it with `pcl_count_window_free`.
///
/// # Safety
///
/// `config` as for `pcl_count_window_init`; `window_out` must be NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_count_window_new(
    config: *const pcl_count_window_config,
    window_out: *mut *mut pcl_count_window,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, window_out, build_count) }
}

/// Frees a window made by `pcl_count_window_new`. NULL is a no-op.
///
/// # Safety
///
/// `window` must be NULL or a pointer from `pcl_count_window_new` not yet freed, with no call on
/// it running or following (never one placed by `pcl_count_window_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_count_window_free(window: *mut pcl_count_window) {
    // SAFETY: forwarded caller guarantees. Dropping a window cannot panic (plain atomics).
    unsafe { free_boxed(window) }
}

/// Records one outcome (`PCL_OUTCOME_*`).
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_NOT_COUNTED` (only under concurrency: later records
/// already evicted it), `PCL_STATUS_NULL_ARGUMENT` or `PCL_STATUS_INVALID_ARGUMENT`. Lock-free.
///
/// # Safety
///
/// `window` must be NULL or a live window from `_new` or `_init`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_count_window_record(
    window: *const pcl_count_window,
    outcome_code: u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(window, |w| match outcome(outcome_code) {
            Some(o) if w.0.record(o) => pcl_status::Ok,
            Some(_) => pcl_status::NotCounted,
            None => pcl_status::InvalidArgument,
        })
    }
}

/// Records `n` outcomes (`PCL_OUTCOME_*`, from `outcomes[0]` to `outcomes[n - 1]`) in one call,
/// in order, as `n` calls of `pcl_count_window_record` would; the number that counted goes to
/// `*counted_out` (may be NULL). For callers whose per-call cost (cgo, a lock around a batch)
/// would exceed the record itself.
///
/// All codes are checked first: one unknown code returns `PCL_STATUS_INVALID_ARGUMENT` with
/// nothing recorded. Also `PCL_STATUS_NULL_ARGUMENT` (`window`, or `outcomes` with `n > 0`) and
/// `PCL_STATUS_INVALID_ARGUMENT` for a misaligned `outcomes` or an impossible `n`. `n == 0`
/// records nothing and returns `PCL_STATUS_OK`. Lock-free; not atomic as a whole (a concurrent
/// reader may see part of the batch).
///
/// # Safety
///
/// `window` as for `pcl_count_window_record`; `outcomes` NULL or valid for reads of `n` values;
/// `counted_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_count_window_record_batch(
    window: *const pcl_count_window,
    outcomes: *const u32,
    n: usize,
    counted_out: *mut usize,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(window, |w| {
            let codes = match checked_codes(outcomes, n) {
                Ok(c) => c,
                Err(s) => return s,
            };
            // The core's batch takes outcomes, the caller gave codes: convert a chunk at a time
            // on the stack.
            let mut buf = [Outcome::Success; 256];
            let mut counted = 0;
            for chunk in codes.chunks(buf.len()) {
                for (slot, &code) in buf.iter_mut().zip(chunk) {
                    *slot = outcome(code).unwrap_or(Outcome::Success); // every code was checked
                }
                counted += w.0.record_batch(&buf[..chunk.len()]);
            }
            write_opt(counted_out, counted);
            pcl_status::Ok
        })
    }
}

/// Reads what the window holds into `*counts_out`. One atomic load; lock-free.
///
/// # Safety
///
/// `window` as for `pcl_count_window_record`; `counts_out` must be NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_count_window_counts(
    window: *const pcl_count_window,
    counts_out: *mut pcl_window_counts,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(window, |w| write_out(counts_out, w.0.counts().into())) }
}

/// Empties the window.
///
/// # Safety
///
/// `window` as for `pcl_count_window_record`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_count_window_reset(window: *const pcl_count_window) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(window, |w| {
            w.0.reset();
            pcl_status::Ok
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Time window

/// The default time-window configuration (`size` set, 10 buckets over 10 s).
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_time_window_config_default() -> pcl_time_window_config {
    pcl_time_window_config::defaults()
}

/// `sizeof` a `pcl_time_window` (equals `PCL_TIME_WINDOW_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_time_window_size() -> usize {
    size_of::<pcl_time_window>()
}

/// Required alignment of a `pcl_time_window` (equals `PCL_TIME_WINDOW_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_time_window_align() -> usize {
    align_of::<pcl_time_window>()
}

/// Initialises a time window in caller memory; as `pcl_count_window_init`, with the statuses
/// `PCL_STATUS_INVALID_WINDOW_DURATION` and `PCL_STATUS_INVALID_WINDOW_BUCKETS` for its config.
///
/// # Safety
///
/// As `pcl_count_window_init`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_time_window_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_time_window_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build_time) }
}

/// Creates a time window on the heap; free it with `pcl_time_window_free`.
///
/// # Safety
///
/// As `pcl_count_window_new`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_time_window_new(
    config: *const pcl_time_window_config,
    window_out: *mut *mut pcl_time_window,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, window_out, build_time) }
}

/// Frees a window made by `pcl_time_window_new`. NULL is a no-op.
///
/// # Safety
///
/// As `pcl_count_window_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_time_window_free(window: *mut pcl_time_window) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(window) }
}

/// Records one outcome (`PCL_OUTCOME_*`) observed at `now_ns` (a `pcl_now_ns` reading).
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_NOT_COUNTED` (its time is already outside the window),
/// `PCL_STATUS_NULL_ARGUMENT` or `PCL_STATUS_INVALID_ARGUMENT`. Lock-free.
///
/// # Safety
///
/// `window` must be NULL or a live window from `_new` or `_init`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_time_window_record(
    window: *const pcl_time_window,
    outcome_code: u32,
    now_ns: u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(window, |w| match outcome(outcome_code) {
            Some(o) if w.0.record(o, Nanos::new(now_ns)) => pcl_status::Ok,
            Some(_) => pcl_status::NotCounted,
            None => pcl_status::InvalidArgument,
        })
    }
}

/// `pcl_time_window_record` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_time_window_record`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_time_window_record_now(
    window: *const pcl_time_window,
    outcome_code: u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_time_window_record(window, outcome_code, pcl_now_ns()) }
}

/// Records `n` outcomes observed at `now_ns` in one call, as `pcl_count_window_record_batch`
/// does for a count window (same checks, same statuses).
///
/// # Safety
///
/// `window` as for `pcl_time_window_record`; `outcomes` NULL or valid for reads of `n` values;
/// `counted_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_time_window_record_batch(
    window: *const pcl_time_window,
    outcomes: *const u32,
    n: usize,
    now_ns: u64,
    counted_out: *mut usize,
) -> pcl_status {
    let now = Nanos::new(now_ns);
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(window, |w| {
            let codes = match checked_codes(outcomes, n) {
                Ok(c) => c,
                Err(s) => return s,
            };
            let mut counted = 0;
            for o in codes.iter().filter_map(|&c| outcome(c)) {
                counted += usize::from(w.0.record(o, now));
            }
            write_opt(counted_out, counted);
            pcl_status::Ok
        })
    }
}

/// The outcome codes of a batch: read as `read_slice` does, and all known (else
/// `InvalidArgument`, so that a refused batch records nothing).
///
/// # Safety
///
/// As `read_slice` for `outcomes` and `n`.
unsafe fn checked_codes<'a>(outcomes: *const u32, n: usize) -> Result<&'a [u32], pcl_status> {
    // SAFETY: forwarded caller guarantees.
    let codes = unsafe { read_slice(outcomes, n) }?;
    if codes.iter().any(|&c| outcome(c).is_none()) {
        return Err(pcl_status::InvalidArgument);
    }
    Ok(codes)
}

/// Reads what the window holds at `now_ns` into `*counts_out`. Lock-free.
///
/// # Safety
///
/// `window` as for `pcl_time_window_record`; `counts_out` must be NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_time_window_counts(
    window: *const pcl_time_window,
    now_ns: u64,
    counts_out: *mut pcl_window_counts,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(window, |w| write_out(counts_out, w.0.counts(Nanos::new(now_ns)).into())) }
}

/// `pcl_time_window_counts` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_time_window_counts`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_time_window_counts_now(
    window: *const pcl_time_window,
    counts_out: *mut pcl_window_counts,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_time_window_counts(window, pcl_now_ns(), counts_out) }
}

/// Empties the window.
///
/// # Safety
///
/// `window` as for `pcl_time_window_record`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_time_window_reset(window: *const pcl_time_window) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(window, |w| {
            w.0.reset();
            pcl_status::Ok
        })
    }
}
