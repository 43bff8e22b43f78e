//! Retry policies and retry budgets for C. Semantics: `docs/semantics/retry.md`.
//!
//! A `pcl_retry_policy` is an immutable, validated set of rules shared by every call; each call
//! keeps its own `pcl_retry_state` (plain data, 40 bytes, on the caller's stack) and asks
//! `pcl_retry_decide` after each failed attempt. The two budgets (`pcl_retry_throttle`, gRPC's
//! retry throttling; `pcl_retry_ratio_budget`, Finagle's ratio budget) are shared objects that
//! bound retries across calls.
//!
//! Thread-safety: a policy and the budgets may be used from any number of threads at once
//! (lock-free); a `pcl_retry_state` belongs to one call and must not be decided on concurrently;
//! `_init`, `_new` and `_free` must not race with other calls on the same object.

use core::ffi::c_void;

use portcullis::retry::{
    Backoff, ErrorClass, Jitter, RatioBudget, RatioBudgetConfig, RetryBudget, RetryConfig,
    RetryDecision, RetryPolicy, RetryState, RetryThrottle, StopReason, ThrottleConfig,
};
use portcullis::{ConfigError, Nanos};

use crate::boundary::{
    Config, boundary, free_boxed, init_object, new_object, with, write_opt, write_out,
};
use crate::clock::pcl_now_ns;
use crate::status::pcl_status;

/// `backoff`: the same delay every time.
pub const PCL_RETRY_BACKOFF_CONSTANT: u32 = 0;
/// `backoff`: grows by `base_delay_ns` each retry.
pub const PCL_RETRY_BACKOFF_LINEAR: u32 = 1;
/// `backoff`: multiplied by `multiplier_permille / 1000` each retry.
pub const PCL_RETRY_BACKOFF_EXPONENTIAL: u32 = 2;
/// `backoff`: `base, base, 2·base, 3·base, 5·base, …`.
pub const PCL_RETRY_BACKOFF_FIBONACCI: u32 = 3;

/// `jitter`: none.
pub const PCL_RETRY_JITTER_NONE: u32 = 0;
/// `jitter`: "full jitter", uniform in `0..=d`.
pub const PCL_RETRY_JITTER_FULL: u32 = 1;
/// `jitter`: "equal jitter", `d/2` plus uniform in `0..=d/2`.
pub const PCL_RETRY_JITTER_EQUAL: u32 = 2;
/// `jitter`: "decorrelated jitter" (its own schedule; `backoff` is not used).
pub const PCL_RETRY_JITTER_DECORRELATED: u32 = 3;
/// `jitter`: `d ± d · jitter_ppm / 10⁶`.
pub const PCL_RETRY_JITTER_PROPORTIONAL: u32 = 4;

/// Error class: a transient failure; retry after the policy's delay.
pub const PCL_RETRY_RETRYABLE: u32 = 0;
/// Error class: retrying cannot help; stop.
pub const PCL_RETRY_NOT_RETRYABLE: u32 = 1;
/// Error class: the server asked for a retry after `pushback_ns` (clamped to the policy's
/// push-back bounds).
pub const PCL_RETRY_RETRYABLE_AFTER: u32 = 2;
/// Error class: the server asked not to retry; stop.
pub const PCL_RETRY_STOP_RETRYING: u32 = 3;

/// `total_budget_ns` meaning "no total budget".
pub const PCL_RETRY_NO_BUDGET: u64 = u64::MAX;

/// `sizeof` a `pcl_retry_policy`.
pub const PCL_RETRY_POLICY_SIZE: usize = 64;
/// Required alignment of a `pcl_retry_policy`.
pub const PCL_RETRY_POLICY_ALIGN: usize = 8;
/// `sizeof` a `pcl_retry_throttle`.
pub const PCL_RETRY_THROTTLE_SIZE: usize = 256;
/// Required alignment of a `pcl_retry_throttle`.
pub const PCL_RETRY_THROTTLE_ALIGN: usize = 128;
/// The buckets of a `pcl_retry_ratio_budget`: its `ttl_ns` must be a multiple of this.
pub const PCL_RATIO_BUDGET_BUCKETS: u32 = 10;
/// `sizeof` a `pcl_retry_ratio_budget`.
pub const PCL_RETRY_RATIO_BUDGET_SIZE: usize = 256;
/// Required alignment of a `pcl_retry_ratio_budget`.
pub const PCL_RETRY_RATIO_BUDGET_ALIGN: usize = 128;

