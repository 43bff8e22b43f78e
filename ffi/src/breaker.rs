//! Circuit breakers for C: one `pcl_breaker` deciding on a count window (the last
//! `window_size <= PCL_BREAKER_MAX_WINDOW_SIZE` calls) or a time window (`window_buckets <=
//! PCL_BREAKER_MAX_WINDOW_BUCKETS` buckets), chosen by the config. Semantics:
//! `docs/semantics/breaker.md`.
//!
//! A Rust permit borrows its breaker; C holds a plain `pcl_breaker_permit` instead (the
//! generation the call was admitted in and how), recorded with `pcl_breaker_record` or released
//! with `pcl_breaker_ignore` exactly once.
//!
//! Thread-safety: every function on a live breaker may be called from any number of threads at
//! once (lock-free); `_init`, `_new` and `_free` must not race with other calls on the same
//! object.

use core::ffi::c_void;

use portcullis::breaker::{
    Breaker, BreakerConfig, Counted, PermitToken, Recorded, RejectReason, Rejected, Snapshot,
    State, TokenKind, Transition, Weight,
};
use portcullis::window::{CountWindow, TimeWindow};
use portcullis::{Clock, ConfigError, Nanos};

use crate::boundary::{
    Config, boundary, free_boxed, init_object, new_object, normalize_bool, read_bool, read_slice,
    with, write_opt, write_out,
};
use crate::clock::{At, Monotonic, pcl_now_ns};
use crate::status::pcl_status;
use crate::window::outcome;

/// The state field of the word of `pcl_breaker_state_word` (`word & MASK`).
pub const PCL_BREAKER_WORD_STATE_MASK: u64 = 7;
/// The generation field of that word (`(word >> SHIFT) & MASK`).
pub const PCL_BREAKER_WORD_GENERATION_SHIFT: u32 = 3;
/// See `PCL_BREAKER_WORD_GENERATION_SHIFT`.
pub const PCL_BREAKER_WORD_GENERATION_MASK: u64 = 0x1fff;
const _: () = {
    use portcullis::breaker::{GENERATION_BITS, STATE_BITS};
    assert!(PCL_BREAKER_WORD_STATE_MASK == (1 << STATE_BITS) - 1);
    assert!(PCL_BREAKER_WORD_GENERATION_SHIFT == STATE_BITS);
    assert!(PCL_BREAKER_WORD_GENERATION_MASK == (1 << GENERATION_BITS) - 1);
    assert!(PCL_BREAKER_CLOSED == State::Closed as u32);
    assert!(PCL_BREAKER_METRICS_ONLY == State::MetricsOnly as u32);
};

/// The largest weight of `pcl_breaker_record_weighted`.
pub const PCL_BREAKER_MAX_WEIGHT: u32 = 64;
const _: () = assert!(PCL_BREAKER_MAX_WEIGHT == Weight::MAX);

/// Calls are admitted; outcomes are recorded and the trip rules checked.
pub const PCL_BREAKER_CLOSED: u32 = 0;
/// Calls are rejected until the open period ends.
pub const PCL_BREAKER_OPEN: u32 = 1;
/// A limited number of probe calls are admitted to test recovery.
pub const PCL_BREAKER_HALF_OPEN: u32 = 2;
/// Calls are rejected until an operator call releases the breaker.
pub const PCL_BREAKER_FORCED_OPEN: u32 = 3;
/// Calls are admitted and nothing is recorded.
pub const PCL_BREAKER_DISABLED: u32 = 4;
/// Calls are admitted and recorded, but the breaker never trips.
pub const PCL_BREAKER_METRICS_ONLY: u32 = 5;

/// The decision changed no state.
pub const PCL_BREAKER_TRANSITION_NONE: u32 = 0;
/// The breaker tripped (closed or half-open to open).
pub const PCL_BREAKER_TRANSITION_OPENED: u32 = 1;
/// The open period had ended: open to half-open.
pub const PCL_BREAKER_TRANSITION_HALF_OPENED: u32 = 2;
/// The probes passed: half-open to closed.
pub const PCL_BREAKER_TRANSITION_CLOSED: u32 = 3;

/// `window_kind`: decide on the last `window_size` calls.
pub const PCL_BREAKER_WINDOW_COUNT: u32 = 0;
/// `window_kind`: decide on the calls of the last `window_duration_ns`, in `window_buckets`.
pub const PCL_BREAKER_WINDOW_TIME: u32 = 1;

/// Permit kind: admitted closed or metrics-only; the outcome is recorded.
pub const PCL_BREAKER_PERMIT_TRACKED: u32 = 0;
/// Permit kind: a half-open probe; the outcome closes or reopens the breaker.
pub const PCL_BREAKER_PERMIT_PROBE: u32 = 1;
/// Permit kind: admitted while disabled; the outcome is not recorded.
pub const PCL_BREAKER_PERMIT_UNTRACKED: u32 = 2;
/// Permit kind: admitted by shadow mode against the decision; the outcome is not recorded.
pub const PCL_BREAKER_PERMIT_SHADOW: u32 = 3;

