//! `config_bytes`: random bytes as every `pcl_X_config` struct of the C ABI (count and time
//! windows, breaker, limiter, bulkhead, AIMD and gradient limits, health machine, hedge policy,
//! retry policy, retry throttle, ratio budget), with a random `size` field (below, equal to and
//! above the struct, with zero and non-zero tails), through `pcl_X_new` and through `pcl_X_init`
//! into caller memory of random size and alignment.
//!
//! The config lives in a heap buffer of exactly `max(size, 8)` bytes, so AddressSanitizer
//! reports any read past what `size` declares. Properties:
//! - only documented statuses: `OK`, `VERSION_MISMATCH`, `MISALIGNED`, `NULL_ARGUMENT`,
//!   `OUT_OF_MEMORY` (`_new`), `BUFFER_TOO_SMALL` (`_init`), and the `PCL_STATUS_INVALID_*`
//!   family the object's documentation names; never `PANIC` or another object's status;
//! - a misaligned config is `MISALIGNED`; a `size` below the struct, above 4096, or with
//!   non-zero bytes past the struct is `VERSION_MISMATCH`;
//! - for breakers, limiters and bulkheads the verdict on a readable config is predicted: OK iff
//!   no documented rule is broken, else the status of a broken rule (the predicates of
//!   `breaker_ops`, `limiter_ops` and `bulkhead_ops`, on the fields read back from the bytes,
//!   any non-zero byte of a `bool` field being true);
//! - `_new` and `_init` agree on the config; `_init` then refuses memory that is too small
//!   (`BUFFER_TOO_SMALL`) or misaligned (`MISALIGNED`), in that order, and a refused `_init`
//!   leaves the caller's memory untouched;
//! - an object made answers one call as documented (a new window is empty, a new breaker admits,
//!   a new limiter and bulkhead report the configured quota and limit, ...), and is freed.
//!
//! Input: a selector byte (type and layout flags), size and offsets, then the config bytes.
use crate::Bytes;
use core::ffi::c_void;
use core::mem::offset_of;
use portcullis_ffi::adaptive::{
    pcl_aimd, pcl_aimd_align, pcl_aimd_config, pcl_aimd_free, pcl_aimd_init, pcl_aimd_limit,
    pcl_aimd_new, pcl_aimd_size, pcl_gradient, pcl_gradient_align, pcl_gradient_config,
    pcl_gradient_free, pcl_gradient_init, pcl_gradient_limit, pcl_gradient_new, pcl_gradient_size,
};
use portcullis_ffi::breaker::{
    PCL_BREAKER_PERMIT_TRACKED, pcl_breaker, pcl_breaker_align, pcl_breaker_config,
    pcl_breaker_free, pcl_breaker_init, pcl_breaker_new, pcl_breaker_permit, pcl_breaker_size,
    pcl_breaker_try_acquire,
};
use portcullis_ffi::bulkhead::{
    pcl_bulkhead, pcl_bulkhead_align, pcl_bulkhead_config, pcl_bulkhead_free, pcl_bulkhead_init,
    pcl_bulkhead_new, pcl_bulkhead_size, pcl_bulkhead_snapshot, pcl_bulkhead_stats,
};
use portcullis_ffi::health::{
    pcl_health, pcl_health_align, pcl_health_config, pcl_health_free, pcl_health_init,
    pcl_health_new, pcl_health_size, pcl_health_state,
};
use portcullis_ffi::hedge::{
    pcl_hedge_config, pcl_hedge_policy, pcl_hedge_policy_align, pcl_hedge_policy_free,
    pcl_hedge_policy_init, pcl_hedge_policy_new, pcl_hedge_policy_on_call, pcl_hedge_policy_size,
};
use portcullis_ffi::limiter::{
    pcl_limiter, pcl_limiter_align, pcl_limiter_config, pcl_limiter_free, pcl_limiter_init,
    pcl_limiter_new, pcl_limiter_size, pcl_limiter_snapshot, pcl_limiter_stats,
};
use portcullis_ffi::retry::{
    pcl_retry_config, pcl_retry_policy, pcl_retry_policy_align, pcl_retry_policy_free,
    pcl_retry_policy_init, pcl_retry_policy_new, pcl_retry_policy_size, pcl_retry_ratio_budget,
    pcl_retry_ratio_budget_align, pcl_retry_ratio_budget_balance, pcl_retry_ratio_budget_config,
    pcl_retry_ratio_budget_free, pcl_retry_ratio_budget_init, pcl_retry_ratio_budget_new,
    pcl_retry_ratio_budget_size, pcl_retry_state, pcl_retry_state_init, pcl_retry_throttle,
    pcl_retry_throttle_align, pcl_retry_throttle_check, pcl_retry_throttle_config,
    pcl_retry_throttle_free, pcl_retry_throttle_init, pcl_retry_throttle_new,
    pcl_retry_throttle_size,
};
use portcullis_ffi::status::pcl_status;
use portcullis_ffi::window::{
    pcl_count_window, pcl_count_window_align, pcl_count_window_config, pcl_count_window_counts,
    pcl_count_window_free, pcl_count_window_init, pcl_count_window_new, pcl_count_window_size,
    pcl_time_window, pcl_time_window_align, pcl_time_window_config, pcl_time_window_counts,
    pcl_time_window_free, pcl_time_window_init, pcl_time_window_new, pcl_time_window_size,
    pcl_window_counts,
};
use std::alloc::Layout;