/// A validated retry policy (opaque to C).
#[derive(Debug)]
pub struct pcl_retry_policy(RetryPolicy);

/// gRPC retry throttling (opaque to C).
#[derive(Debug)]
pub struct pcl_retry_throttle(RetryThrottle);

/// A Finagle-style ratio retry budget (opaque to C).
#[derive(Debug)]
pub struct pcl_retry_ratio_budget(RatioBudget<{ PCL_RATIO_BUDGET_BUCKETS as usize }>);

/// The state of one call (attempts, position in the schedule, deadline, its generator), as plain
/// data: copy it freely; initialise it with `pcl_retry_state_init`. Its contents are private;
/// any contents are a valid state (made-up words cannot cause undefined behaviour).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct pcl_retry_state {
    /// Private to the library.
    pub private_words: [u64; 5],
}

const _: () = assert!(size_of::<pcl_retry_policy>() == PCL_RETRY_POLICY_SIZE);
const _: () = assert!(align_of::<pcl_retry_policy>() == PCL_RETRY_POLICY_ALIGN);
const _: () = assert!(size_of::<pcl_retry_throttle>() == PCL_RETRY_THROTTLE_SIZE);
const _: () = assert!(align_of::<pcl_retry_throttle>() == PCL_RETRY_THROTTLE_ALIGN);
const _: () = assert!(size_of::<pcl_retry_ratio_budget>() == PCL_RETRY_RATIO_BUDGET_SIZE);
const _: () = assert!(align_of::<pcl_retry_ratio_budget>() == PCL_RETRY_RATIO_BUDGET_ALIGN);
impl pcl_retry_state {
    const fn from_state(s: &RetryState) -> Self {
        pcl_retry_state { private_words: s.to_words() }
    }

    const fn to_state(self) -> RetryState {
        RetryState::from_words(self.private_words)
    }
}

/// Configuration of a `pcl_retry_policy`. Start from `pcl_retry_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_retry_config {
    /// `sizeof(pcl_retry_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// The most attempts of one call, the first included; at least 1. Default 3.
    pub max_attempts: u32,
    /// `PCL_RETRY_BACKOFF_*`. Default exponential.
    pub backoff: u32,
    /// Exponential growth in thousandths, at least 1000 (2000 doubles). Default 2000.
    pub multiplier_permille: u32,
    /// `PCL_RETRY_JITTER_*`. Default full.
    pub jitter: u32,
    /// Proportional jitter's spread per million, `0..=1000000`. Default 0.
    pub jitter_ppm: u32,
    /// The first delay; non-zero unless the backoff is constant without decorrelated jitter.
    /// Default 100 ms.
    pub base_delay_ns: u64,
    /// The cap on one delay, `>= base_delay_ns`. Default 10 s.
    pub max_delay_ns: u64,
    /// Time from the first attempt after which no retry starts; non-zero;
    /// `PCL_RETRY_NO_BUDGET` for none. Default none.
    pub total_budget_ns: u64,
    /// A server's push-back is raised to at least this. Default 0.
    pub pushback_min_ns: u64,
    /// A server's push-back is lowered to at most this, `>= pushback_min_ns`. Default 60 s.
    pub pushback_max_ns: u64,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_retry_config {
    const MIN_SIZE: usize = size_of::<pcl_retry_config>();
    fn defaults() -> Self {
        let d = RetryConfig::DEFAULT;
        let multiplier_permille = match d.backoff {
            Backoff::Exponential { multiplier_permille } => multiplier_permille,
            _ => 2_000,
        };
        pcl_retry_config {
            size: size_of::<Self>(),
            max_attempts: d.max_attempts,
            backoff: PCL_RETRY_BACKOFF_EXPONENTIAL,
            multiplier_permille,
            jitter: PCL_RETRY_JITTER_FULL,
            jitter_ppm: 0,
            base_delay_ns: d.base_delay.as_u64(),
            max_delay_ns: d.max_delay.as_u64(),
            total_budget_ns: d.total_budget.as_u64(),
            pushback_min_ns: d.pushback_min.as_u64(),
            pushback_max_ns: d.pushback_max.as_u64(),
        }
    }
}