/// The largest `window_size` of a count-window breaker.
pub const PCL_BREAKER_MAX_WINDOW_SIZE: u32 = 1024;
/// The largest `window_buckets` of a time-window breaker.
pub const PCL_BREAKER_MAX_WINDOW_BUCKETS: u32 = 128;
/// The largest `half_open_probes`.
pub const PCL_BREAKER_MAX_PROBES: u32 = 4095;
/// A rate of `pcl_breaker_stats` when the window holds no call.
pub const PCL_BREAKER_NO_RATE: u32 = u32::MAX;
/// `open_remaining_ns` of `pcl_breaker_stats` when the breaker is not open.
pub const PCL_BREAKER_NOT_OPEN: u64 = u64::MAX;

/// `sizeof` a `pcl_breaker`, for static or shared-memory placement.
pub const PCL_BREAKER_SIZE: usize = 8960;
/// Required alignment of a `pcl_breaker`.
pub const PCL_BREAKER_ALIGN: usize = 128;

const COUNT: usize = PCL_BREAKER_MAX_WINDOW_SIZE as usize;
const BUCKETS: usize = PCL_BREAKER_MAX_WINDOW_BUCKETS as usize;

/// The two window kinds behind one C type.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "the object must hold no pointer (shared memory): no boxing; C sizes it for the larger"
)]
enum Inner {
    Count(Breaker<CountWindow<COUNT>>),
    Time(Breaker<TimeWindow<BUCKETS>>),
}

/// A circuit breaker (opaque to C).
#[derive(Debug)]
pub struct pcl_breaker(Inner);

const _: () = assert!(size_of::<pcl_breaker>() == PCL_BREAKER_SIZE);
const _: () = assert!(align_of::<pcl_breaker>() == PCL_BREAKER_ALIGN);
const _: () = assert!(PCL_BREAKER_MAX_PROBES == portcullis::breaker::MAX_PROBES);

/// Runs the same expression on whichever breaker `$b` holds.
macro_rules! on {
    ($b:expr, $x:ident => $e:expr) => {
        match &$b.0 {
            Inner::Count($x) => $e,
            Inner::Time($x) => $e,
        }
    };
}

/// Configuration of a `pcl_breaker`. Start from `pcl_breaker_config_default()`.
///
/// A rule whose field is 0 is off (`consecutive_failures`, `failure_rate_ppm`,
/// `slow_rate_ppm`, `slow_call_duration_ns`); every rule that is on can trip the breaker.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_breaker_config {
    /// `sizeof(pcl_breaker_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// `PCL_BREAKER_WINDOW_COUNT` or `PCL_BREAKER_WINDOW_TIME`. Default count.
    pub window_kind: u32,
    /// Count window: the calls it holds, `1..=PCL_BREAKER_MAX_WINDOW_SIZE`. Default 100.
    pub window_size: u32,
    /// Time window: the span it covers, a non-zero multiple of `window_buckets`. Default 10 s.
    pub window_duration_ns: u64,
    /// Time window: its buckets, `1..=PCL_BREAKER_MAX_WINDOW_BUCKETS`. Default 10.
    pub window_buckets: u32,
    /// Trip on this many consecutive failures; 0 is off. Default 5.
    pub consecutive_failures: u32,
    /// Trip when failures per million calls in the window reach this, `1..=1000000`; 0 is off.
    /// Default 0.
    pub failure_rate_ppm: u32,
    /// Trip when slow calls per million calls reach this, `1..=1000000`; 0 is off. Default 0.
    pub slow_rate_ppm: u32,
    /// Rates are judged once the window holds this many calls (at least 1 with a rate rule on;
    /// at most `window_size` for a count window). Default as the Rust default.
    pub min_calls: u32,
    /// A call longer than this is slow; 0 is off. Default 0.
    pub slow_call_duration_ns: u64,
    /// The first open period, non-zero. Default as the Rust default.
    pub open_duration_ns: u64,
    /// The longest open period (the period doubles per consecutive trip up to this);
    /// `>= open_duration_ns`.
    pub max_open_duration_ns: u64,
    /// Random spread of each open period, per million, `0..=1000000`.
    pub jitter_ppm: u32,
    /// Seed of the jitter.
    pub seed: u64,
    /// Probes admitted per half-open period, `1..=PCL_BREAKER_MAX_PROBES`.
    pub half_open_probes: u32,
    /// Successful probes that close the breaker, `1..=half_open_probes`.
    pub successes_to_close: u32,
    /// Judge the probes by the rates once all have reported (needs a rate rule).
    pub half_open_by_rate: bool,
    /// How long a half-open period waits for its probes before reopening; non-zero.
    pub probe_timeout_ns: u64,
    /// Shadow mode: decide and count, but always admit.
    pub shadow: bool,
    /// Count rejections in `pcl_breaker_stats.rejected` (one write per rejection).
    pub count_rejections: bool,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers and bools; every bool is read back
