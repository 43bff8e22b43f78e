//! Latency histograms and hedging policies for C. Semantics: `docs/semantics/hedging.md`.
//!
//! `pcl_histogram` is a fixed-size log-linear latency histogram (one `fetch_add` per record,
//! percentiles within `PCL_HISTOGRAM_RELATIVE_ERROR_PPM`). `pcl_hedge_policy` decides when to
//! send a hedge (a duplicate request) from live percentiles, bounded per call and by a budget.
//!
//! Thread-safety: every function on a live object may be called from any number of threads at
//! once (lock-free); `_init`, `_new` and `_free` must not race with other calls on the same
//! object.

use core::ffi::c_void;

use portcullis::deadline::Deadline;
use portcullis::hedge::{HedgeConfig, HedgeDecision, HedgePolicy, NoHedge};
use portcullis::histogram::Histogram;
use portcullis::{ConfigError, Nanos};

use crate::boundary::{
    Config, boundary, free_boxed, init_object, new_boxed, new_object, place, with, write_out,
};
use crate::clock::pcl_now_ns;
use crate::status::pcl_status;

/// `sizeof` a `pcl_histogram`, for static or shared-memory placement.
pub const PCL_HISTOGRAM_SIZE: usize = 9224;
/// Required alignment of a `pcl_histogram`.
pub const PCL_HISTOGRAM_ALIGN: usize = 8;
/// The largest relative error of a percentile, in ppm (1.5625 %).
pub const PCL_HISTOGRAM_RELATIVE_ERROR_PPM: u32 = 15_625;
/// `sizeof` a `pcl_hedge_policy`.
pub const PCL_HEDGE_POLICY_SIZE: usize = 19_456;
/// Required alignment of a `pcl_hedge_policy`.
pub const PCL_HEDGE_POLICY_ALIGN: usize = 128;
/// The largest `max_hedges`.
pub const PCL_HEDGE_MAX_HEDGES: u32 = 16;
/// `deadline_ns` meaning "no deadline".
pub const PCL_NO_DEADLINE: u64 = u64::MAX;

/// A latency histogram (opaque to C).
#[derive(Debug)]
pub struct pcl_histogram(Histogram);

/// A hedging policy (opaque to C).
#[derive(Debug)]
pub struct pcl_hedge_policy(HedgePolicy);

const _: () = assert!(size_of::<pcl_histogram>() == PCL_HISTOGRAM_SIZE);
const _: () = assert!(align_of::<pcl_histogram>() == PCL_HISTOGRAM_ALIGN);
const _: () = assert!(PCL_HISTOGRAM_RELATIVE_ERROR_PPM == Histogram::<32, 36>::RELATIVE_ERROR_PPM);
const _: () = assert!(size_of::<pcl_hedge_policy>() == PCL_HEDGE_POLICY_SIZE);
const _: () = assert!(align_of::<pcl_hedge_policy>() == PCL_HEDGE_POLICY_ALIGN);
const _: () = assert!(PCL_HEDGE_MAX_HEDGES == portcullis::hedge::MAX_HEDGES);