/// Configuration of a `pcl_retry_throttle` (gRFC A6 `retryThrottling`). Start from
/// `pcl_retry_throttle_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_retry_throttle_config {
    /// `sizeof(pcl_retry_throttle_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// `maxTokens`, at least 1. Default 10.
    pub max_tokens: u32,
    /// `tokenRatio` in thousandths, at least 1. Default 100 (0.1).
    pub token_ratio_milli: u32,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_retry_throttle_config {
    const MIN_SIZE: usize = size_of::<pcl_retry_throttle_config>();
    fn defaults() -> Self {
        let d = ThrottleConfig::DEFAULT;
        pcl_retry_throttle_config {
            size: size_of::<Self>(),
            max_tokens: d.max_tokens,
            token_ratio_milli: d.token_ratio_milli,
        }
    }
}

/// Configuration of a `pcl_retry_ratio_budget` (Finagle's `RetryBudget(ttl, minRetriesPerSec,
/// percentCanRetry)`). Start from `pcl_retry_ratio_budget_config_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_retry_ratio_budget_config {
    /// `sizeof(pcl_retry_ratio_budget_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// How long a deposit counts: non-zero, a multiple of `PCL_RATIO_BUDGET_BUCKETS` ns.
    /// Default 10 s.
    pub ttl_ns: u64,
    /// Retries per second of `ttl_ns` allowed without any request. Default 10.
    pub min_retries_per_sec: u32,
    /// Retries per thousand requests, at most 10000. Default 200.
    pub retry_ratio_permille: u32,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers only.
unsafe impl Config for pcl_retry_ratio_budget_config {
    const MIN_SIZE: usize = size_of::<pcl_retry_ratio_budget_config>();
    fn defaults() -> Self {
        let d = RatioBudgetConfig::DEFAULT;
        pcl_retry_ratio_budget_config {
            size: size_of::<Self>(),
            ttl_ns: d.ttl.as_u64(),
            min_retries_per_sec: d.min_retries_per_sec,
            retry_ratio_permille: d.retry_ratio_permille,
        }
    }
}

fn policy_status(e: ConfigError) -> pcl_status {
    match e.field() {
        "max_attempts" => pcl_status::InvalidRetryMaxAttempts,
        "multiplier_permille" => pcl_status::InvalidRetryMultiplier,
        "base_delay" => pcl_status::InvalidRetryBaseDelay,
        "max_delay" => pcl_status::InvalidRetryMaxDelay,
        "jitter_ppm" => pcl_status::InvalidRetryJitterPpm,
        "total_budget" => pcl_status::InvalidRetryTotalBudget,
        "pushback_max" => pcl_status::InvalidRetryPushbackMax,
        _ => pcl_status::InvalidArgument,
    }
}

fn build_policy(cfg: &pcl_retry_config) -> Result<pcl_retry_policy, pcl_status> {
    let backoff = match cfg.backoff {
        PCL_RETRY_BACKOFF_CONSTANT => Backoff::Constant,
        PCL_RETRY_BACKOFF_LINEAR => Backoff::Linear,
        PCL_RETRY_BACKOFF_EXPONENTIAL => {
            Backoff::Exponential { multiplier_permille: cfg.multiplier_permille }
        }
        PCL_RETRY_BACKOFF_FIBONACCI => Backoff::Fibonacci,
        _ => return Err(pcl_status::InvalidRetryBackoff),
    };
    let jitter = match cfg.jitter {
        PCL_RETRY_JITTER_NONE => Jitter::None,
        PCL_RETRY_JITTER_FULL => Jitter::Full,
        PCL_RETRY_JITTER_EQUAL => Jitter::Equal,
        PCL_RETRY_JITTER_DECORRELATED => Jitter::Decorrelated,
        PCL_RETRY_JITTER_PROPORTIONAL => Jitter::Proportional { ppm: cfg.jitter_ppm },
        _ => return Err(pcl_status::InvalidRetryJitter),
    };
    let config = RetryConfig {
        max_attempts: cfg.max_attempts,
        backoff,
        base_delay: Nanos::new(cfg.base_delay_ns),
        max_delay: Nanos::new(cfg.max_delay_ns),
        jitter,
        total_budget: Nanos::new(cfg.total_budget_ns),
        pushback_min: Nanos::new(cfg.pushback_min_ns),
        pushback_max: Nanos::new(cfg.pushback_max_ns),
    };
    RetryPolicy::new(config).map(pcl_retry_policy).map_err(policy_status)
}