// with `read_bool`, never as a Rust bool.
unsafe impl Config for pcl_breaker_config {
    const MIN_SIZE: usize = size_of::<pcl_breaker_config>();
    unsafe fn sanitize(raw: *mut Self) {
        // SAFETY: `raw` points to a writable `Self` (trait contract); each field is one byte.
        unsafe {
            normalize_bool(&raw mut (*raw).half_open_by_rate);
            normalize_bool(&raw mut (*raw).shadow);
            normalize_bool(&raw mut (*raw).count_rejections);
        }
    }
    fn defaults() -> Self {
        let d = BreakerConfig::DEFAULT;
        pcl_breaker_config {
            size: size_of::<Self>(),
            window_kind: PCL_BREAKER_WINDOW_COUNT,
            window_size: 100,
            window_duration_ns: 10_000_000_000,
            window_buckets: 10,
            consecutive_failures: d.consecutive_failures.unwrap_or(0),
            failure_rate_ppm: d.failure_rate_ppm.unwrap_or(0),
            slow_rate_ppm: d.slow_rate_ppm.unwrap_or(0),
            min_calls: d.min_calls,
            slow_call_duration_ns: d.slow_call_duration.map_or(0, Nanos::as_u64),
            open_duration_ns: d.open_duration.as_u64(),
            max_open_duration_ns: d.max_open_duration.as_u64(),
            jitter_ppm: d.jitter_ppm,
            seed: d.seed,
            half_open_probes: d.half_open_probes,
            successes_to_close: d.successes_to_close,
            half_open_by_rate: d.half_open_by_rate,
            probe_timeout_ns: d.probe_timeout.as_u64(),
            shadow: d.shadow,
            count_rejections: d.count_rejections,
        }
    }
}

/// A call admitted by `pcl_breaker_try_acquire`, as plain data: record it with
/// `pcl_breaker_record` or release it with `pcl_breaker_ignore`, exactly once.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct pcl_breaker_permit {
    /// The generation the call was admitted in.
    pub generation: u32,
    /// How it was admitted (`PCL_BREAKER_PERMIT_*`).
    pub kind: u32,
    /// The state change the admission made (`PCL_BREAKER_TRANSITION_*`).
    pub transition: u32,
    /// Shadow permits: the refusal an enforcing breaker would have returned
    /// (`PCL_STATUS_REJECTED_*`); otherwise `PCL_STATUS_OK`.
    pub shadow_rejection: u32,
}

/// A breaker's state and counters at one moment (fields read one after another).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct pcl_breaker_stats {
    /// The stored state (`PCL_BREAKER_*`).
    pub state: u32,
    /// The current generation.
    pub generation: u32,
    /// Calls in the window.
    pub calls: u64,
    /// Failed calls in the window.
    pub failures: u64,
    /// Slow calls in the window.
    pub slow: u64,
    /// Failures per million calls, or `PCL_BREAKER_NO_RATE` when the window is empty.
    pub failure_rate_ppm: u32,
    /// Slow calls per million calls, or `PCL_BREAKER_NO_RATE` when the window is empty.
    pub slow_rate_ppm: u32,
    /// Failures since the last success.
    pub consecutive_failures: u64,
    /// Trips since the last recovery.
    pub consecutive_trips: u32,
    /// Probes admitted in the current half-open period.
    pub probes_admitted: u32,
    /// Probes that succeeded in the current half-open period.
    pub probe_successes: u32,
    /// Probes that failed in the current half-open period.
    pub probe_failures: u32,
    /// Transitions to open since construction or `pcl_breaker_reset`.
    pub times_tripped: u64,
    /// Rejections counted (only with `count_rejections`).
    pub rejected: u64,
    /// Time until the open period ends (0 once it has), or `PCL_BREAKER_NOT_OPEN`.
    pub open_remaining_ns: u64,
}

const fn state_code(s: State) -> u32 {
    s as u32
}

const fn transition_code(t: Transition) -> u32 {
    match t {
        Transition::None => PCL_BREAKER_TRANSITION_NONE,
        Transition::Opened => PCL_BREAKER_TRANSITION_OPENED,
        Transition::HalfOpened => PCL_BREAKER_TRANSITION_HALF_OPENED,
        Transition::Closed => PCL_BREAKER_TRANSITION_CLOSED,
    }
}

const fn reject_status(r: RejectReason) -> pcl_status {
    match r {
        RejectReason::Open => pcl_status::RejectedOpen,
        RejectReason::HalfOpenFull => pcl_status::RejectedHalfOpenFull,
        RejectReason::ForcedOpen => pcl_status::RejectedForcedOpen,
    }
}

