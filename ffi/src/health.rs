//! Health state machines for C: healthy / degraded / unhealthy / critical with hysteresis.
//! Semantics: `docs/semantics/health.md`.
//!
//! Thread-safety: every function on a live machine may be called from any number of threads at
//! once; `_init`, `_new` and `_free` must not race with other calls on the same object.

use core::ffi::c_void;

use portcullis::health::{CheckDue, HealthConfig, HealthMachine, HealthState};
use portcullis::{ConfigError, Nanos};

use crate::boundary::{Config, free_boxed, init_object, new_object, with, write_out};
use crate::clock::pcl_now_ns;
use crate::status::pcl_status;

/// Passing.
pub const PCL_HEALTH_HEALTHY: u32 = 0;
/// Failing a little: still serving.
pub const PCL_HEALTH_DEGRADED: u32 = 1;
/// Failing: should not receive traffic.
pub const PCL_HEALTH_UNHEALTHY: u32 = 2;
/// Failing for long: needs intervention.
pub const PCL_HEALTH_CRITICAL: u32 = 3;

/// `sizeof` a `pcl_health`, for static or shared-memory placement.
pub const PCL_HEALTH_SIZE: usize = 80;
/// Required alignment of a `pcl_health`.
pub const PCL_HEALTH_ALIGN: usize = 8;

/// A health state machine (opaque to C).
#[derive(Debug)]
pub struct pcl_health(HealthMachine);

const _: () = assert!(size_of::<pcl_health>() == PCL_HEALTH_SIZE);
const _: () = assert!(align_of::<pcl_health>() == PCL_HEALTH_ALIGN);

/// Configuration of a `pcl_health`. Start from `pcl_health_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_health_config {
    /// `sizeof(pcl_health_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// Consecutive failures that leave Healthy, Degraded, Unhealthy (one state worse). Default
    /// `{3, 3, 5}`.
    pub degrade_after: [u32; 3],
    /// Consecutive successes that leave Degraded, Unhealthy, Critical (one state better); each
    /// must be larger than the matching `degrade_after` (hysteresis). Default `{5, 5, 10}`.
    pub recover_after: [u32; 3],
    /// When the next check is due in Healthy, Degraded, Unhealthy, Critical, in nanoseconds.
    /// Default `{10 s, 5 s, 2 s, 1 s}`.
    pub check_interval_ns: [u64; 4],
    /// The state before any result (`PCL_HEALTH_*`). Default `PCL_HEALTH_HEALTHY`.
    pub initial_state: u32,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_health_config {
    const MIN_SIZE: usize = size_of::<pcl_health_config>();
    fn defaults() -> Self {
        let d = HealthConfig::DEFAULT;
        pcl_health_config {
            size: size_of::<Self>(),
            degrade_after: d.degrade_after,
            recover_after: d.recover_after,
            check_interval_ns: d.check_interval.map(Nanos::as_u64),
            initial_state: d.initial as u32,
        }
    }
}

/// The effect of one result: the state before and after (`PCL_HEALTH_*`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct pcl_health_transition {
    /// The state before the result.
    pub from: u32,
    /// The state after it.
    pub to: u32,
}

fn state(n: u32) -> Option<HealthState> {
    HealthState::ALL.into_iter().find(|s| *s as u32 == n)
}

fn config_status(e: ConfigError) -> pcl_status {
    let field = e.field();
    if field.starts_with("degrade_after") {
        pcl_status::InvalidHealthDegradeAfter
    } else if field.starts_with("recover_after") {
        pcl_status::InvalidHealthRecoverAfter
    } else {
        pcl_status::InvalidHealthCheckInterval
    }
}

fn build(cfg: &pcl_health_config) -> Result<pcl_health, pcl_status> {
    let initial = state(cfg.initial_state).ok_or(pcl_status::InvalidHealthInitialState)?;
    let config = HealthConfig {
        degrade_after: cfg.degrade_after,
        recover_after: cfg.recover_after,
        check_interval: cfg.check_interval_ns.map(Nanos::new),
        initial,
    };
    HealthMachine::new(config).map(pcl_health).map_err(config_status)
}

/// The default health configuration (`size` set).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_health_config_default() -> pcl_health_config {
    pcl_health_config::defaults()
}

/// `sizeof` a `pcl_health` (equals `PCL_HEALTH_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_health_size() -> usize {
    size_of::<pcl_health>()
}

/// Required alignment of a `pcl_health` (equals `PCL_HEALTH_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_health_align() -> usize {
    align_of::<pcl_health>()
}

/// Initialises a health machine in caller memory (see `pcl_count_window_init` for the rules on
/// `mem`); config errors are `PCL_STATUS_INVALID_HEALTH_*`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_health_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_health_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build) }
}

/// Creates a health machine on the heap; free it with `pcl_health_free`.
///
/// # Safety
///
/// `config` as for `pcl_health_init`; `health_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_health_new(
    config: *const pcl_health_config,
    health_out: *mut *mut pcl_health,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, health_out, build) }
}

/// Frees a machine made by `pcl_health_new`. NULL is a no-op.
///
/// # Safety
///
/// `health` must be NULL or a pointer from `pcl_health_new`, not yet freed, with no call on it
/// running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_health_free(health: *mut pcl_health) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(health) }
}

/// Records one check result (`success` true or false) observed at `now_ns`; the state before and
/// after go to `*transition_out` (which may be NULL if not wanted).
///
/// Returns `PCL_STATUS_OK` or `PCL_STATUS_NULL_ARGUMENT` (for `health`). Lock-free.
///
/// # Safety
///
/// `health` must be NULL or a live machine; `transition_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_health_record(
    health: *const pcl_health,
    success: bool,
    now_ns: u64,
    transition_out: *mut pcl_health_transition,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(health, |h| {
            let t = h.0.record(success, Nanos::new(now_ns));
            if !transition_out.is_null() {
                let out = pcl_health_transition { from: t.from as u32, to: t.to as u32 };
                // SAFETY: non-NULL; the caller guarantees one valid write.
                let _ = write_out(transition_out, out);
            }
            pcl_status::Ok
        })
    }
}

/// `pcl_health_record` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_health_record`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_health_record_now(
    health: *const pcl_health,
    success: bool,
    transition_out: *mut pcl_health_transition,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_health_record(health, success, pcl_now_ns(), transition_out) }
}

/// The current state (`PCL_HEALTH_*`) into `*state_out`.
///
/// # Safety
///
/// `health` must be NULL or a live machine; `state_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_health_state(
    health: *const pcl_health,
    state_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(health, |h| write_out(state_out, h.0.state() as u32)) }
}

/// How long until the next check is due at `now_ns`, into `*due_in_ns_out` (0: due now).
///
/// # Safety
///
/// `health` must be NULL or a live machine; `due_in_ns_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_health_next_check(
    health: *const pcl_health,
    now_ns: u64,
    due_in_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(health, |h| {
            let due = match h.0.next_check(Nanos::new(now_ns)) {
                CheckDue::Now => 0,
                CheckDue::In(d) => d.as_u64(),
            };
            write_out(due_in_ns_out, due)
        })
    }
}

/// Returns the machine to its initial state, with no streak and no result.
///
/// # Safety
///
/// `health` must be NULL or a live machine.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_health_reset(health: *const pcl_health) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(health, |h| {
            h.0.reset();
            pcl_status::Ok
        })
    }
}