fn build_throttle(cfg: &pcl_retry_throttle_config) -> Result<pcl_retry_throttle, pcl_status> {
    let config =
        ThrottleConfig { max_tokens: cfg.max_tokens, token_ratio_milli: cfg.token_ratio_milli };
    RetryThrottle::new(config).map(pcl_retry_throttle).map_err(|e| match e.field() {
        "max_tokens" => pcl_status::InvalidThrottleMaxTokens,
        _ => pcl_status::InvalidThrottleTokenRatio,
    })
}

fn build_ratio(cfg: &pcl_retry_ratio_budget_config) -> Result<pcl_retry_ratio_budget, pcl_status> {
    let config = RatioBudgetConfig {
        ttl: Nanos::new(cfg.ttl_ns),
        min_retries_per_sec: cfg.min_retries_per_sec,
        retry_ratio_permille: cfg.retry_ratio_permille,
    };
    RatioBudget::new(config).map(pcl_retry_ratio_budget).map_err(|e| match e.field() {
        "ttl" => pcl_status::InvalidRatioBudgetTtl,
        "min_retries_per_sec" => pcl_status::InvalidRatioBudgetMinRetries,
        _ => pcl_status::InvalidRatioBudgetRatio,
    })
}

const fn class_of(code: u32, pushback_ns: u64) -> Option<ErrorClass> {
    match code {
        PCL_RETRY_RETRYABLE => Some(ErrorClass::Retryable),
        PCL_RETRY_NOT_RETRYABLE => Some(ErrorClass::NotRetryable),
        PCL_RETRY_RETRYABLE_AFTER => Some(ErrorClass::RetryableAfter(Nanos::new(pushback_ns))),
        PCL_RETRY_STOP_RETRYING => Some(ErrorClass::StopRetrying),
        _ => None,
    }
}

const fn stop_status(r: StopReason) -> pcl_status {
    match r {
        StopReason::NotRetryable => pcl_status::RetryStopNotRetryable,
        StopReason::ServerPushback => pcl_status::RetryStopServerPushback,
        StopReason::AttemptsExhausted => pcl_status::RetryStopAttemptsExhausted,
        StopReason::DeadlineExceeded => pcl_status::RetryStopDeadlineExceeded,
        StopReason::BudgetExhausted => pcl_status::RetryStopBudgetExhausted,
    }
}

/// The default retry configuration (`size` set; 3 attempts, exponential ×2 from 100 ms capped
/// at 10 s, full jitter, no total budget, push-back honoured up to 60 s).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_config_default() -> pcl_retry_config {
    pcl_retry_config::defaults()
}

/// `sizeof` a `pcl_retry_policy` (equals `PCL_RETRY_POLICY_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_policy_size() -> usize {
    size_of::<pcl_retry_policy>()
}

/// Required alignment of a `pcl_retry_policy` (equals `PCL_RETRY_POLICY_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_policy_align() -> usize {
    align_of::<pcl_retry_policy>()
}

/// Validates a retry configuration into a policy in caller memory (see `pcl_count_window_init`
/// for the rules on `mem`); config errors are `PCL_STATUS_INVALID_RETRY_*`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_policy_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_retry_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build_policy) }
}