const fn kind_code(k: TokenKind) -> u32 {
    match k {
        TokenKind::Tracked => PCL_BREAKER_PERMIT_TRACKED,
        TokenKind::Probe => PCL_BREAKER_PERMIT_PROBE,
        TokenKind::Untracked => PCL_BREAKER_PERMIT_UNTRACKED,
        TokenKind::Shadow => PCL_BREAKER_PERMIT_SHADOW,
    }
}

const fn kind_of(code: u32) -> Option<TokenKind> {
    match code {
        PCL_BREAKER_PERMIT_TRACKED => Some(TokenKind::Tracked),
        PCL_BREAKER_PERMIT_PROBE => Some(TokenKind::Probe),
        PCL_BREAKER_PERMIT_UNTRACKED => Some(TokenKind::Untracked),
        PCL_BREAKER_PERMIT_SHADOW => Some(TokenKind::Shadow),
        _ => None,
    }
}

/// The `pcl_status` for a rejected breaker config: one per field.
fn config_status(e: ConfigError) -> pcl_status {
    match e.field() {
        "window_size" => pcl_status::InvalidWindowSize,
        "window_buckets" => pcl_status::InvalidWindowBuckets,
        "window_duration" => pcl_status::InvalidWindowDuration,
        "failure_rate_ppm" => pcl_status::InvalidBreakerFailureRate,
        "slow_rate_ppm" => pcl_status::InvalidBreakerSlowRate,
        "min_calls" => pcl_status::InvalidBreakerMinCalls,
        "open_duration" => pcl_status::InvalidBreakerOpenDuration,
        "max_open_duration" => pcl_status::InvalidBreakerMaxOpenDuration,
        "jitter_ppm" => pcl_status::InvalidBreakerJitter,
        "half_open_probes" => pcl_status::InvalidBreakerHalfOpenProbes,
        "successes_to_close" => pcl_status::InvalidBreakerSuccessesToClose,
        "half_open_by_rate" => pcl_status::InvalidBreakerHalfOpenByRate,
        "probe_timeout" => pcl_status::InvalidBreakerProbeTimeout,
        // `consecutive_failures` and `slow_call_duration` cannot be invalid from C (0 is off);
        // an unknown field would be a new core rule without a status yet.
        _ => pcl_status::InvalidArgument,
    }
}

const fn some_nonzero<T: Copy>(v: T, zero: bool) -> Option<T> {
    if zero { None } else { Some(v) }
}

fn build(cfg: &pcl_breaker_config) -> Result<pcl_breaker, pcl_status> {
    // SAFETY: each is a field of a local config, readable as a byte.
    let (by_rate, shadow, count_rejections) = unsafe {
        (
            read_bool(&raw const cfg.half_open_by_rate),
            read_bool(&raw const cfg.shadow),
            read_bool(&raw const cfg.count_rejections),
        )
    };
    let config = BreakerConfig {
        consecutive_failures: some_nonzero(cfg.consecutive_failures, cfg.consecutive_failures == 0),
        failure_rate_ppm: some_nonzero(cfg.failure_rate_ppm, cfg.failure_rate_ppm == 0),
        slow_rate_ppm: some_nonzero(cfg.slow_rate_ppm, cfg.slow_rate_ppm == 0),
        min_calls: cfg.min_calls,
        slow_call_duration: some_nonzero(
            Nanos::new(cfg.slow_call_duration_ns),
            cfg.slow_call_duration_ns == 0,
        ),
        open_duration: Nanos::new(cfg.open_duration_ns),
        max_open_duration: Nanos::new(cfg.max_open_duration_ns),
        jitter_ppm: cfg.jitter_ppm,
        seed: cfg.seed,
        half_open_probes: cfg.half_open_probes,
        successes_to_close: cfg.successes_to_close,
        half_open_by_rate: by_rate,
        probe_timeout: Nanos::new(cfg.probe_timeout_ns),
        shadow,
        count_rejections,
    };
    let inner = match cfg.window_kind {
        PCL_BREAKER_WINDOW_COUNT => {
            Breaker::with_window_size(config, cfg.window_size as usize).map(Inner::Count)
        }
        PCL_BREAKER_WINDOW_TIME => Breaker::with_buckets(
            config,
            Nanos::new(cfg.window_duration_ns),
            cfg.window_buckets as usize,
        )
        .map(Inner::Time),
        _ => return Err(pcl_status::InvalidBreakerWindowKind),
    };
    inner.map(pcl_breaker).map_err(config_status)
}

fn stats(s: &Snapshot) -> pcl_breaker_stats {
    pcl_breaker_stats {
        state: state_code(s.state),
        generation: s.generation,
        calls: s.counts.calls,
        failures: s.counts.failures,
        slow: s.counts.slow,
        failure_rate_ppm: s.failure_rate_ppm.unwrap_or(PCL_BREAKER_NO_RATE),
        slow_rate_ppm: s.slow_rate_ppm.unwrap_or(PCL_BREAKER_NO_RATE),
        consecutive_failures: s.consecutive_failures,
        consecutive_trips: s.consecutive_trips,
        probes_admitted: s.probes_admitted,
        probe_successes: s.probe_successes,
        probe_failures: s.probe_failures,
        times_tripped: s.times_tripped,
        rejected: s.rejected,
        open_remaining_ns: s.open_remaining.map_or(PCL_BREAKER_NOT_OPEN, Nanos::as_u64),
    }
}