/// Configuration of a `pcl_hedge_policy`. Start from `pcl_hedge_config_default()`.
///
/// The live delay is `p_low + weight · (p_high − p_low)` of the recorded latencies, clamped to
/// `min_delay_ns..=max_delay_ns`; `static_delay_ns` until `min_samples` latencies are live.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_hedge_config {
    /// `sizeof(pcl_hedge_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// The delay until `min_samples` latencies are live. Default 50 ms.
    pub static_delay_ns: u64,
    /// The smallest live delay. Default 1 ms.
    pub min_delay_ns: u64,
    /// The largest live delay, `>= min_delay_ns`. Default 1 s.
    pub max_delay_ns: u64,
    /// Live latencies needed before the percentiles are trusted. Default 100.
    pub min_samples: u64,
    /// The lower percentile in ppm, `0..=1000000`. Default 500000 (p50).
    pub low_ppm: u32,
    /// The upper percentile in ppm, `low_ppm..=1000000`. Default 950000 (p95).
    pub high_ppm: u32,
    /// How far from the lower to the upper percentile, in ppm. Default 100000.
    pub weight_ppm: u32,
    /// The most hedges per call, `1..=PCL_HEDGE_MAX_HEDGES`. Default 1.
    pub max_hedges: u32,
    /// Extra requests allowed per call, in ppm, `0..=1000000`. Default 20000 (2 %).
    pub budget_ratio_ppm: u32,
    /// Hedges the budget starts with and can save up, `1..=1000000`. Default 10.
    pub budget_burst: u32,
    /// How often the cached delay is recomputed; non-zero. Default 100 ms.
    pub refresh_interval_ns: u64,
    /// The period of each of the two histogram banks; non-zero. Default 10 s.
    pub window_ns: u64,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_hedge_config {
    const MIN_SIZE: usize = size_of::<pcl_hedge_config>();
    fn defaults() -> Self {
        let d = HedgeConfig::DEFAULT;
        pcl_hedge_config {
            size: size_of::<Self>(),
            static_delay_ns: d.static_delay.as_u64(),
            min_delay_ns: d.min_delay.as_u64(),
            max_delay_ns: d.max_delay.as_u64(),
            min_samples: d.min_samples,
            low_ppm: d.low_ppm,
            high_ppm: d.high_ppm,
            weight_ppm: d.weight_ppm,
            max_hedges: d.max_hedges,
            budget_ratio_ppm: d.budget_ratio_ppm,
            budget_burst: d.budget_burst,
            refresh_interval_ns: d.refresh_interval.as_u64(),
            window_ns: d.window.as_u64(),
        }
    }
}

fn config_status(e: ConfigError) -> pcl_status {
    match e.field() {
        "low_ppm" => pcl_status::InvalidHedgeLowPpm,
        "high_ppm" => pcl_status::InvalidHedgeHighPpm,
        "weight_ppm" => pcl_status::InvalidHedgeWeightPpm,
        "max_delay" => pcl_status::InvalidHedgeMaxDelay,
        "max_hedges" => pcl_status::InvalidHedgeMaxHedges,
        "refresh_interval" => pcl_status::InvalidHedgeRefreshInterval,
        "window" => pcl_status::InvalidHedgeWindow,
        "budget_ratio_ppm" => pcl_status::InvalidHedgeBudgetRatio,
        "budget_burst" => pcl_status::InvalidHedgeBudgetBurst,
        _ => pcl_status::InvalidArgument,
    }
}

fn build(cfg: &pcl_hedge_config) -> Result<pcl_hedge_policy, pcl_status> {
    let config = HedgeConfig {
        static_delay: Nanos::new(cfg.static_delay_ns),
        min_delay: Nanos::new(cfg.min_delay_ns),
        max_delay: Nanos::new(cfg.max_delay_ns),
        min_samples: cfg.min_samples,
        low_ppm: cfg.low_ppm,
        high_ppm: cfg.high_ppm,
        weight_ppm: cfg.weight_ppm,
        max_hedges: cfg.max_hedges,
        budget_ratio_ppm: cfg.budget_ratio_ppm,
        budget_burst: cfg.budget_burst,
        refresh_interval: Nanos::new(cfg.refresh_interval_ns),
        window: Nanos::new(cfg.window_ns),
    };
    HedgePolicy::new(config).map(pcl_hedge_policy).map_err(config_status)
}

const fn no_hedge_status(n: NoHedge) -> pcl_status {
    match n {
        NoHedge::MaxHedges => pcl_status::HedgeMaxHedges,
        NoHedge::BudgetExhausted => pcl_status::HedgeBudgetExhausted,
        // `NoHedge` is non-exhaustive: a future reason reads as the deadline one until it has
        // its own status.
        _ => pcl_status::HedgeDeadlineTooClose,
    }
}