/// The largest `size` the library reads (`MAX_CONFIG_SIZE` in the FFI crate).
const MAX_CONFIG_SIZE: usize = 4096;

/// One config type and its object, type-erased.
struct Kind {
    name: &'static str,
    config_size: usize,
    config_align: usize,
    /// The numbers of the `PCL_STATUS_INVALID_*` statuses its documentation names.
    invalid: &'static [core::ops::RangeInclusive<u32>],
    /// The rules a readable config breaks, when a predicate exists (`None`: not predicted).
    predict: Option<fn(&[u8]) -> Vec<pcl_status>>,
    new: unsafe fn(*const u8, *mut *mut c_void) -> pcl_status,
    init: unsafe fn(*mut c_void, usize, *const u8) -> pcl_status,
    obj_size: fn() -> usize,
    obj_align: fn() -> usize,
    /// One call on a new object (`bytes`: its config), asserting the documented answer.
    use_once: unsafe fn(*const c_void, &[u8]),
    free: unsafe fn(*mut c_void),
}

/// Builds a [`Kind`]: `$use` is a closure `|obj: *const $obj, cfg: &[u8]|` with one call.
macro_rules! kind {
    ($name:literal, $cfg:ty, $obj:ty, $new:path, $init:path, $size:path, $align:path, $free:path,
     [$($range:expr),*], $predict:expr, $use:expr) => {
        Kind {
            name: $name,
            config_size: size_of::<$cfg>(),
            config_align: align_of::<$cfg>(),
            invalid: &[$($range),*],
            predict: $predict,
            // SAFETY (all three): forwarded; the caller of these pointers upholds the contract of
            // the C function (a readable config of `size` bytes, writable outputs).
            new: |cfg, out| unsafe { $new(cfg.cast::<$cfg>(), out.cast::<*mut $obj>()) },
            init: |mem, size, cfg| unsafe { $init(mem, size, cfg.cast::<$cfg>()) },
            obj_size: || $size(),
            obj_align: || $align(),
            use_once: |obj, cfg| {
                let f: fn(*const $obj, &[u8]) = $use;
                f(obj.cast::<$obj>(), cfg)
            },
            free: |obj| unsafe { $free(obj.cast::<$obj>()) },
        }
    };
}

/// Reads a plain integer field at `off` (the bytes hold at least the known struct).
fn rd<T: Copy + Default>(bytes: &[u8], off: usize) -> T {
    assert!(off + size_of::<T>() <= bytes.len());
    // SAFETY: in bounds (checked); `T` is a plain integer here, valid for any bits; unaligned
    // read.
    unsafe { bytes.as_ptr().add(off).cast::<T>().read_unaligned() }
}

fn rd_bool(bytes: &[u8], off: usize) -> bool {
    bytes[off] != 0
}