/// The plain permit for an admission (`token`), with the admission's transition and shadow
/// rejection.
fn permit(
    token: PermitToken,
    transition: Transition,
    shadow: Option<Rejected>,
) -> pcl_breaker_permit {
    pcl_breaker_permit {
        generation: token.generation(),
        kind: kind_code(token.kind()),
        transition: transition_code(transition),
        shadow_rejection: shadow.map_or(pcl_status::Ok, |r| reject_status(r.reason())) as u32,
    }
}

/// The default breaker configuration (`size` set; count window of 100, trips on 5 consecutive
/// failures).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_breaker_config_default() -> pcl_breaker_config {
    pcl_breaker_config::defaults()
}

/// `sizeof` a `pcl_breaker` (equals `PCL_BREAKER_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_breaker_size() -> usize {
    size_of::<pcl_breaker>()
}

/// Required alignment of a `pcl_breaker` (equals `PCL_BREAKER_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_breaker_align() -> usize {
    align_of::<pcl_breaker>()
}

/// Initialises a breaker in caller memory (see `pcl_count_window_init` for the rules on `mem`).
/// Config errors: `PCL_STATUS_INVALID_BREAKER_*` per field, `PCL_STATUS_INVALID_WINDOW_*` for
/// the window fields.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_breaker_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build) }
}

/// Creates a breaker on the heap; free it with `pcl_breaker_free`.
///
/// # Safety
///
/// `config` as for `pcl_breaker_init`; `breaker_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_new(
    config: *const pcl_breaker_config,
    breaker_out: *mut *mut pcl_breaker,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, breaker_out, build) }
}

/// Frees a breaker made by `pcl_breaker_new`. NULL is a no-op.
///
/// # Safety
///
/// `breaker` must be NULL or a pointer from `pcl_breaker_new`, not yet freed, with no call on it
/// running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_breaker_free(breaker: *mut pcl_breaker) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(breaker) }
}