/// `sizeof` a `pcl_histogram` (equals `PCL_HISTOGRAM_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_histogram_size() -> usize {
    size_of::<pcl_histogram>()
}

/// Required alignment of a `pcl_histogram` (equals `PCL_HISTOGRAM_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_histogram_align() -> usize {
    align_of::<pcl_histogram>()
}

/// Initialises an empty histogram in caller memory (see `pcl_count_window_init` for the rules
/// on `mem`). A histogram has no configuration.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_histogram_init(mem: *mut c_void, size: usize) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    boundary(|| unsafe { place(mem, size, pcl_histogram(Histogram::new())) })
}

/// Creates an empty histogram on the heap; free it with `pcl_histogram_free`.
///
/// # Safety
///
/// `histogram_out` must be NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_histogram_new(histogram_out: *mut *mut pcl_histogram) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    boundary(|| unsafe { new_boxed(histogram_out, pcl_histogram(Histogram::new())) })
}

/// Frees a histogram made by `pcl_histogram_new`. NULL is a no-op.
///
/// # Safety
///
/// `histogram` must be NULL or a pointer from `pcl_histogram_new`, not yet freed, with no call
/// on it running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_histogram_free(histogram: *mut pcl_histogram) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(histogram) }
}

/// Records one latency. One `fetch_add`; wait-free.
///
/// # Safety
///
/// `histogram` must be NULL or a live histogram.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_histogram_record(
    histogram: *const pcl_histogram,
    latency_ns: u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(histogram, |h| {
            h.0.record(Nanos::new(latency_ns));
            pcl_status::Ok
        })
    }
}

/// The `ppm`-th percentile (`990000` is p99; above `1000000` reads as the maximum) into
/// `*value_ns_out`, nearest rank, within `PCL_HISTOGRAM_RELATIVE_ERROR_PPM`. Returns
/// `PCL_STATUS_EMPTY` when nothing was recorded. Wait-free.
///
/// # Safety
///
/// `histogram` must be NULL or a live histogram; `value_ns_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_histogram_percentile(
    histogram: *const pcl_histogram,
    ppm: u32,
    value_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(histogram, |h| match h.0.percentile(ppm) {
            Some(v) => write_out(value_ns_out, v.as_u64()),
            None => pcl_status::Empty,
        })
    }
}

/// The number of latencies recorded into `*count_out`.
///
/// # Safety
///
/// `histogram` must be NULL or a live histogram; `count_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_histogram_count(
    histogram: *const pcl_histogram,
    count_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(histogram, |h| write_out(count_out, h.0.count())) }
}

/// Empties the histogram (not atomic with concurrent records: a record racing with it may
/// survive).
///
/// # Safety
///
/// `histogram` must be NULL or a live histogram.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_histogram_reset(histogram: *const pcl_histogram) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(histogram, |h| {
            h.0.reset();
            pcl_status::Ok
        })
    }
}

/// The default hedging configuration (`size` set).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_hedge_config_default() -> pcl_hedge_config {
    pcl_hedge_config::defaults()
}

/// `sizeof` a `pcl_hedge_policy` (equals `PCL_HEDGE_POLICY_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_hedge_policy_size() -> usize {
    size_of::<pcl_hedge_policy>()
}

/// Required alignment of a `pcl_hedge_policy` (equals `PCL_HEDGE_POLICY_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_hedge_policy_align() -> usize {
    align_of::<pcl_hedge_policy>()
}

/// Initialises a hedging policy in caller memory (see `pcl_count_window_init` for the rules on
/// `mem`); config errors are `PCL_STATUS_INVALID_HEDGE_*`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_hedge_policy_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_hedge_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build) }
}

/// Creates a hedging policy on the heap; free it with `pcl_hedge_policy_free`.
///
/// # Safety
///
/// `config` as for `pcl_hedge_policy_init`; `policy_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_hedge_policy_new(
    config: *const pcl_hedge_config,
    policy_out: *mut *mut pcl_hedge_policy,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, policy_out, build) }
}

