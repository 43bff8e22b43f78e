//! Adaptive concurrency limits for C: `pcl_aimd` (additive increase, multiplicative decrease per
//! round) and `pcl_gradient` (a windowed gradient limiter with a probed minimum RTT), each able to
//! feed a `pcl_bulkhead`. Semantics: `docs/semantics/adaptive.md`.
//!
//! Thread-safety: every function on a live limit may be called from any number of threads at
//! once (lock-free); `_init`, `_new` and `_free` must not race with other calls on the same
//! object.

use core::ffi::c_void;

use portcullis::adaptive::{
    AdaptiveLimit, Aimd, AimdConfig, Gradient, GradientConfig, Sample, feed,
};
use portcullis::{ConfigError, Nanos};

use crate::boundary::{Config, free_boxed, init_object, new_object, with, write_opt, write_out};
use crate::bulkhead::pcl_bulkhead;
use crate::status::pcl_status;

/// The largest `ceiling` of an adaptive limit.
pub const PCL_ADAPTIVE_MAX_CEILING: u32 = 65_535;
/// `sizeof` a `pcl_aimd`.
pub const PCL_AIMD_SIZE: usize = 40;
/// Required alignment of a `pcl_aimd`.
pub const PCL_AIMD_ALIGN: usize = 8;
/// `sizeof` a `pcl_gradient`.
pub const PCL_GRADIENT_SIZE: usize = 48;
/// Required alignment of a `pcl_gradient`.
pub const PCL_GRADIENT_ALIGN: usize = 8;

/// An AIMD concurrency limit (opaque to C).
#[derive(Debug)]
pub struct pcl_aimd(Aimd);

/// A gradient concurrency limit (opaque to C).
#[derive(Debug)]
pub struct pcl_gradient(Gradient);

const _: () = assert!(size_of::<pcl_aimd>() == PCL_AIMD_SIZE);
const _: () = assert!(align_of::<pcl_aimd>() == PCL_AIMD_ALIGN);
const _: () = assert!(size_of::<pcl_gradient>() == PCL_GRADIENT_SIZE);
const _: () = assert!(align_of::<pcl_gradient>() == PCL_GRADIENT_ALIGN);
const _: () = assert!(PCL_ADAPTIVE_MAX_CEILING == portcullis::adaptive::MAX_CEILING);

/// Configuration of a `pcl_aimd`. Start from `pcl_aimd_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_aimd_config {
    /// `sizeof(pcl_aimd_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// The limit before any sample, `floor..=ceiling`. Default 10.
    pub initial: u32,
    /// The lowest limit, at least 1. Default 1.
    pub floor: u32,
    /// The highest limit, at most `PCL_ADAPTIVE_MAX_CEILING`. Default 200.
    pub ceiling: u32,
    /// What one round of fast samples adds, `1..=ceiling`. Default 1.
    pub increase: u32,
    /// A decrease multiplies by `backoff_permille / 1000`, `500..=999`. Default 900.
    pub backoff_permille: u32,
    /// A sample slower than this (strictly) is an overload, like a drop; non-zero. Default 100 ms.
    pub latency_threshold_ns: u64,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_aimd_config {
    const MIN_SIZE: usize = size_of::<pcl_aimd_config>();
    fn defaults() -> Self {
        let d = AimdConfig::new(Nanos::from_millis(100));
        pcl_aimd_config {
            size: size_of::<Self>(),
            initial: d.initial,
            floor: d.floor,
            ceiling: d.ceiling,
            increase: d.increase,
            backoff_permille: d.backoff_permille,
            latency_threshold_ns: d.latency_threshold.as_u64(),
        }
    }
}

/// Configuration of a `pcl_gradient`. Start from `pcl_gradient_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_gradient_config {
    /// `sizeof(pcl_gradient_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// The limit before any sample, `floor..=ceiling`. Default 20.
    pub initial: u32,
    /// The lowest limit, at least 1. Default 3.
    pub floor: u32,
    /// The highest limit, at most `PCL_ADAPTIVE_MAX_CEILING`. Default 200.
    pub ceiling: u32,
    /// Headroom added to the gradient's limit, `0..=ceiling`. Default 4.
    pub queue_size: u32,
    /// Weight of a new estimate, in thousandths, `1..=1000`. Default 200.
    pub smoothing_permille: u32,
    /// RTT ratio tolerated before the limit falls, in thousandths, `1000..=10000`. Default 1250.
    pub tolerance_permille: u32,
    /// Samples between re-measurements of the minimum RTT (0: never). Default 10000.
    pub probe_interval: u32,
    /// Samples a re-measurement lasts, at least 1. Default 20.
    pub probe_samples: u32,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_gradient_config {
    const MIN_SIZE: usize = size_of::<pcl_gradient_config>();
    fn defaults() -> Self {
        let d = GradientConfig::DEFAULT;
        pcl_gradient_config {
            size: size_of::<Self>(),
            initial: d.initial,
            floor: d.floor,
            ceiling: d.ceiling,
            queue_size: d.queue_size,
            smoothing_permille: d.smoothing_permille,
            tolerance_permille: d.tolerance_permille,
            probe_interval: d.probe_interval,
            probe_samples: d.probe_samples,
        }
    }
}