/// Creates a retry policy on the heap; free it with `pcl_retry_policy_free`.
///
/// # Safety
///
/// `config` as for `pcl_retry_policy_init`; `policy_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_policy_new(
    config: *const pcl_retry_config,
    policy_out: *mut *mut pcl_retry_policy,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, policy_out, build_policy) }
}

/// Frees a policy made by `pcl_retry_policy_new`. NULL is a no-op.
///
/// # Safety
///
/// `policy` must be NULL or a pointer from `pcl_retry_policy_new`, not yet freed, with no call
/// on it running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_retry_policy_free(policy: *mut pcl_retry_policy) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(policy) }
}

/// The state of a call whose first attempt starts at `now_ns`, with its generator seeded by
/// `seed` (the same seed replays the same delays), into `*state_out`. `deadline_ns` is an
/// absolute deadline of the call (`UINT64_MAX`: none): retries stop at the earlier of it and
/// `now_ns + total_budget_ns`.
///
/// # Safety
///
/// `policy` must be NULL or a live policy; `state_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_state_init(
    policy: *const pcl_retry_policy,
    now_ns: u64,
    deadline_ns: u64,
    seed: u64,
    state_out: *mut pcl_retry_state,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(policy, |p| {
            let s =
                RetryState::with_deadline(&p.0, Nanos::new(now_ns), Nanos::new(deadline_ns), seed);
            write_out(state_out, pcl_retry_state::from_state(&s))
        })
    }
}

/// Attempts made so far by the call `state` stands for (the first included) into
/// `*attempts_out`.
///
/// # Safety
///
/// `state` must be NULL or a readable state; `attempts_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_state_attempts(
    state: *const pcl_retry_state,
    attempts_out: *mut u32,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(state, |s| write_out(attempts_out, s.to_state().attempts())) }
}

/// The shared body of the decide functions: validates, decides with `decide`, and writes the
/// state back and the delay out only on a retry.
///
/// # Safety
///
/// As `pcl_retry_decide`.
unsafe fn decide_with(
    policy: *const pcl_retry_policy,
    state: *mut pcl_retry_state,
    error_class: u32,
    pushback_ns: u64,
    delay_out: *mut u64,
    decide: impl FnOnce(&RetryPolicy, &mut RetryState, ErrorClass) -> RetryDecision,
) -> pcl_status {
    if state.is_null() || delay_out.is_null() {
        return pcl_status::NullArgument;
    }
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(policy, |p| {
            let Some(class) = class_of(error_class, pushback_ns) else {
                return pcl_status::InvalidArgument;
            };
            // Non-NULL (checked above); the caller guarantees a readable state.
            let mut s = state.read().to_state();
            match decide(&p.0, &mut s, class) {
                RetryDecision::Retry { delay, .. } => {
                    // Non-NULL (checked above); the caller guarantees a writable state and delay.
                    state.write(pcl_retry_state::from_state(&s));
                    delay_out.write(delay.as_u64());
                    pcl_status::Ok
                }
                RetryDecision::Stop(r) => stop_status(r),
            }
        })
    }
}

/// Decides whether to retry after an attempt that ended at `now_ns` with `error_class`
/// (`PCL_RETRY_*`; `pushback_ns` is read only for `PCL_RETRY_RETRYABLE_AFTER`).
///
/// Returns `PCL_STATUS_OK` (retry after `*delay_out` ns; `*state` moves to the next attempt),
/// a `PCL_STATUS_RETRY_STOP_*` refusal (`*state` unchanged; report the last failure),
/// `PCL_STATUS_INVALID_ARGUMENT` (unknown class) or `PCL_STATUS_NULL_ARGUMENT`. The rules and
/// their order are those of `docs/semantics/retry.md`. Wait-free.
///
/// # Safety
///
/// `policy` must be NULL or a live policy; `state` NULL or a readable and writable state not
/// used concurrently; `delay_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_decide(
    policy: *const pcl_retry_policy,
    state: *mut pcl_retry_state,
    error_class: u32,
    pushback_ns: u64,
    now_ns: u64,
    delay_out: *mut u64,
) -> pcl_status {
    let now = Nanos::new(now_ns);
    // SAFETY: forwarded caller guarantees.
    unsafe {
        decide_with(policy, state, error_class, pushback_ns, delay_out, |p, s, c| {
            s.decide(p, c, now)
        })
    }
}

