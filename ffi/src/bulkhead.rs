//! Bulkheads for C: a semaphore of permits on one atomic word. Semantics:
//! `docs/semantics/bulkhead.md`.
//!
//! Thread-safety: every function on a live bulkhead may be called from any number of threads at
//! once (lock-free, except the bounded blocking wait of `pcl_bulkhead_acquire_timeout`); `_init`,
//! `_new` and `_free` must not race with other calls on the same object.

use core::ffi::c_void;
use core::time::Duration;

use portcullis::bulkhead::{Bulkhead, Rejected};

use crate::boundary::{
    Config, free_boxed, init_object, new_object, normalize_bool, with, write_out,
};
use crate::status::pcl_status;

/// `sizeof` a `pcl_bulkhead`, for static or shared-memory placement.
pub const PCL_BULKHEAD_SIZE: usize = 256;
/// Required alignment of a `pcl_bulkhead`.
pub const PCL_BULKHEAD_ALIGN: usize = 128;
/// The largest bulkhead limit.
pub const PCL_BULKHEAD_MAX_LIMIT: u32 = 8_388_607;

/// A bulkhead (opaque to C).
#[derive(Debug)]
pub struct pcl_bulkhead(pub(crate) Bulkhead);

const _: () = assert!(size_of::<pcl_bulkhead>() == PCL_BULKHEAD_SIZE);
const _: () = assert!(align_of::<pcl_bulkhead>() == PCL_BULKHEAD_ALIGN);
const _: () = assert!(PCL_BULKHEAD_MAX_LIMIT == portcullis::bulkhead::MAX_LIMIT);

/// Configuration of a `pcl_bulkhead`. Start from `pcl_bulkhead_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_bulkhead_config {
    /// `sizeof(pcl_bulkhead_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// Permits that may be out at once, `0..=PCL_BULKHEAD_MAX_LIMIT`. Default 10.
    pub limit: u32,
    /// Shadow mode: decide and count, but always admit. Default false.
    pub shadow: bool,
    /// Count refusals (default true): each refusal is then one compare-and-swap, linearizable and
    /// counted in `rejected`. False: a refusal is decided on one load and writes nothing (fresh up
    /// to happens-before; `rejected` counts only shadow mode's would-be refusals). See
    /// `docs/semantics/bulkhead.md`.
    pub count_refusals: bool,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers and bools. A `bool` is valid only
// as 0 or 1: `sanitize` rewrites each bool byte the caller wrote before the struct is read.
unsafe impl Config for pcl_bulkhead_config {
    const MIN_SIZE: usize = size_of::<pcl_bulkhead_config>();
    unsafe fn sanitize(raw: *mut Self) {
        // SAFETY: `raw` points to a writable `Self` (trait contract); each field is one byte.
        unsafe {
            normalize_bool(&raw mut (*raw).shadow);
            normalize_bool(&raw mut (*raw).count_refusals);
        }
    }
    fn defaults() -> Self {
        pcl_bulkhead_config {
            size: size_of::<Self>(),
            limit: 10,
            shadow: false,
            count_refusals: true,
        }
    }
}

/// A bulkhead's counters at one moment.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct pcl_bulkhead_stats {
    /// Admissions so far (may lag by up to 256 per decision in progress).
    pub admitted: u64,
    /// Refusals so far (same lag).
    pub rejected: u64,
    /// Refused releases of more permits than were out.
    pub over_releases: u64,
    /// Permits out now.
    pub in_flight: u32,
    /// The limit now.
    pub limit: u32,
    /// Permits free now (`limit - in_flight`, or 0 above the limit after a shrink).
    pub available: u32,
    /// Whether shadow mode is on.
    pub shadow: bool,
}

fn build(cfg: &pcl_bulkhead_config) -> Result<pcl_bulkhead, pcl_status> {
    let b = Bulkhead::new(cfg.limit)
        .map_err(|_| pcl_status::InvalidBulkheadLimit)?
        .count_refusals(cfg.count_refusals);
    b.set_shadow(cfg.shadow);
    Ok(pcl_bulkhead(b))
}

fn rejected(r: Rejected) -> pcl_status {
    match r {
        Rejected::Full { .. } => pcl_status::NoPermits,
        Rejected::ExceedsLimit { .. } => pcl_status::ExceedsCapacity,
    }
}

/// The default bulkhead configuration (`size` set, 10 permits).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_bulkhead_config_default() -> pcl_bulkhead_config {
    pcl_bulkhead_config::defaults()
}

/// `sizeof` a `pcl_bulkhead` (equals `PCL_BULKHEAD_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_bulkhead_size() -> usize {
    size_of::<pcl_bulkhead>()
}

/// Required alignment of a `pcl_bulkhead` (equals `PCL_BULKHEAD_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_bulkhead_align() -> usize {
    align_of::<pcl_bulkhead>()
}