/// Frees a policy made by `pcl_hedge_policy_new`. NULL is a no-op.
///
/// # Safety
///
/// `policy` must be NULL or a pointer from `pcl_hedge_policy_new`, not yet freed, with no call
/// on it running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_hedge_policy_free(policy: *mut pcl_hedge_policy) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(policy) }
}

/// Counts one call in the hedge budget. Call once per call, before its first hedge.
///
/// # Safety
///
/// `policy` must be NULL or a live policy.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_hedge_policy_on_call(policy: *const pcl_hedge_policy) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(policy, |p| {
            p.0.on_call();
            pcl_status::Ok
        })
    }
}

/// Records the latency of a request that answered, observed at `now_ns`.
///
/// # Safety
///
/// `policy` must be NULL or a live policy.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_hedge_policy_record_latency(
    policy: *const pcl_hedge_policy,
    latency_ns: u64,
    now_ns: u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(policy, |p| {
            p.0.record_latency(Nanos::new(latency_ns), Nanos::new(now_ns));
            pcl_status::Ok
        })
    }
}

/// `pcl_hedge_policy_record_latency` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_hedge_policy_record_latency`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_hedge_policy_record_latency_now(
    policy: *const pcl_hedge_policy,
    latency_ns: u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_hedge_policy_record_latency(policy, latency_ns, pcl_now_ns()) }
}

/// What to do about the next hedge of a call that has sent `hedges_sent` hedges, at `now_ns`,
/// for a call whose deadline is `deadline_ns` (`PCL_NO_DEADLINE` for none).
///
/// Returns `PCL_STATUS_OK` (send a hedge if no answer has arrived after `*delay_ns_out`, then
/// confirm it with `pcl_hedge_policy_try_launch`), `PCL_STATUS_HEDGE_MAX_HEDGES`,
/// `PCL_STATUS_HEDGE_BUDGET_EXHAUSTED`, `PCL_STATUS_HEDGE_DEADLINE_TOO_CLOSE` (the hedge would
/// leave at or after the deadline) or `PCL_STATUS_NULL_ARGUMENT`. Wait-free.
///
/// # Safety
///
/// `policy` must be NULL or a live policy; `delay_ns_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_hedge_policy_decide(
    policy: *const pcl_hedge_policy,
    hedges_sent: u32,
    now_ns: u64,
    deadline_ns: u64,
    delay_ns_out: *mut u64,
) -> pcl_status {
    if delay_ns_out.is_null() {
        return pcl_status::NullArgument;
    }
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(policy, |p| {
            let deadline = Deadline::at(Nanos::new(deadline_ns));
            match p.0.decide_before(hedges_sent, Nanos::new(now_ns), deadline) {
                HedgeDecision::HedgeAfter(d) => write_out(delay_ns_out, d.as_u64()),
                HedgeDecision::NoHedge(n) => no_hedge_status(n),
            }
        })
    }
}

/// `pcl_hedge_policy_decide` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_hedge_policy_decide`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_hedge_policy_decide_now(
    policy: *const pcl_hedge_policy,
    hedges_sent: u32,
    deadline_ns: u64,
    delay_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_hedge_policy_decide(policy, hedges_sent, pcl_now_ns(), deadline_ns, delay_ns_out) }
}

/// Confirms hedge number `hedges_sent + 1` when its delay has elapsed, withdrawing one hedge
/// from the budget: `PCL_STATUS_OK` (send it), `PCL_STATUS_HEDGE_MAX_HEDGES` or
/// `PCL_STATUS_HEDGE_BUDGET_EXHAUSTED` (nothing withdrawn).
///
/// # Safety
///
/// `policy` must be NULL or a live policy.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_hedge_policy_try_launch(
    policy: *const pcl_hedge_policy,
    hedges_sent: u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(policy, |p| match p.0.try_launch(hedges_sent) {
            Ok(()) => pcl_status::Ok,
            Err(n) => no_hedge_status(n),
        })
    }
}