/// `pcl_retry_decide` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_retry_decide`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_decide_now(
    policy: *const pcl_retry_policy,
    state: *mut pcl_retry_state,
    error_class: u32,
    pushback_ns: u64,
    delay_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_retry_decide(policy, state, error_class, pushback_ns, pcl_now_ns(), delay_out) }
}

/// As `pcl_retry_decide`, then consults `throttle`: a failure that counts (every class but
/// `PCL_RETRY_NOT_RETRYABLE`) takes a token; a retry the policy allows is refused with
/// `PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED` (state unchanged) when the throttle is at or below
/// half.
///
/// # Safety
///
/// As `pcl_retry_decide`; `throttle` NULL or a live throttle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_decide_throttled(
    policy: *const pcl_retry_policy,
    state: *mut pcl_retry_state,
    error_class: u32,
    pushback_ns: u64,
    now_ns: u64,
    throttle: *const pcl_retry_throttle,
    delay_out: *mut u64,
) -> pcl_status {
    // SAFETY: NULL handled; otherwise the caller guarantees a live throttle.
    let Some(t) = (unsafe { throttle.as_ref() }) else {
        return pcl_status::NullArgument;
    };
    let now = Nanos::new(now_ns);
    // SAFETY: forwarded caller guarantees.
    unsafe {
        decide_with(policy, state, error_class, pushback_ns, delay_out, |p, s, c| {
            s.decide_with_budget(p, c, now, &t.0)
        })
    }
}

/// As `pcl_retry_decide`, then consults the ratio `budget` (withdrawing one retry when the
/// policy allows one; `PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED`, state unchanged, when the
/// balance does not allow it).
///
/// # Safety
///
/// As `pcl_retry_decide`; `budget` NULL or a live ratio budget.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_decide_budgeted(
    policy: *const pcl_retry_policy,
    state: *mut pcl_retry_state,
    error_class: u32,
    pushback_ns: u64,
    now_ns: u64,
    budget: *const pcl_retry_ratio_budget,
    delay_out: *mut u64,
) -> pcl_status {
    // SAFETY: NULL handled; otherwise the caller guarantees a live budget.
    let Some(b) = (unsafe { budget.as_ref() }) else {
        return pcl_status::NullArgument;
    };
    let now = Nanos::new(now_ns);
    // SAFETY: forwarded caller guarantees.
    unsafe {
        decide_with(policy, state, error_class, pushback_ns, delay_out, |p, s, c| {
            s.decide_with_budget(p, c, now, &b.0)
        })
    }
}

/// The default throttle configuration (`size` set; 10 tokens, ratio 0.1).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_throttle_config_default() -> pcl_retry_throttle_config {
    pcl_retry_throttle_config::defaults()
}

/// `sizeof` a `pcl_retry_throttle` (equals `PCL_RETRY_THROTTLE_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_throttle_size() -> usize {
    size_of::<pcl_retry_throttle>()
}

/// Required alignment of a `pcl_retry_throttle` (equals `PCL_RETRY_THROTTLE_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_throttle_align() -> usize {
    align_of::<pcl_retry_throttle>()
}

/// Initialises a full throttle in caller memory; config errors are
/// `PCL_STATUS_INVALID_THROTTLE_*`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_throttle_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_retry_throttle_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build_throttle) }
}

/// Creates a full throttle on the heap; free it with `pcl_retry_throttle_free`.
///
/// # Safety
///
/// `config` as for `pcl_retry_throttle_init`; `throttle_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_throttle_new(
    config: *const pcl_retry_throttle_config,
    throttle_out: *mut *mut pcl_retry_throttle,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, throttle_out, build_throttle) }
}

/// Frees a throttle made by `pcl_retry_throttle_new`. NULL is a no-op.
///
/// # Safety
///
/// `throttle` must be NULL or a pointer from `pcl_retry_throttle_new`, not yet freed, with no
/// call on it running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_retry_throttle_free(throttle: *mut pcl_retry_throttle) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(throttle) }
}