/// Initialises a bulkhead in caller memory (see `pcl_count_window_init` for the rules on `mem`);
/// an invalid limit is `PCL_STATUS_INVALID_BULKHEAD_LIMIT`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_bulkhead_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_bulkhead_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build) }
}

/// Creates a bulkhead on the heap; free it with `pcl_bulkhead_free`.
///
/// # Safety
///
/// `config` as for `pcl_bulkhead_init`; `bulkhead_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_bulkhead_new(
    config: *const pcl_bulkhead_config,
    bulkhead_out: *mut *mut pcl_bulkhead,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, bulkhead_out, build) }
}

/// Frees a bulkhead made by `pcl_bulkhead_new`. NULL is a no-op.
///
/// # Safety
///
/// `bulkhead` must be NULL or a pointer from `pcl_bulkhead_new`, not yet freed, with no call on
/// it running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_bulkhead_free(bulkhead: *mut pcl_bulkhead) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(bulkhead) }
}

/// Takes `n` permits, all or nothing. On `PCL_STATUS_OK` the caller owns them and must give them
/// back with `pcl_bulkhead_release(bulkhead, n)`.
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_NO_PERMITS` (not enough free now),
/// `PCL_STATUS_EXCEEDS_CAPACITY` (`n` above the limit: never admissible at this limit) or
/// `PCL_STATUS_NULL_ARGUMENT`. A refusal is confirmed by a read-modify-write, so it is never based
/// on a stale view. In shadow mode every call returns `PCL_STATUS_OK` and refusals are only
/// counted. One CAS; lock-free.
///
/// # Safety
///
/// `bulkhead` must be NULL or a live bulkhead.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_bulkhead_try_acquire(
    bulkhead: *const pcl_bulkhead,
    n: u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(bulkhead, |b| match b.0.try_acquire_raw(n) {
            Ok(_) => pcl_status::Ok,
            Err(r) => rejected(r),
        })
    }
}

/// Takes `n` permits, waiting up to `timeout_ns` for them (parking with a bounded backoff, no
/// spinning; a freed permit is noticed within 1 ms). Returns as `pcl_bulkhead_try_acquire`, with
/// `PCL_STATUS_NO_PERMITS` once the timeout has passed. Blocking.
///
/// # Safety
///
/// `bulkhead` must be NULL or a live bulkhead.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_bulkhead_acquire_timeout(
    bulkhead: *const pcl_bulkhead,
    n: u32,
    timeout_ns: u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(bulkhead, |b| match b.0.acquire_timeout(n, Duration::from_nanos(timeout_ns)) {
            Ok(permit) => {
                // The C caller owns the permits from here and releases them itself.
                let _ = permit.into_raw();
                pcl_status::Ok
            }
            Err(r) => rejected(r),
        })
    }
}

/// Gives back `n` permits. Giving back more than are out is refused with
/// `PCL_STATUS_OVER_RELEASE`: nothing is released, the event is counted, and capacity never
/// grows. One `fetch_sub`; lock-free.
///
/// # Safety
///
/// `bulkhead` must be NULL or a live bulkhead.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_bulkhead_release(bulkhead: *const pcl_bulkhead, n: u32) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(bulkhead, |b| match b.0.release(n) {
            Ok(()) => pcl_status::Ok,
            Err(_) => pcl_status::OverRelease,
        })
    }
}

/// Changes the limit while permits may be out. Shrinking revokes nothing: permits above the new
/// limit stay out until released, and nothing is admitted until in-flight is below the limit.
/// Returns `PCL_STATUS_INVALID_BULKHEAD_LIMIT` above `PCL_BULKHEAD_MAX_LIMIT` (limit unchanged).
///
/// # Safety
///
/// `bulkhead` must be NULL or a live bulkhead.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_bulkhead_resize(
    bulkhead: *const pcl_bulkhead,
    limit: u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(bulkhead, |b| match b.0.resize(limit) {
            Ok(_) => pcl_status::Ok,
            Err(_) => pcl_status::InvalidBulkheadLimit,
        })
    }
}

/// Turns shadow mode on or off.
///
/// # Safety
///
/// `bulkhead` must be NULL or a live bulkhead.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_bulkhead_set_shadow(
    bulkhead: *const pcl_bulkhead,
    on: bool,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(bulkhead, |b| {
            b.0.set_shadow(on);
            pcl_status::Ok
        })
    }
}

/// The bulkhead's counters into `*snapshot_out`.
///
/// # Safety
///
/// `bulkhead` must be NULL or a live bulkhead; `snapshot_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_bulkhead_snapshot(
    bulkhead: *const pcl_bulkhead,
    snapshot_out: *mut pcl_bulkhead_stats,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(bulkhead, |b| {
            let s = b.0.snapshot();
            let out = pcl_bulkhead_stats {
                admitted: s.admitted,
                rejected: s.rejected,
                over_releases: s.over_releases,
                in_flight: s.in_flight,
                limit: s.limit,
                available: s.available,
                shadow: s.shadow,
            };
            write_out(snapshot_out, out)
        })
    }
}