/// The `pcl_status` for a rejected adaptive config: one per field.
fn config_status(e: ConfigError) -> pcl_status {
    match e.field() {
        "initial" => pcl_status::InvalidAdaptiveInitial,
        "floor" => pcl_status::InvalidAdaptiveFloor,
        "ceiling" => pcl_status::InvalidAdaptiveCeiling,
        "latency_threshold" => pcl_status::InvalidAdaptiveLatencyThreshold,
        "increase" => pcl_status::InvalidAdaptiveIncrease,
        "backoff_permille" => pcl_status::InvalidAdaptiveBackoff,
        "queue_size" => pcl_status::InvalidAdaptiveQueueSize,
        "smoothing_permille" => pcl_status::InvalidAdaptiveSmoothing,
        "tolerance_permille" => pcl_status::InvalidAdaptiveTolerance,
        "probe_interval" => pcl_status::InvalidAdaptiveProbeInterval,
        "probe_samples" => pcl_status::InvalidAdaptiveProbeSamples,
        _ => pcl_status::InvalidArgument,
    }
}

fn build_aimd(cfg: &pcl_aimd_config) -> Result<pcl_aimd, pcl_status> {
    let config = AimdConfig {
        initial: cfg.initial,
        floor: cfg.floor,
        ceiling: cfg.ceiling,
        latency_threshold: Nanos::new(cfg.latency_threshold_ns),
        increase: cfg.increase,
        backoff_permille: cfg.backoff_permille,
    };
    Aimd::new(config).map(pcl_aimd).map_err(config_status)
}

fn build_gradient(cfg: &pcl_gradient_config) -> Result<pcl_gradient, pcl_status> {
    let config = GradientConfig {
        initial: cfg.initial,
        floor: cfg.floor,
        ceiling: cfg.ceiling,
        queue_size: cfg.queue_size,
        smoothing_permille: cfg.smoothing_permille,
        tolerance_permille: cfg.tolerance_permille,
        probe_interval: cfg.probe_interval,
        probe_samples: cfg.probe_samples,
    };
    Gradient::new(config).map(pcl_gradient).map_err(config_status)
}

const fn sample(rtt_ns: u64, in_flight: u32, dropped: bool) -> Sample {
    Sample { rtt: Nanos::new(rtt_ns), in_flight, dropped }
}

/// Records a sample into `limit`; writes whether it changed the limit to `*changed_out`.
///
/// # Safety
///
/// `changed_out` must be NULL or valid for one write.
unsafe fn record_into(limit: &dyn AdaptiveLimit, s: Sample, changed_out: *mut bool) -> pcl_status {
    let changed = limit.record(s).is_some();
    // SAFETY: forwarded caller guarantee.
    unsafe { write_opt(changed_out, changed) };
    pcl_status::Ok
}

/// Records a sample into `limit` and resizes `bulkhead` to the new limit if it changed; writes
/// the limit now to `*limit_out`.
///
/// # Safety
///
/// `bulkhead` must be NULL or a live bulkhead; `limit_out` NULL or valid for one write.
unsafe fn feed_into(
    limit: &dyn AdaptiveLimit,
    bulkhead: *const pcl_bulkhead,
    s: Sample,
    limit_out: *mut u32,
) -> pcl_status {
    // SAFETY: NULL handled; otherwise the caller guarantees a live bulkhead.
    let Some(b) = (unsafe { bulkhead.as_ref() }) else {
        return pcl_status::NullArgument;
    };
    let _ = feed(limit, &b.0, s);
    // SAFETY: forwarded caller guarantee.
    unsafe { write_opt(limit_out, limit.limit()) };
    pcl_status::Ok
}

/// The default AIMD configuration (`size` set; initial 10, floor 1, ceiling 200, +1 per round,
/// ×0.9 on overload, 100 ms latency threshold).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_aimd_config_default() -> pcl_aimd_config {
    pcl_aimd_config::defaults()
}

/// `sizeof` a `pcl_aimd` (equals `PCL_AIMD_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_aimd_size() -> usize {
    size_of::<pcl_aimd>()
}

/// Required alignment of a `pcl_aimd` (equals `PCL_AIMD_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_aimd_align() -> usize {
    align_of::<pcl_aimd>()
}

/// Initialises an AIMD limit in caller memory; config errors are `PCL_STATUS_INVALID_ADAPTIVE_*`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_aimd_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_aimd_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build_aimd) }
}