/// Records a failed attempt (takes one token) and says whether a retry is allowed:
/// `PCL_STATUS_OK` when the count left is strictly above half of `max_tokens`, else
/// `PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED`. One read-modify-write.
///
/// # Safety
///
/// `throttle` must be NULL or a live throttle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_throttle_record_failure(
    throttle: *const pcl_retry_throttle,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(throttle, |t| {
            if t.0.record_failure() { pcl_status::Ok } else { pcl_status::RetryStopBudgetExhausted }
        })
    }
}

/// Records a successful attempt (adds `token_ratio_milli` thousandths, up to `max_tokens`).
///
/// # Safety
///
/// `throttle` must be NULL or a live throttle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_throttle_record_success(
    throttle: *const pcl_retry_throttle,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(throttle, |t| {
            t.0.record_success();
            pcl_status::Ok
        })
    }
}

/// Whether a retry is allowed now (`PCL_STATUS_OK`) or not
/// (`PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED`), without recording anything; the token count in
/// thousandths goes to `*milli_tokens_out` (may be NULL).
///
/// # Safety
///
/// `throttle` must be NULL or a live throttle; `milli_tokens_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_throttle_check(
    throttle: *const pcl_retry_throttle,
    milli_tokens_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(throttle, |t| {
            let milli = t.0.milli_tokens();
            write_opt(milli_tokens_out, milli);
            if milli > t.0.threshold_milli() {
                pcl_status::Ok
            } else {
                pcl_status::RetryStopBudgetExhausted
            }
        })
    }
}

/// The default ratio budget configuration (`size` set; ttl 10 s, 10 retries per second, 20 %).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_ratio_budget_config_default() -> pcl_retry_ratio_budget_config {
    pcl_retry_ratio_budget_config::defaults()
}

/// `sizeof` a `pcl_retry_ratio_budget` (equals `PCL_RETRY_RATIO_BUDGET_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_ratio_budget_size() -> usize {
    size_of::<pcl_retry_ratio_budget>()
}

/// Required alignment of a `pcl_retry_ratio_budget` (equals `PCL_RETRY_RATIO_BUDGET_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_retry_ratio_budget_align() -> usize {
    align_of::<pcl_retry_ratio_budget>()
}

/// Initialises a ratio budget in caller memory; config errors are
/// `PCL_STATUS_INVALID_RATIO_BUDGET_*`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_ratio_budget_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_retry_ratio_budget_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build_ratio) }
}

/// Creates a ratio budget on the heap; free it with `pcl_retry_ratio_budget_free`.
///
/// # Safety
///
/// `config` as for `pcl_retry_ratio_budget_init`; `budget_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_ratio_budget_new(
    config: *const pcl_retry_ratio_budget_config,
    budget_out: *mut *mut pcl_retry_ratio_budget,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, budget_out, build_ratio) }
}

/// Frees a budget made by `pcl_retry_ratio_budget_new`. NULL is a no-op.
///
/// # Safety
///
/// `budget` must be NULL or a pointer from `pcl_retry_ratio_budget_new`, not yet freed, with no
/// call on it running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_retry_ratio_budget_free(budget: *mut pcl_retry_ratio_budget) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(budget) }
}

/// Records a new request (not a retry) at `now_ns`: deposits `retry_ratio_permille` thousandths
/// of a retry, counted for `ttl_ns`. Lock-free.
///
/// # Safety
///
/// `budget` must be NULL or a live budget.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_ratio_budget_record_request(
    budget: *const pcl_retry_ratio_budget,
    now_ns: u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(budget, |b| {
            b.0.record_request(Nanos::new(now_ns));
            pcl_status::Ok
        })
    }
}

/// Withdraws one retry at `now_ns` if the balance allows it: `PCL_STATUS_OK` (withdrawn; the
/// retry is allowed) or `PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED` (nothing withdrawn).
/// Lock-free.
///
/// # Safety
///
/// `budget` must be NULL or a live budget.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_ratio_budget_try_withdraw(
    budget: *const pcl_retry_ratio_budget,
    now_ns: u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(budget, |b| {
            if b.0.try_withdraw(Nanos::new(now_ns)) {
                pcl_status::Ok
            } else {
                pcl_status::RetryStopBudgetExhausted
            }
        })
    }
}