/// Asks to make a call at `now_ns`. On `PCL_STATUS_OK` the call is admitted and
/// `*permit_out` describes it: record its outcome with `pcl_breaker_record` or release it with
/// `pcl_breaker_ignore`, exactly once (a half-open probe's place is held until then).
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_REJECTED_OPEN` (with the time until the open period ends
/// in `*retry_after_ns_out`; the end is rounded up to a tick of 2^20 ns, see
/// `docs/semantics/breaker.md`), `PCL_STATUS_REJECTED_HALF_OPEN_FULL`,
/// `PCL_STATUS_REJECTED_FORCED_OPEN` (`*retry_after_ns_out` not written: no known end) or
/// `PCL_STATUS_NULL_ARGUMENT` (`breaker` or `permit_out`; checked before deciding, so no probe is
/// lost). In shadow mode refusals are admitted with `kind == PCL_BREAKER_PERMIT_SHADOW`. Lock-free;
/// closed, one load.
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `permit_out` NULL or valid for one write;
/// `retry_after_ns_out` NULL (not wanted) or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_try_acquire(
    breaker: *const pcl_breaker,
    now_ns: u64,
    permit_out: *mut pcl_breaker_permit,
    retry_after_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { acquire(breaker, &At(now_ns), permit_out, retry_after_ns_out) }
}

/// The closed-state admission, decided before anything else: one load of the state word, the
/// permit written, and no unwinding frame, because nothing on this path can panic (a load, a
/// bit test and a write; proven, see `crate::boundary`). `None` when the breaker is not closed
/// or metrics-only, or an argument is NULL: the caller takes the general path, which reports
/// NULLs.
///
/// # Safety
///
/// As `pcl_breaker_try_acquire`.
#[inline]
#[cfg_attr(all(feature = "no-panic-check", not(debug_assertions)), no_panic::no_panic)]
unsafe fn admit_closed(
    breaker: *const pcl_breaker,
    permit_out: *mut pcl_breaker_permit,
) -> Option<pcl_status> {
    if permit_out.is_null() {
        return None;
    }
    // SAFETY: NULL is handled by `as_ref`; otherwise the caller guarantees a live breaker.
    let b = unsafe { breaker.as_ref() }?;
    let token = on!(b, x => x.admit_tracked())?;
    // SAFETY: non-NULL; the caller guarantees one valid write of a permit.
    unsafe { write_permit(permit_out, permit(token, Transition::None, None)) };
    Some(pcl_status::Ok)
}

/// Writes `p` to `out` as one 16-byte store where the target has one (SSE2 on x86-64).
///
/// A caller that copies the permit next (a C struct assignment, the C++ wrapper) loads it as one
/// 16-byte word, which the processor forwards from a store of the same size but not from the
/// narrower stores that a field-by-field write (or a `u128` write, which LLVM splits in two)
/// makes: that load would wait for those stores to reach the cache, about 5 ns here.
///
/// # Safety
///
/// `out` valid for one write of a permit (any alignment).
#[inline]
unsafe fn write_permit(out: *mut pcl_breaker_permit, p: pcl_breaker_permit) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{__m128i, _mm_storeu_si128};
        #[allow(
            clippy::cast_ptr_alignment,
            reason = "_mm_storeu_si128 is the unaligned store: it takes any alignment"
        )]
        let out = out.cast::<__m128i>();
        // SAFETY: a permit is four `u32` (16 bytes, no padding), as is `__m128i`; SSE2 is part
        // of the x86-64 baseline; `_mm_storeu_si128` takes any alignment, and `out` is valid for
        // 16 bytes of writes (the caller's guarantee).
        unsafe { _mm_storeu_si128(out, core::mem::transmute::<pcl_breaker_permit, __m128i>(p)) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: the caller's guarantee.
    unsafe {
        out.write_unaligned(p);
    }
}

/// The body of both admissions: the closed state first ([`admit_closed`]), then every state
/// inside the unwinding boundary.
///
/// # Safety
///
/// As `pcl_breaker_try_acquire`.
unsafe fn acquire(
    breaker: *const pcl_breaker,
    clock: &impl Clock,
    permit_out: *mut pcl_breaker_permit,
    retry_after_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    if let Some(status) = unsafe { admit_closed(breaker, permit_out) } {
        return status;
    }
    if permit_out.is_null() {
        return pcl_status::NullArgument;
    }
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(breaker, |b| {
            let decision = on!(b, x => x.try_acquire_clocked(clock).map(|p| {
                let (t, s) = (p.transition(), p.shadow_rejection());
                permit(p.into_token(), t, s)
            }));
            match decision {
                Ok(p) => {
                    // Non-NULL (checked above); the caller guarantees one valid write.
                    write_permit(permit_out, p);
                    pcl_status::Ok
                }
                Err(r) => {
                    if let Some(after) = r.retry_after() {
                        write_opt(retry_after_ns_out, after.as_u64());
                    }
                    reject_status(r.reason())
                }
            }
        })
    }
}

/// `pcl_breaker_try_acquire` at `pcl_now_ns()`, read only when the decision needs the time: a
/// closed, metrics-only, disabled or forced-open breaker decides without reading the clock.
///
/// # Safety
///
/// As `pcl_breaker_try_acquire`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_try_acquire_now(
    breaker: *const pcl_breaker,
    permit_out: *mut pcl_breaker_permit,
    retry_after_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { acquire(breaker, &Monotonic, permit_out, retry_after_ns_out) }
}

/// Records the outcome (`PCL_OUTCOME_*`) of the call `permit` stands for, observed at `now_ns`;
/// the state change it caused goes to `*transition_out` (may be NULL).
///
/// Returns `PCL_STATUS_OK` when the outcome counted, `PCL_STATUS_NOT_COUNTED` when it did not (the
/// breaker has moved to another generation since the admission, or the permit is untracked or
/// shadow), `PCL_STATUS_INVALID_ARGUMENT` for an unknown outcome or permit kind (nothing
/// recorded), `PCL_STATUS_NULL_ARGUMENT`. Lock-free.
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `permit` NULL or a readable permit;
/// `transition_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_record(
    breaker: *const pcl_breaker,
    permit: *const pcl_breaker_permit,
    outcome_code: u32,
    now_ns: u64,
    transition_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_breaker_record_weighted(breaker, permit, outcome_code, 1, now_ns, transition_out) }
}

/// `pcl_breaker_record` with a weight, `1..=PCL_BREAKER_MAX_WEIGHT`: a tracked outcome of weight
/// `w` counts as `w` calls (it enters the window `w` times, and a failure adds `w` to the
/// consecutive-failure count), so that some errors weigh more than others. A half-open probe is
/// one probe whatever its weight. A weight of 0 or above the maximum returns
/// `PCL_STATUS_INVALID_ARGUMENT` with nothing recorded.
///
/// # Safety
///
/// As `pcl_breaker_record`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_record_weighted(
    breaker: *const pcl_breaker,
    permit: *const pcl_breaker_permit,
    outcome_code: u32,
    weight: u32,
    now_ns: u64,
    transition_out: *mut u32,
) -> pcl_status {
    // SAFETY: NULL is handled; otherwise the caller guarantees a readable permit.
    let Some(p) = (unsafe { permit.as_ref() }).copied() else {
        return pcl_status::NullArgument;
    };
    // SAFETY: NULL is handled by `as_ref`; otherwise the caller guarantees a live breaker.
    let Some(live) = (unsafe { breaker.as_ref() }) else {
        return pcl_status::NullArgument;
    };
    // Validated before the boundary (plain matches, nothing that can panic), so that the closure
    // takes its few values by copy.
    let (Some(o), Some(kind), Some(w)) =
        (outcome(outcome_code), kind_of(p.kind), Weight::new(weight))
    else {
        return pcl_status::InvalidArgument;
    };
    let (token, now) = (PermitToken::from_parts(p.generation, kind), Nanos::new(now_ns));
    // The record up to its transition before the boundary, whose frame would otherwise be
    // stored just before the window's read-modify-writes; a transition (a trip, a probe's
    // decision) inside it.
    let counted = on!(live, x => count(x, token, o, w, now));
    match counted.recorded() {
        // SAFETY: forwarded caller guarantee on `transition_out`.
        Some(r) => unsafe { recorded(r, transition_out) },
        None => boundary(move || {
            let r = on!(live, x => x.settle(counted, now));
            // SAFETY: forwarded caller guarantee on `transition_out`.
            unsafe { recorded(r, transition_out) }
        }),
    }
}