/// Creates an AIMD limit on the heap; free it with `pcl_aimd_free`.
///
/// # Safety
///
/// `config` as for `pcl_aimd_init`; `aimd_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_aimd_new(
    config: *const pcl_aimd_config,
    aimd_out: *mut *mut pcl_aimd,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, aimd_out, build_aimd) }
}

/// Frees a limit made by `pcl_aimd_new`. NULL is a no-op.
///
/// # Safety
///
/// `aimd` must be NULL or a pointer from `pcl_aimd_new`, not yet freed, with no call on it
/// running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_aimd_free(aimd: *mut pcl_aimd) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(aimd) }
}

/// Learns from one call: its round-trip time, the calls in flight when it was admitted (itself
/// included), and whether it was dropped (rejected downstream, timed out). Whether the sample
/// changed the limit goes to `*changed_out` (may be NULL). Lock-free.
///
/// # Safety
///
/// `aimd` must be NULL or a live limit; `changed_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_aimd_record(
    aimd: *const pcl_aimd,
    rtt_ns: u64,
    in_flight: u32,
    dropped: bool,
    changed_out: *mut bool,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(aimd, |a| record_into(&a.0, sample(rtt_ns, in_flight, dropped), changed_out)) }
}

/// As `pcl_aimd_record`, then resizes `bulkhead` to the limit if the sample changed it (a
/// concurrent feeder never leaves a stale limit behind); the limit now goes to `*limit_out`
/// (may be NULL).
///
/// # Safety
///
/// `aimd` must be NULL or a live limit; `bulkhead` NULL or a live bulkhead; `limit_out` NULL or
/// valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_aimd_feed(
    aimd: *const pcl_aimd,
    bulkhead: *const pcl_bulkhead,
    rtt_ns: u64,
    in_flight: u32,
    dropped: bool,
    limit_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(aimd, |a| feed_into(&a.0, bulkhead, sample(rtt_ns, in_flight, dropped), limit_out))
    }
}

/// The limit now into `*limit_out`.
///
/// # Safety
///
/// `aimd` must be NULL or a live limit; `limit_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_aimd_limit(aimd: *const pcl_aimd, limit_out: *mut u32) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(aimd, |a| write_out(limit_out, a.0.limit())) }
}

/// The default gradient configuration (`size` set).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_gradient_config_default() -> pcl_gradient_config {
    pcl_gradient_config::defaults()
}

/// `sizeof` a `pcl_gradient` (equals `PCL_GRADIENT_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_gradient_size() -> usize {
    size_of::<pcl_gradient>()
}

/// Required alignment of a `pcl_gradient` (equals `PCL_GRADIENT_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_gradient_align() -> usize {
    align_of::<pcl_gradient>()
}

/// Initialises a gradient limit in caller memory; config errors are
/// `PCL_STATUS_INVALID_ADAPTIVE_*`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_gradient_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_gradient_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build_gradient) }
}

/// Creates a gradient limit on the heap; free it with `pcl_gradient_free`.
///
/// # Safety
///
/// `config` as for `pcl_gradient_init`; `gradient_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_gradient_new(
    config: *const pcl_gradient_config,
    gradient_out: *mut *mut pcl_gradient,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, gradient_out, build_gradient) }
}

/// Frees a limit made by `pcl_gradient_new`. NULL is a no-op.
///
/// # Safety
///
/// `gradient` must be NULL or a pointer from `pcl_gradient_new`, not yet freed, with no call on
/// it running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_gradient_free(gradient: *mut pcl_gradient) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(gradient) }
}

/// Learns from one call (as `pcl_aimd_record`). Lock-free.
///
/// # Safety
///
/// `gradient` must be NULL or a live limit; `changed_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_gradient_record(
    gradient: *const pcl_gradient,
    rtt_ns: u64,
    in_flight: u32,
    dropped: bool,
    changed_out: *mut bool,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(gradient, |g| record_into(&g.0, sample(rtt_ns, in_flight, dropped), changed_out))
    }
}

/// As `pcl_gradient_record`, then resizes `bulkhead` (as `pcl_aimd_feed`).
///
/// # Safety
///
/// `gradient` must be NULL or a live limit; `bulkhead` NULL or a live bulkhead; `limit_out` NULL
/// or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_gradient_feed(
    gradient: *const pcl_gradient,
    bulkhead: *const pcl_bulkhead,
    rtt_ns: u64,
    in_flight: u32,
    dropped: bool,
    limit_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(gradient, |g| feed_into(&g.0, bulkhead, sample(rtt_ns, in_flight, dropped), limit_out))
    }
}

/// The limit now into `*limit_out` (the floor while the minimum RTT is re-measured).
///
/// # Safety
///
/// `gradient` must be NULL or a live limit; `limit_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_gradient_limit(
    gradient: *const pcl_gradient,
    limit_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(gradient, |g| write_out(limit_out, g.0.limit())) }
}