/// Whole retries the balance allows at `now_ns` into `*retries_out`. Wait-free, no write.
///
/// # Safety
///
/// `budget` must be NULL or a live budget; `retries_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_ratio_budget_balance(
    budget: *const pcl_retry_ratio_budget,
    now_ns: u64,
    retries_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { with(budget, |b| write_out(retries_out, b.0.balance(Nanos::new(now_ns)))) }
}

/// The class a gRPC `grpc-retry-pushback-ms` value means (`PCL_RETRY_RETRYABLE_AFTER` with
/// `*pushback_ns_out` for `ms >= 0`, `PCL_RETRY_STOP_RETRYING` for a negative value) into
/// `*class_out`.
///
/// # Safety
///
/// `class_out` and `pushback_ns_out` must be NULL or valid for one write each.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_class_from_pushback_ms(
    ms: i64,
    class_out: *mut u32,
    pushback_ns_out: *mut u64,
) -> pcl_status {
    boundary(|| {
        if class_out.is_null() || pushback_ns_out.is_null() {
            return pcl_status::NullArgument;
        }
        let (class, ns) = match ErrorClass::from_pushback_ms(ms) {
            ErrorClass::RetryableAfter(d) => (PCL_RETRY_RETRYABLE_AFTER, d.as_u64()),
            _ => (PCL_RETRY_STOP_RETRYING, 0),
        };
        // SAFETY: both non-NULL (checked above) and writable (contract).
        unsafe {
            class_out.write(class);
            pushback_ns_out.write(ns);
        }
        pcl_status::Ok
    })
}

/// `pcl_retry_state_init` with the first attempt starting at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_retry_state_init`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_state_init_now(
    policy: *const pcl_retry_policy,
    deadline_ns: u64,
    seed: u64,
    state_out: *mut pcl_retry_state,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_retry_state_init(policy, pcl_now_ns(), deadline_ns, seed, state_out) }
}

/// `pcl_retry_decide_throttled` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_retry_decide_throttled`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_decide_throttled_now(
    policy: *const pcl_retry_policy,
    state: *mut pcl_retry_state,
    error_class: u32,
    pushback_ns: u64,
    throttle: *const pcl_retry_throttle,
    delay_out: *mut u64,
) -> pcl_status {
    let now = pcl_now_ns();
    // SAFETY: forwarded caller guarantees.
    unsafe {
        pcl_retry_decide_throttled(
            policy,
            state,
            error_class,
            pushback_ns,
            now,
            throttle,
            delay_out,
        )
    }
}

/// `pcl_retry_decide_budgeted` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_retry_decide_budgeted`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_decide_budgeted_now(
    policy: *const pcl_retry_policy,
    state: *mut pcl_retry_state,
    error_class: u32,
    pushback_ns: u64,
    budget: *const pcl_retry_ratio_budget,
    delay_out: *mut u64,
) -> pcl_status {
    let now = pcl_now_ns();
    // SAFETY: forwarded caller guarantees.
    unsafe {
        pcl_retry_decide_budgeted(policy, state, error_class, pushback_ns, now, budget, delay_out)
    }
}

/// `pcl_retry_ratio_budget_record_request` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_retry_ratio_budget_record_request`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_ratio_budget_record_request_now(
    budget: *const pcl_retry_ratio_budget,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_retry_ratio_budget_record_request(budget, pcl_now_ns()) }
}

/// `pcl_retry_ratio_budget_try_withdraw` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_retry_ratio_budget_try_withdraw`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_ratio_budget_try_withdraw_now(
    budget: *const pcl_retry_ratio_budget,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_retry_ratio_budget_try_withdraw(budget, pcl_now_ns()) }
}

/// `pcl_retry_ratio_budget_balance` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_retry_ratio_budget_balance`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_retry_ratio_budget_balance_now(
    budget: *const pcl_retry_ratio_budget,
    retries_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_retry_ratio_budget_balance(budget, pcl_now_ns(), retries_out) }
}