/// Reports what a record did: the transition to `transition_out`, and the status.
///
/// # Safety
///
/// `transition_out` NULL or valid for one write.
unsafe fn recorded(r: Recorded, transition_out: *mut u32) -> pcl_status {
    // SAFETY: forwarded caller guarantee.
    unsafe { write_opt(transition_out, transition_code(r.transition)) };
    if r.counted { pcl_status::Ok } else { pcl_status::NotCounted }
}

/// [`Breaker::count_token`], run outside the unwinding boundary: proven not to panic (see
/// `crate::boundary`).
#[cfg_attr(all(feature = "no-panic-check", not(debug_assertions)), no_panic::no_panic)]
fn count<W: portcullis::window::Window>(
    b: &Breaker<W>,
    token: PermitToken,
    o: portcullis::window::Outcome,
    w: Weight,
    now: Nanos,
) -> Counted<'_> {
    b.count_token(token, o, w, now)
}

/// `pcl_breaker_record` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_breaker_record`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_record_now(
    breaker: *const pcl_breaker,
    permit: *const pcl_breaker_permit,
    outcome_code: u32,
    transition_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_breaker_record(breaker, permit, outcome_code, pcl_now_ns(), transition_out) }
}

/// Records the outcomes of `n` admitted calls in one call: `outcomes[i]` (`PCL_OUTCOME_*`) for
/// `permits[i]`, in order, all observed at `now_ns`, as `n` calls of `pcl_breaker_record` would.
/// The number that counted goes to `*counted_out`, the last state change any of them caused to
/// `*transition_out` (`PCL_BREAKER_TRANSITION_NONE` if none); both may be NULL. For callers
/// whose per-call cost (cgo) would exceed the record itself.
///
/// Every outcome code and permit kind is checked first: one unknown returns
/// `PCL_STATUS_INVALID_ARGUMENT` with nothing recorded. Also `PCL_STATUS_NULL_ARGUMENT`
/// (`breaker`, or `permits` / `outcomes` with `n > 0`) and `PCL_STATUS_INVALID_ARGUMENT` for a
/// misaligned array or an impossible `n`; `n == 0` records nothing and returns `PCL_STATUS_OK`.
/// Each record follows the generation rule of `pcl_breaker_record`: once the batch trips the
/// breaker, the rest of its permits (admitted in the old generation) no longer count. Lock-free.
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `permits` and `outcomes` NULL or valid for reads of
/// `n` elements; `counted_out` and `transition_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_record_batch(
    breaker: *const pcl_breaker,
    permits: *const pcl_breaker_permit,
    outcomes: *const u32,
    n: usize,
    now_ns: u64,
    counted_out: *mut usize,
    transition_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(breaker, |b| {
            let (permits, codes) = match (read_slice(permits, n), read_slice(outcomes, n)) {
                (Ok(p), Ok(c)) => (p, c),
                (Err(s), _) | (_, Err(s)) => return s,
            };
            let valid = |(p, &c): (&pcl_breaker_permit, &u32)| {
                Some((PermitToken::from_parts(p.generation, kind_of(p.kind)?), outcome(c)?))
            };
            if permits.iter().zip(codes).any(|pc| valid(pc).is_none()) {
                return pcl_status::InvalidArgument;
            }
            let now = Nanos::new(now_ns);
            let (mut counted, mut transition) = (0usize, Transition::None);
            for (token, o) in permits.iter().zip(codes).filter_map(valid) {
                let r = on!(b, x => x.record_token(token, o, now));
                counted += usize::from(r.counted);
                if r.transition != Transition::None {
                    transition = r.transition;
                }
            }
            write_opt(counted_out, counted);
            write_opt(transition_out, transition_code(transition));
            pcl_status::Ok
        })
    }
}