fn breaker_rules(x: &[u8]) -> Vec<pcl_status> {
    type C = pcl_breaker_config;
    let c = C {
        size: rd(x, offset_of!(C, size)),
        window_kind: rd(x, offset_of!(C, window_kind)),
        window_size: rd(x, offset_of!(C, window_size)),
        window_duration_ns: rd(x, offset_of!(C, window_duration_ns)),
        window_buckets: rd(x, offset_of!(C, window_buckets)),
        consecutive_failures: rd(x, offset_of!(C, consecutive_failures)),
        failure_rate_ppm: rd(x, offset_of!(C, failure_rate_ppm)),
        slow_rate_ppm: rd(x, offset_of!(C, slow_rate_ppm)),
        min_calls: rd(x, offset_of!(C, min_calls)),
        slow_call_duration_ns: rd(x, offset_of!(C, slow_call_duration_ns)),
        open_duration_ns: rd(x, offset_of!(C, open_duration_ns)),
        max_open_duration_ns: rd(x, offset_of!(C, max_open_duration_ns)),
        jitter_ppm: rd(x, offset_of!(C, jitter_ppm)),
        seed: rd(x, offset_of!(C, seed)),
        half_open_probes: rd(x, offset_of!(C, half_open_probes)),
        successes_to_close: rd(x, offset_of!(C, successes_to_close)),
        half_open_by_rate: rd_bool(x, offset_of!(C, half_open_by_rate)),
        probe_timeout_ns: rd(x, offset_of!(C, probe_timeout_ns)),
        shadow: rd_bool(x, offset_of!(C, shadow)),
        count_rejections: rd_bool(x, offset_of!(C, count_rejections)),
    };
    crate::breaker_ops::config_errors(&c)
}

fn limiter_rules(x: &[u8]) -> Vec<pcl_status> {
    type C = pcl_limiter_config;
    let c = C {
        size: rd(x, offset_of!(C, size)),
        rate_per_second: rd(x, offset_of!(C, rate_per_second)),
        interval_ns: rd(x, offset_of!(C, interval_ns)),
        burst: rd(x, offset_of!(C, burst)),
        origin_ns: rd(x, offset_of!(C, origin_ns)),
        start: rd(x, offset_of!(C, start)),
        counting: rd_bool(x, offset_of!(C, counting)),
        shadow: rd_bool(x, offset_of!(C, shadow)),
    };
    crate::limiter_ops::config_errors(&c)
}

fn bulkhead_rules(x: &[u8]) -> Vec<pcl_status> {
    let limit: u32 = rd(x, offset_of!(pcl_bulkhead_config, limit));
    if limit > portcullis_ffi::bulkhead::PCL_BULKHEAD_MAX_LIMIT {
        vec![pcl_status::InvalidBulkheadLimit]
    } else {
        Vec::new()
    }
}

fn kinds() -> [Kind; 12] {
    [
        kind!(
            "count_window",
            pcl_count_window_config,
            pcl_count_window,
            pcl_count_window_new,
            pcl_count_window_init,
            pcl_count_window_size,
            pcl_count_window_align,
            pcl_count_window_free,
            [1000..=1002],
            None,
            |w, _| {
                let mut c = pcl_window_counts { calls: 1, failures: 1, slow: 1 };
                // SAFETY: `w` is live; `c` is writable.
                assert_eq!(unsafe { pcl_count_window_counts(w, &mut c) }, pcl_status::Ok);
                assert_eq!(c, pcl_window_counts::default(), "a new window is empty");
            }
        ),
        kind!(
            "time_window",
            pcl_time_window_config,
            pcl_time_window,
            pcl_time_window_new,
            pcl_time_window_init,
            pcl_time_window_size,
            pcl_time_window_align,
            pcl_time_window_free,
            [1000..=1002],
            None,
            |w, _| {
                let mut c = pcl_window_counts { calls: 1, failures: 1, slow: 1 };
                // SAFETY: `w` is live; `c` is writable.
                assert_eq!(unsafe { pcl_time_window_counts(w, 0, &mut c) }, pcl_status::Ok);
                assert_eq!(c, pcl_window_counts::default(), "a new window is empty");
            }
        ),
        kind!(
            "breaker",
            pcl_breaker_config,
            pcl_breaker,
            pcl_breaker_new,
            pcl_breaker_init,
            pcl_breaker_size,
            pcl_breaker_align,
            pcl_breaker_free,
            [1000..=1002, 1010..=1020],
            Some(breaker_rules),
            |b, _| {
                let mut p = pcl_breaker_permit::default();
                // SAFETY: `b` is live; `p` is writable; no retry-after wanted.
                let st = unsafe { pcl_breaker_try_acquire(b, 0, &mut p, core::ptr::null_mut()) };
                assert_eq!(st, pcl_status::Ok, "a new breaker is closed and admits");
                assert_eq!(p.kind, PCL_BREAKER_PERMIT_TRACKED);
            }
        ),
        kind!(
            "limiter",
            pcl_limiter_config,
            pcl_limiter,
            pcl_limiter_new,
            pcl_limiter_init,
            pcl_limiter_size,
            pcl_limiter_align,
            pcl_limiter_free,
            [1050..=1053],
            Some(limiter_rules),
            |l, x| {
                type C = pcl_limiter_config;
                let (rate, interval, burst) = (
                    rd::<u64>(x, offset_of!(C, rate_per_second)),
                    rd::<u64>(x, offset_of!(C, interval_ns)),
                    rd::<u64>(x, offset_of!(C, burst)),
                );
                let (t, b) = crate::limiter_ops::quota(rate, interval, burst).expect("accepted");
                let mut s = pcl_limiter_stats::default();
                // SAFETY: `l` is live; `s` is writable.
                assert_eq!(unsafe { pcl_limiter_snapshot(l, 0, &mut s) }, pcl_status::Ok);
                assert_eq!((s.interval_ns, s.burst), (t, b), "the quota configured");
                assert!(s.available <= b);
            }
        ),
        kind!(
            "bulkhead",
            pcl_bulkhead_config,
            pcl_bulkhead,
            pcl_bulkhead_new,
            pcl_bulkhead_init,
            pcl_bulkhead_size,
            pcl_bulkhead_align,
            pcl_bulkhead_free,
            [1070..=1070],
            Some(bulkhead_rules),
            |h, x| {
                let limit: u32 = rd(x, offset_of!(pcl_bulkhead_config, limit));
                let mut s = pcl_bulkhead_stats::default();
                // SAFETY: `h` is live; `s` is writable.
                assert_eq!(unsafe { pcl_bulkhead_snapshot(h, &mut s) }, pcl_status::Ok);
                assert_eq!((s.limit, s.in_flight, s.available), (limit, 0, limit));
                assert_eq!(s.shadow, rd_bool(x, offset_of!(pcl_bulkhead_config, shadow)));
            }
        ),
        kind!(
            "aimd",
            pcl_aimd_config,
            pcl_aimd,
            pcl_aimd_new,
            pcl_aimd_init,
            pcl_aimd_size,
            pcl_aimd_align,
            pcl_aimd_free,
            [1090..=1100],
            None,
            |a, _| {
                let mut l = 0u32;
                // SAFETY: `a` is live; `l` is writable.
                assert_eq!(unsafe { pcl_aimd_limit(a, &mut l) }, pcl_status::Ok);
                assert!(l >= 1, "a limit of at least the floor");
            }
        ),
        kind!(
            "gradient",
            pcl_gradient_config,
            pcl_gradient,
            pcl_gradient_new,
            pcl_gradient_init,
            pcl_gradient_size,
            pcl_gradient_align,
            pcl_gradient_free,
            [1090..=1100],
            None,
            |g, _| {
                let mut l = 0u32;
                // SAFETY: `g` is live; `l` is writable.
                assert_eq!(unsafe { pcl_gradient_limit(g, &mut l) }, pcl_status::Ok);
                assert!(l >= 1, "a limit of at least the floor");
            }
        ),
        kind!(
            "health",
            pcl_health_config,
            pcl_health,
            pcl_health_new,
            pcl_health_init,
            pcl_health_size,
            pcl_health_align,
            pcl_health_free,
            [1170..=1173],
            None,
            |h, x| {
                let mut s = u32::MAX;
                // SAFETY: `h` is live; `s` is writable.
                assert_eq!(unsafe { pcl_health_state(h, &mut s) }, pcl_status::Ok);
                let initial: u32 = rd(x, offset_of!(pcl_health_config, initial_state));
                assert_eq!(s, initial, "a new machine is in its initial state");
            }
        ),
        kind!(
            "hedge",
            pcl_hedge_config,
            pcl_hedge_policy,
            pcl_hedge_policy_new,
            pcl_hedge_policy_init,
            pcl_hedge_policy_size,
            pcl_hedge_policy_align,
            pcl_hedge_policy_free,
            [1150..=1158],
            None,
            |p, _| {
                // SAFETY: `p` is live.
                assert_eq!(unsafe { pcl_hedge_policy_on_call(p) }, pcl_status::Ok);
            }
        ),
        kind!(
            "retry",
            pcl_retry_config,
            pcl_retry_policy,
            pcl_retry_policy_new,
            pcl_retry_policy_init,
            pcl_retry_policy_size,
            pcl_retry_policy_align,
            pcl_retry_policy_free,
            [1110..=1118],
            None,
            |p, _| {
                let mut s = pcl_retry_state::default();
                // SAFETY: `p` is live; `s` is writable.
                let st = unsafe { pcl_retry_state_init(p, 0, u64::MAX, 7, &mut s) };
                assert_eq!(st, pcl_status::Ok);
            }
        ),
        kind!(
            "retry_throttle",
            pcl_retry_throttle_config,
            pcl_retry_throttle,
            pcl_retry_throttle_new,
            pcl_retry_throttle_init,
            pcl_retry_throttle_size,
            pcl_retry_throttle_align,
            pcl_retry_throttle_free,
            [1130..=1131],
            None,
            |t, _| {
                let mut m = u64::MAX;
                // SAFETY: `t` is live; `m` is writable.
                let st = unsafe { pcl_retry_throttle_check(t, &mut m) };
                assert_eq!(st, pcl_status::Ok, "a new throttle is full and allows retries ({m})");
            }
        ),
        kind!(
            "retry_ratio_budget",
            pcl_retry_ratio_budget_config,
            pcl_retry_ratio_budget,
            pcl_retry_ratio_budget_new,
            pcl_retry_ratio_budget_init,
            pcl_retry_ratio_budget_size,
            pcl_retry_ratio_budget_align,
            pcl_retry_ratio_budget_free,
            [1135..=1137],
            None,
            |r, _| {
                let mut n = u64::MAX;
                // SAFETY: `r` is live; `n` is writable.
                assert_eq!(unsafe { pcl_retry_ratio_budget_balance(r, 0, &mut n) }, pcl_status::Ok);
            }
        ),
    ]
}