/// Releases the call `permit` stands for without an outcome: a probe's place is freed (if its
/// half-open period is still the current one), nothing is counted.
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_INVALID_ARGUMENT` (unknown permit kind) or
/// `PCL_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `permit` NULL or a readable permit.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_ignore(
    breaker: *const pcl_breaker,
    permit: *const pcl_breaker_permit,
) -> pcl_status {
    // SAFETY: NULL is handled; otherwise the caller guarantees a readable permit.
    let Some(p) = (unsafe { permit.as_ref() }).copied() else {
        return pcl_status::NullArgument;
    };
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(breaker, |b| {
            let Some(kind) = kind_of(p.kind) else {
                return pcl_status::InvalidArgument;
            };
            on!(b, x => x.ignore_token(PermitToken::from_parts(p.generation, kind)));
            pcl_status::Ok
        })
    }
}

/// The address of the breaker's packed state word (NULL for a NULL `breaker`), for callers that
/// decide the common admission inline with one atomic load of their own, without a call (the Go
/// package does, to avoid a cgo call): load the word with acquire ordering
/// (`__atomic_load_n(word, __ATOMIC_ACQUIRE)`); if `word & PCL_BREAKER_WORD_STATE_MASK` is
/// `PCL_BREAKER_CLOSED` or `PCL_BREAKER_METRICS_ONLY`, the call is admitted exactly as
/// `pcl_breaker_try_acquire` would admit it: a permit of kind `PCL_BREAKER_PERMIT_TRACKED`,
/// generation `(word >> PCL_BREAKER_WORD_GENERATION_SHIFT) & PCL_BREAKER_WORD_GENERATION_MASK`,
/// transition `PCL_BREAKER_TRANSITION_NONE`, shadow rejection `PCL_STATUS_OK`. In every other
/// state, call `pcl_breaker_try_acquire`. Never write through the pointer. The layout is part of
/// this version of the ABI (as the object sizes are).
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; the pointer is valid while the breaker lives.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_breaker_state_word(breaker: *const pcl_breaker) -> *const u64 {
    // SAFETY: NULL is handled by `as_ref`; otherwise the caller guarantees a live breaker.
    match unsafe { breaker.as_ref() } {
        Some(b) => on!(b, x => x.state_word()),
        None => core::ptr::null(),
    }
}

/// The current state (`PCL_BREAKER_*`) into `*state_out`: one load.
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `state_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_state(
    breaker: *const pcl_breaker,
    state_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(breaker, |b| write_out(state_out, state_code(on!(b, x => x.state())))) }
}

/// The breaker's state and counters at `now_ns` into `*stats_out`.
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `stats_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_snapshot(
    breaker: *const pcl_breaker,
    now_ns: u64,
    stats_out: *mut pcl_breaker_stats,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(breaker, |b| {
            let s = on!(b, x => x.snapshot(Nanos::new(now_ns)));
            write_out(stats_out, stats(&s))
        })
    }
}

/// `pcl_breaker_snapshot` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_breaker_snapshot`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_snapshot_now(
    breaker: *const pcl_breaker,
    stats_out: *mut pcl_breaker_stats,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_breaker_snapshot(breaker, pcl_now_ns(), stats_out) }
}

/// One operator call: runs `op` and reports the state it replaced.
///
/// # Safety
///
/// As the operator functions.
unsafe fn operate(
    breaker: *const pcl_breaker,
    previous_out: *mut u32,
    op: fn(&pcl_breaker) -> State,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(breaker, |b| {
            write_opt(previous_out, state_code(op(b)));
            pcl_status::Ok
        })
    }
}

/// Forces the breaker open until another operator call; the state it replaced goes to
/// `*previous_out` (may be NULL). Permits admitted before become stale (a new generation).
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `previous_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_force_open(
    breaker: *const pcl_breaker,
    previous_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { operate(breaker, previous_out, |b| on!(b, x => x.force_open())) }
}

/// Closes the breaker, emptying the window and the failure count; the replaced state goes to
/// `*previous_out` (may be NULL).
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `previous_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_force_close(
    breaker: *const pcl_breaker,
    previous_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { operate(breaker, previous_out, |b| on!(b, x => x.force_close())) }
}

/// Disables the breaker: every call is admitted, nothing is recorded; the replaced state goes
/// to `*previous_out` (may be NULL).
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `previous_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_disable(
    breaker: *const pcl_breaker,
    previous_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { operate(breaker, previous_out, |b| on!(b, x => x.disable())) }
}

/// Metrics-only: every call is admitted and recorded, the breaker never trips. Empties the
/// window; the replaced state goes to `*previous_out` (may be NULL).
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `previous_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_metrics_only(
    breaker: *const pcl_breaker,
    previous_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { operate(breaker, previous_out, |b| on!(b, x => x.metrics_only())) }
}

/// Closes the breaker and clears everything it counted (window, failure count, trip and
/// rejection counters); the replaced state goes to `*previous_out` (may be NULL).
///
/// # Safety
///
/// `breaker` must be NULL or a live breaker; `previous_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_breaker_reset(
    breaker: *const pcl_breaker,
    previous_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { operate(breaker, previous_out, |b| on!(b, x => x.reset())) }
}