/// Whether `st` is one of the statuses a constructor of `k` documents.
fn documented(k: &Kind, st: pcl_status, init: bool) -> bool {
    match st {
        pcl_status::Ok
        | pcl_status::NullArgument
        | pcl_status::VersionMismatch
        | pcl_status::Misaligned => true,
        pcl_status::OutOfMemory => !init,
        pcl_status::BufferTooSmall => init,
        st => k.invalid.iter().any(|r| r.contains(&(st as u32))),
    }
}

/// Caller memory for `_init`: `size` bytes at `offset` from an `align`-aligned block, filled
/// with a marker.
struct Mem {
    ptr: *mut u8,
    layout: Layout,
    offset: usize,
}

impl Mem {
    fn new(size: usize, align: usize, offset: usize) -> Mem {
        let layout = Layout::from_size_align(size + offset + 1, align).expect("layout");
        // SAFETY: non-zero size.
        let ptr = unsafe { std::alloc::alloc(layout) };
        assert!(!ptr.is_null());
        // SAFETY: `ptr` is writable for `layout.size()` bytes.
        unsafe { ptr.write_bytes(0xA5, layout.size()) };
        Mem { ptr, layout, offset }
    }

    fn at(&self) -> *mut c_void {
        self.ptr.wrapping_add(self.offset).cast()
    }

    fn untouched(&self) -> bool {
        // SAFETY: allocated and initialised for `layout.size()` bytes.
        unsafe { core::slice::from_raw_parts(self.ptr, self.layout.size()) }
            .iter()
            .all(|&x| x == 0xA5)
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; objects placed here hold no resources.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) };
    }
}

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let sel = b.u8();
    let flags = b.u8();
    let kinds = kinds();
    let k = &kinds[usize::from(sel) % kinds.len()];
    // The declared size: usually around the real struct (below, equal, above), sometimes
    // anywhere up to past the limit.
    let size = match flags & 3 {
        0 => k.config_size,
        1 => (k.config_size + usize::from(b.u8() % 24)).saturating_sub(12),
        2 => k.config_size + usize::from(b.u8() % 16),
        _ => usize::from(b.u16() % 4200),
    };
    let cfg_offset = if flags & 0x04 != 0 { usize::from(b.u8() % 7) + 1 } else { 0 };
    // Caller memory: the object's size, less or more now and then, at an offset that is
    // sometimes misaligned.
    let full = (k.obj_size)();
    let mem_size = match (flags >> 3) & 3 {
        0 | 1 => full,
        2 => full.saturating_sub(usize::from(b.u8()) + 1),
        _ => full + usize::from(b.u8()),
    };
    let mem_offset = if flags & 0x20 != 0 { usize::from(b.u8()) % (k.obj_align)() } else { 0 };
    let null_config = flags & 0xC0 == 0xC0 && sel & 0x80 != 0;
    // The config buffer: exactly `max(size, 8)` bytes at `cfg_offset` of a 16-aligned block,
    // filled from the input (zeros past it), with the `size` field set to `size`.
    let len = size.max(8);
    let mut buf = vec![0u8; len + cfg_offset].into_boxed_slice();
    let body = b.take(len);
    buf[cfg_offset..cfg_offset + body.len()].copy_from_slice(body);
    if flags & 0x40 != 0 && size > k.config_size {
        // Zero the tail now and then: a newer caller's struct with nothing set past ours.
        buf[cfg_offset + k.config_size..cfg_offset + size].fill(0);
    }
    buf[cfg_offset..cfg_offset + 8].copy_from_slice(&size.to_ne_bytes());
    let cfg: *const u8 =
        if null_config { core::ptr::null() } else { buf.as_ptr().wrapping_add(cfg_offset) };
    let bytes = &buf[cfg_offset..];
    let misaligned = !(cfg as usize).is_multiple_of(k.config_align);
    let readable = size >= k.config_size && size <= MAX_CONFIG_SIZE;
    let tail_zero = bytes.get(k.config_size..size).is_none_or(|t| t.iter().all(|&x| x == 0));
    let name = k.name;

    let mut obj: *mut c_void = core::ptr::null_mut();
    // SAFETY: `cfg` is NULL or readable for `size` bytes (exactly the buffer); `obj` is writable.
    let st_new = unsafe { (k.new)(cfg, &mut obj) };
    let mem = Mem::new(mem_size, (k.obj_align)(), mem_offset);
    // SAFETY: `mem` is writable for `mem_size` bytes; `cfg` as above.
    let st_init = unsafe { (k.init)(mem.at(), mem_size, cfg) };
    assert!(documented(k, st_new, false), "{name}_new: undocumented {st_new:?}");
    assert!(documented(k, st_init, true), "{name}_init: undocumented {st_init:?}");
    let verdict = if null_config {
        Err(vec![pcl_status::NullArgument])
    } else if misaligned {
        Err(vec![pcl_status::Misaligned])
    } else if !readable || !tail_zero {
        Err(vec![pcl_status::VersionMismatch])
    } else {
        match k.predict {
            Some(rules) => {
                let broken = rules(bytes);
                if broken.is_empty() { Ok(()) } else { Err(broken) }
            }
            None => {
                // Not predicted: OK or one of the object's own config statuses.
                let own = k.invalid.iter().any(|r| r.contains(&(st_new as u32)));
                assert!(
                    st_new == pcl_status::Ok || own,
                    "{name}_new: {st_new:?} for a readable config"
                );
                if st_new == pcl_status::Ok { Ok(()) } else { Err(vec![st_new]) }
            }
        }
    };
    match &verdict {
        Ok(()) => assert_eq!(st_new, pcl_status::Ok, "{name}_new: a valid config refused"),
        Err(e) => assert!(e.contains(&st_new), "{name}_new: {st_new:?}, expected one of {e:?}"),
    }
    if st_new == pcl_status::Ok {
        assert!(!obj.is_null());
        // SAFETY: a live object of this kind; `bytes` is its readable config.
        unsafe { (k.use_once)(obj, bytes) };
        let want = if mem_size < full {
            pcl_status::BufferTooSmall
        } else if !(mem.at() as usize).is_multiple_of((k.obj_align)()) {
            pcl_status::Misaligned
        } else {
            pcl_status::Ok
        };
        assert_eq!(
            st_init, want,
            "{name}_init disagrees with _new (memory {mem_size} at +{mem_offset})"
        );
        if st_init == pcl_status::Ok {
            // SAFETY: initialised in `mem`, live until `mem` is dropped.
            unsafe { (k.use_once)(mem.at(), bytes) };
        }
    } else {
        assert!(obj.is_null(), "{name}_new: no object on error");
        assert_eq!(st_init, st_new, "{name}: _init and _new refuse the same config alike");
    }
    if st_init != pcl_status::Ok {
        assert!(mem.untouched(), "{name}_init: a refused init wrote caller memory");
    }
    // SAFETY: NULL or from `_new`, freed once.
    unsafe { (k.free)(obj) };
    drop(mem);
    // NULL outputs are reported, never written.
    if !null_config && flags & 0x80 != 0 {
        // SAFETY: NULL output and NULL memory are allowed by the contract.
        unsafe {
            assert_eq!(
                (k.new)(cfg, core::ptr::null_mut()),
                pcl_status::NullArgument,
                "{name}_new(NULL out)"
            );
            let st = (k.init)(core::ptr::null_mut(), full, cfg);
            assert!(
                st == pcl_status::NullArgument || (st == st_new && st != pcl_status::Ok),
                "{name}_init(NULL memory): {st:?}"
            );
        }
    }
}
