//! Retry policies and retry budgets: when to try a failed call again, after how long, and how
//! many retries a whole client may send.
//!
//! - [`RetryPolicy`]: a validated, immutable policy (backoff, jitter, attempts, cap, total time
//!   budget, server push-back bounds), shared by every call;
//! - [`RetryState`]: the small `Copy` state of one call (attempt count, backoff position, its own
//!   seeded generator), which answers "retry? after how long?" through
//!   [`decide`](RetryState::decide);
//! - [`ErrorClass`] and [`ClassTable`]: the outcome of an attempt as data, so that C and Go
//!   callers map their own errors by integer;
//! - the budgets shared by all calls of a client, lock-free: [`RetryThrottle`] (gRPC retry
//!   throttling) and [`RatioBudget`] (Finagle's retry budget), both behind the [`RetryBudget`]
//!   trait that [`decide_with_budget`](RetryState::decide_with_budget) consults.
//!
//! The exact formulas, boundaries and guarantees are in `docs/semantics/retry.md`, included below.
#![doc = include_str!("../../docs/semantics/retry.md")]

mod budget;

pub use budget::{RatioBudget, RatioBudgetConfig, RetryBudget, RetryThrottle, ThrottleConfig};

use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::rng::SplitMix64;

/// How an attempt's outcome bears on retrying: the caller's classification of its own error.
///
/// Error classes are data, not types, so a C or Go caller maps its status codes to them by
/// integer (see [`ClassTable`] and [`ErrorClass::from_pushback_ms`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// A transient failure: retry after the policy's computed delay.
    Retryable,
    /// A failure that retrying cannot fix (a malformed request, a permission error): stop. It does
    /// not count against a retry budget, as gRPC does not count `INVALID_ARGUMENT`.
    NotRetryable,
    /// The server asked for a retry after this delay (HTTP `Retry-After`, gRPC
    /// `grpc-retry-pushback-ms`): it replaces the computed delay, within the policy's push-back
    /// bounds.
    RetryableAfter(Nanos),
    /// The server asked the client not to retry (a negative or malformed
    /// `grpc-retry-pushback-ms`): stop. It counts as a failure for a retry budget, as in gRPC.
    StopRetrying,
}

impl ErrorClass {
    /// The class a gRPC `grpc-retry-pushback-ms` value means: a delay for `ms >= 0`, "do not
    /// retry" for a negative value (gRFC A6, "Pushback").
    ///
    /// ```
    /// use portcullis::{Nanos, retry::ErrorClass};
    /// assert_eq!(ErrorClass::from_pushback_ms(250), ErrorClass::RetryableAfter(Nanos::from_millis(250)));
    /// assert_eq!(ErrorClass::from_pushback_ms(-1), ErrorClass::StopRetrying);
    /// ```
    #[must_use]
    pub const fn from_pushback_ms(ms: i64) -> ErrorClass {
        if ms < 0 {
            ErrorClass::StopRetrying
        } else {
            #[allow(clippy::cast_sign_loss, reason = "ms >= 0 here")]
            ErrorClass::RetryableAfter(Nanos::from_millis(ms as u64))
        }
    }

    /// The class a raw `grpc-retry-pushback-ms` header value means.
    ///
    /// gRFC A6: the value is "an ASCII encoded signed 32-bit integer with no unnecessary leading
    /// zeros"; a negative or unparseable value means "do not retry". So: `b"0"`, `b"120"` are
    /// delays; `b"-1"`, `b""`, `b"007"`, `b"-0"`, `b"+5"`, `b"1.5"`, `b"2147483648"` (out of
    /// `i32`) and anything with spaces are [`StopRetrying`](ErrorClass::StopRetrying).
    ///
    /// ```
    /// use portcullis::{Nanos, retry::ErrorClass};
    /// assert_eq!(ErrorClass::from_pushback_header(b"120"), ErrorClass::RetryableAfter(Nanos::from_millis(120)));
    /// assert_eq!(ErrorClass::from_pushback_header(b"007"), ErrorClass::StopRetrying);
    /// ```
    #[must_use]
    pub fn from_pushback_header(value: &[u8]) -> ErrorClass {
        match parse_pushback(value) {
            Some(ms) => ErrorClass::from_pushback_ms(ms),
            None => ErrorClass::StopRetrying,
        }
    }

    /// The class an HTTP `Retry-After` header in delta-seconds means: a retry after `secs`
    /// seconds (saturating). An HTTP-date form must be converted to seconds by the caller.
    ///
    /// ```
    /// use portcullis::{Nanos, retry::ErrorClass};
    /// assert_eq!(ErrorClass::from_retry_after_secs(2), ErrorClass::RetryableAfter(Nanos::from_secs(2)));
    /// ```
    #[must_use]
    pub const fn from_retry_after_secs(secs: u64) -> ErrorClass {
        ErrorClass::RetryableAfter(Nanos::from_secs(secs))
    }

    /// Whether the outcome counts as a failure of the dependency for a retry budget: every class
    /// except [`NotRetryable`](ErrorClass::NotRetryable) (gRFC A6 counts retryable statuses and
    /// "do not retry" push-backs, not malformed requests).
    #[must_use]
    pub const fn counts_as_failure(self) -> bool {
        !matches!(self, ErrorClass::NotRetryable)
    }
}

/// Parses a gRPC push-back value: an optional `-`, then decimal digits without a leading zero
/// (except `0` itself), fitting an `i32`. `-0` is rejected (an unnecessary sign).
fn parse_pushback(value: &[u8]) -> Option<i64> {
    let (negative, digits) = match value.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, value),
    };
    let (&first, _) = digits.split_first()?;
    if first == b'0' && (digits.len() > 1 || negative) {
        return None;
    }
    let mut n: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
        if n > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    let n = if negative { -n } else { n };
    if n < i64::from(i32::MIN) || n > i64::from(i32::MAX) {
        return None;
    }
    Some(n)
}

/// A fixed table from error class ids `0..64` to retryable or not: one bit per id.
///
/// A C, C++ or Go caller numbers its own errors (HTTP statuses mapped to small ids, gRPC status
/// codes 0–16 as they are) and sets the bits of those it considers transient. Ids `>= 64` are
/// never retryable.
///
/// # Examples
///
/// ```
/// use portcullis::retry::{ClassTable, ErrorClass};
/// // gRPC: UNAVAILABLE = 14, RESOURCE_EXHAUSTED = 8 are retryable; INVALID_ARGUMENT = 3 is not.
/// let table = ClassTable::EMPTY.with(14).with(8);
/// assert_eq!(table.classify(14), ErrorClass::Retryable);
/// assert_eq!(table.classify(3), ErrorClass::NotRetryable);
/// assert_eq!(table.classify(1_000), ErrorClass::NotRetryable);
/// ```
///
/// # Panics
///
/// Never.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClassTable(u64);

impl ClassTable {
    /// No class is retryable.
    pub const EMPTY: ClassTable = ClassTable(0);

    /// The table whose retryable ids are the set bits of `bits` (bit `i` = id `i`).
    #[must_use]
    pub const fn from_bits(bits: u64) -> ClassTable {
        ClassTable(bits)
    }

    /// The table as bits (bit `i` set = id `i` retryable).
    #[must_use]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The table with `id` retryable too; ids `>= 64` are ignored.
    #[must_use]
    pub const fn with(self, id: u32) -> ClassTable {
        if id < 64 { ClassTable(self.0 | (1 << id)) } else { self }
    }

    /// Whether `id` is retryable.
    #[must_use]
    pub const fn is_retryable(self, id: u32) -> bool {
        id < 64 && self.0 & (1 << id) != 0
    }

    /// [`Retryable`](ErrorClass::Retryable) or [`NotRetryable`](ErrorClass::NotRetryable).
    #[must_use]
    pub const fn classify(self, id: u32) -> ErrorClass {
        if self.is_retryable(id) { ErrorClass::Retryable } else { ErrorClass::NotRetryable }
    }
}

/// The shape of the delays before successive retries, before jitter.
///
/// With `base = base_delay`, the delay before retry `n` (`n = 1` for the first retry) is:
///
/// | variant | delay before retry `n` |
/// |---|---|
/// | `Constant` | `base` |
/// | `Linear` | `base · n` |
/// | `Exponential` | `d(1) = base`, `d(n + 1) = ⌊d(n) · multiplier_permille / 1000⌋` |
/// | `Fibonacci` | `base · F(n)` with `F(1) = F(2) = 1`, `F(n + 1) = F(n) + F(n − 1)` |
///
/// each capped at `max_delay` (all saturating: no overflow at any `n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backoff {
    /// The same delay every time.
    Constant,
    /// Grows by `base` each retry.
    Linear,
    /// Multiplied by `multiplier_permille / 1000` each retry (2000 doubles; 1500 is ×1.5), with
    /// integer arithmetic rounded down at each step.
    Exponential {
        /// The growth factor in thousandths, at least 1000.
        multiplier_permille: u32,
    },
    /// Grows like the Fibonacci numbers: `base, base, 2·base, 3·base, 5·base, …`.
    Fibonacci,
}

/// How the backoff delay `d` (already capped at `max_delay`) is randomized.
///
/// `random(a, b)` is a uniform integer in `a..=b` (both ends included) drawn from the call's
/// [`SplitMix64`]. The first four are the formulas of the AWS Architecture Blog "Exponential
/// Backoff And Jitter" (Brooker, 2015).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Jitter {
    /// `d`.
    None,
    /// "Full jitter": `random(0, d)`.
    Full,
    /// "Equal jitter": `⌊d/2⌋ + random(0, ⌊d/2⌋)`.
    Equal,
    /// "Decorrelated jitter": `sleep = min(max_delay, random(base_delay, 3 · previous sleep))`, the
    /// previous sleep starting at `base_delay`. It is its own schedule: the [`Backoff`] shape is
    /// not used.
    Decorrelated,
    /// `d ± d · ppm / 10⁶`: `d − s + random(0, 2s)` with `s = ⌊d · ppm / 10⁶⌋`, then capped at
    /// `max_delay` again.
    Proportional {
        /// The spread in parts per million of `d`, at most 1,000,000 (±100 %).
        ppm: u32,
    },
}

/// The settings of a [`RetryPolicy`], validated by [`RetryPolicy::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetryConfig {
    /// The most attempts of one call, **the first call included** (as gRPC's and resilience4j's
    /// `maxAttempts`); 1 never retries. At least 1.
    pub max_attempts: u32,
    /// The shape of the delays.
    pub backoff: Backoff,
    /// The first computed delay (`Constant`: every delay). Positive unless the backoff is
    /// `Constant` without decorrelated jitter.
    pub base_delay: Nanos,
    /// The cap on one computed delay, applied before jitter and again after it: no computed
    /// delay exceeds it. At least `base_delay`.
    pub max_delay: Nanos,
    /// How the delay is randomized.
    pub jitter: Jitter,
    /// The time from the first attempt after which no retry starts (`Nanos::MAX`: none). A
    /// computed delay is shortened to what remains; see [`RetryState::decide`].
    pub total_budget: Nanos,
    /// The smallest delay a server's push-back is raised to.
    pub pushback_min: Nanos,
    /// The largest delay a server's push-back is lowered to. At least `pushback_min`.
    pub pushback_max: Nanos,
}

impl RetryConfig {
    /// 3 attempts (2 retries), exponential ×2 from 100 ms capped at 10 s, full jitter, no total
    /// budget, push-back honoured between 0 and 60 s.
    pub const DEFAULT: RetryConfig = RetryConfig {
        max_attempts: 3,
        backoff: Backoff::Exponential { multiplier_permille: 2_000 },
        base_delay: Nanos::from_millis(100),
        max_delay: Nanos::from_secs(10),
        jitter: Jitter::Full,
        total_budget: Nanos::MAX,
        pushback_min: Nanos::ZERO,
        pushback_max: Nanos::from_secs(60),
    };
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig::DEFAULT
    }
}

/// A validated retry policy: immutable, `Copy`, shared by every call that uses it.
///
/// # Semantics
///
/// The policy is pure: it holds no state and reads no clock. Each call keeps a [`RetryState`]
/// that asks it for decisions; see [`RetryState::decide`] for the order of the rules and
/// `docs/semantics/retry.md` for the formulas and their bounds.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, retry::{Backoff, Jitter, RetryConfig, RetryPolicy}};
/// let policy = RetryPolicy::new(RetryConfig {
///     backoff: Backoff::Exponential { multiplier_permille: 2_000 },
///     base_delay: Nanos::from_millis(100),
///     max_delay: Nanos::from_millis(1_000),
///     jitter: Jitter::None,
///     ..RetryConfig::DEFAULT
/// })
/// .unwrap();
/// assert_eq!(policy.backoff_delay(1), Nanos::from_millis(100));
/// assert_eq!(policy.backoff_delay(4), Nanos::from_millis(800));
/// assert_eq!(policy.backoff_delay(5), Nanos::from_millis(1_000)); // capped
/// assert_eq!(policy.backoff_delay(u32::MAX), Nanos::from_millis(1_000));
/// ```
///
/// # Errors
///
/// See [`new`](Self::new).
///
/// # Panics
///
/// Never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetryPolicy {
    config: RetryConfig,
}

impl RetryPolicy {
    /// Validates `config` into a policy.
    ///
    /// # Errors
    ///
    /// The first rule broken, in this order:
    /// - [`ConfigError::ZeroCount`], [`ConfigError::ZeroDuration`] or [`ConfigError::OutOfRange`] for `max_attempts` 0; for
    ///   `multiplier_permille` below 1000 (a shrinking "backoff"); for a zero `base_delay` with
    ///   any backoff but `Constant`, or with decorrelated jitter (the delays would stay 0);
    /// - [`ConfigError::FieldsOutOfOrder`] for `max_delay < base_delay` and for
    ///   `pushback_max < pushback_min`;
    /// - [`ConfigError::OutOfRange`] for a proportional jitter above 1,000,000 ppm;
    /// - [`ConfigError::ZeroCount`], [`ConfigError::ZeroDuration`] or [`ConfigError::OutOfRange`] for a zero `total_budget`.
    pub const fn new(config: RetryConfig) -> Result<RetryPolicy, ConfigError> {
        if config.max_attempts == 0 {
            return Err(ConfigError::ZeroCount { field: "max_attempts" });
        }
        if let Backoff::Exponential { multiplier_permille } = config.backoff
            && multiplier_permille < 1_000
        {
            return Err(ConfigError::OutOfRange {
                field: "multiplier_permille",
                min: 1_000,
                max: u64::MAX,
                got: multiplier_permille as u64,
            });
        }
        let grows = !matches!(config.backoff, Backoff::Constant)
            || matches!(config.jitter, Jitter::Decorrelated);
        if grows && config.base_delay.as_u64() == 0 {
            return Err(ConfigError::ZeroDuration { field: "base_delay" });
        }
        if config.max_delay.as_u64() < config.base_delay.as_u64() {
            return Err(ConfigError::FieldsOutOfOrder {
                field: "max_delay",
                value: config.max_delay.as_u64(),
                lower_field: "base_delay",
                lower: config.base_delay.as_u64(),
            });
        }
        if config.pushback_max.as_u64() < config.pushback_min.as_u64() {
            return Err(ConfigError::FieldsOutOfOrder {
                field: "pushback_max",
                value: config.pushback_max.as_u64(),
                lower_field: "pushback_min",
                lower: config.pushback_min.as_u64(),
            });
        }
        if let Jitter::Proportional { ppm } = config.jitter
            && ppm > 1_000_000
        {
            return Err(ConfigError::OutOfRange {
                field: "jitter_ppm",
                min: 0,
                max: 1_000_000,
                got: ppm as u64,
            });
        }
        if config.total_budget.as_u64() == 0 {
            return Err(ConfigError::ZeroDuration { field: "total_budget" });
        }
        Ok(RetryPolicy { config })
    }

    /// The validated settings.
    #[must_use]
    pub const fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// The backoff delay before retry `n` (`n = 1`: the first retry), capped at `max_delay`,
    /// before jitter; `n = 0` is treated as 1.
    ///
    /// A pure function of the policy, for documentation, tests and simulations;
    /// [`RetryState::decide`] computes the same values incrementally in O(1). Its cost is O(1)
    /// for `Constant` and `Linear`, at most 93 steps for `Fibonacci`, and for `Exponential` one
    /// step per retry until the cap (or the rounding fixed point) is reached.
    #[must_use]
    pub const fn backoff_delay(&self, n: u32) -> Nanos {
        let base = self.config.base_delay.as_u64();
        let cap = self.config.max_delay.as_u64();
        let n = if n == 0 { 1 } else { n };
        let d = match self.config.backoff {
            Backoff::Constant => base,
            Backoff::Linear => base.saturating_mul(n as u64),
            Backoff::Exponential { multiplier_permille } => {
                let mut d = base;
                let mut i = 1;
                while i < n && d < cap {
                    let next = grow(d, multiplier_permille);
                    if next == d {
                        break; // rounding fixed point: the sequence stays here forever
                    }
                    d = next;
                    i += 1;
                }
                d
            }
            Backoff::Fibonacci => {
                let (mut prev, mut d) = (0u64, base);
                let mut i = 1;
                while i < n && d < cap {
                    let next = prev.saturating_add(d);
                    prev = d;
                    d = next;
                    i += 1;
                }
                d
            }
        };
        Nanos::new(if d < cap { d } else { cap })
    }

    /// `d` clamped to the push-back bounds.
    const fn clamp_pushback(&self, d: Nanos) -> u64 {
        let (lo, hi) = (self.config.pushback_min.as_u64(), self.config.pushback_max.as_u64());
        let d = d.as_u64();
        if d < lo {
            lo
        } else if d > hi {
            hi
        } else {
            d
        }
    }
}

/// `⌊d · m / 1000⌋`, saturating at `u64::MAX`.
const fn grow(d: u64, multiplier_permille: u32) -> u64 {
    // The common case in 64 bits (a division by a constant compiles to a multiplication); the
    // 128-bit division only near the top of the range.
    if let Some(x) = d.checked_mul(multiplier_permille as u64) {
        return x / 1_000;
    }
    let x = d as u128 * multiplier_permille as u128 / 1_000;
    #[allow(clippy::cast_possible_truncation, reason = "checked against u64::MAX first")]
    if x > u64::MAX as u128 { u64::MAX } else { x as u64 }
}

/// A uniform integer in `lo..=hi` (`lo` if `hi <= lo`).
fn random_between(rng: &mut SplitMix64, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    let span = hi - lo;
    if span == u64::MAX { rng.next_u64() } else { lo + rng.below(span + 1) }
}

/// Why a call will not be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The outcome was [`ErrorClass::NotRetryable`].
    NotRetryable,
    /// The server asked not to retry ([`ErrorClass::StopRetrying`]).
    ServerPushback,
    /// `max_attempts` attempts have been made.
    AttemptsExhausted,
    /// The total time budget (or the deadline given) leaves no time for a retry, or less than
    /// the delay a server's push-back asked for.
    DeadlineExceeded,
    /// The shared retry budget refused the retry.
    BudgetExhausted,
}

/// The answer to "retry? after how long?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum RetryDecision {
    /// Send attempt number `attempt` (2 for the first retry) after waiting `delay`.
    Retry {
        /// How long to wait before the retry.
        delay: Nanos,
        /// The number of the attempt about to be made, the first call being attempt 1.
        attempt: u32,
    },
    /// Do not retry; report the last failure to the caller.
    Stop(StopReason),
}

/// The state of one call: attempts made, position in the backoff schedule, and the call's own
/// generator. `Copy`, 40 bytes (five 64-bit words), no atomics: it belongs to the call.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, retry::*};
/// let policy = RetryPolicy::new(RetryConfig {
///     max_attempts: 3,
///     backoff: Backoff::Constant,
///     base_delay: Nanos::from_millis(50),
///     max_delay: Nanos::from_millis(50),
///     jitter: Jitter::None,
///     ..RetryConfig::DEFAULT
/// })
/// .unwrap();
/// let t0 = Nanos::ZERO;
/// let mut call = RetryState::new(&policy, t0, 42); // attempt 1 starts at t0
/// assert_eq!(
///     call.decide(&policy, ErrorClass::Retryable, t0),
///     RetryDecision::Retry { delay: Nanos::from_millis(50), attempt: 2 }
/// );
/// assert_eq!(
///     call.decide(&policy, ErrorClass::Retryable, t0),
///     RetryDecision::Retry { delay: Nanos::from_millis(50), attempt: 3 }
/// );
/// assert_eq!(
///     call.decide(&policy, ErrorClass::Retryable, t0),
///     RetryDecision::Stop(StopReason::AttemptsExhausted)
/// );
/// ```
///
/// # Panics
///
/// Never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryState {
    /// Attempts made so far (1 once the first call is under way).
    attempts: u32,
    /// Position in the backoff schedule: the index of the last computed delay (0: none yet).
    /// Reset by a server push-back, as gRFC A6 resets to the initial backoff.
    step: u32,
    /// The last computed backoff delay, capped, before jitter.
    backoff: u64,
    /// The one before it (Fibonacci), or the last decorrelated sleep.
    previous: u64,
    /// No retry starts at or after this instant.
    deadline: u64,
    /// The call's generator: the same seed replays the same delays.
    rng: SplitMix64,
}

impl RetryState {
    /// The state of a call whose first attempt starts at `now`, with its generator seeded by
    /// `seed` (draw it from a shared [`AtomicSplitMix64`](crate::rng::AtomicSplitMix64) to give
    /// each call its own sequence, or fix it to replay a run).
    #[must_use]
    pub const fn new(policy: &RetryPolicy, now: Nanos, seed: u64) -> RetryState {
        RetryState::with_deadline(policy, now, Nanos::MAX, seed)
    }

    /// As [`new`](Self::new), with an absolute `deadline` too (for example the caller's own
    /// request deadline): retries stop at the earlier of it and `now + total_budget`.
    #[must_use]
    pub const fn with_deadline(
        policy: &RetryPolicy,
        now: Nanos,
        deadline: Nanos,
        seed: u64,
    ) -> RetryState {
        let own = now.saturating_add(policy.config.total_budget).as_u64();
        let d = deadline.as_u64();
        RetryState {
            attempts: 1,
            step: 0,
            backoff: 0,
            previous: 0,
            deadline: if d < own { d } else { own },
            rng: SplitMix64::new(seed),
        }
    }

    /// The state as five plain 64-bit words, for callers that keep it outside Rust (the C ABI's
    /// `pcl_retry_state`); [`from_words`](Self::from_words) turns them back into the same state.
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::{Nanos, retry::*};
    /// let policy = RetryPolicy::new(RetryConfig::DEFAULT).unwrap();
    /// let mut a = RetryState::new(&policy, Nanos::ZERO, 9);
    /// let mut b = RetryState::from_words(a.to_words());
    /// let now = Nanos::ZERO;
    /// assert_eq!(a.decide(&policy, ErrorClass::Retryable, now), b.decide(&policy, ErrorClass::Retryable, now));
    /// ```
    #[must_use]
    pub const fn to_words(&self) -> [u64; 5] {
        [
            self.attempts as u64 | (self.step as u64) << 32,
            self.backoff,
            self.previous,
            self.deadline,
            self.rng.state(),
        ]
    }

    /// A state from the words of [`to_words`](Self::to_words). Any words make a valid state:
    /// made-up words give a call with made-up attempts, schedule position, deadline and
    /// generator, whose decisions are still bounded by the policy (never a panic or an
    /// overflow).
    #[must_use]
    #[allow(clippy::cast_possible_truncation, reason = "two 32-bit halves of one word")]
    pub const fn from_words(words: [u64; 5]) -> RetryState {
        let [counts, backoff, previous, deadline, rng] = words;
        RetryState {
            attempts: counts as u32,
            step: (counts >> 32) as u32,
            backoff,
            previous,
            deadline,
            rng: SplitMix64::new(rng),
        }
    }

    /// Attempts made so far, the first call included.
    #[must_use]
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The instant at and after which no retry starts (`Nanos::MAX`: none).
    #[must_use]
    pub const fn deadline(&self) -> Nanos {
        Nanos::new(self.deadline)
    }

    /// Decides whether to retry after an attempt that ended at `now` with `class`, and after
    /// how long; on [`Retry`](RetryDecision::Retry) the state moves to the next attempt.
    ///
    /// # Semantics
    ///
    /// Rules in order (the first that applies decides):
    /// 1. [`NotRetryable`](ErrorClass::NotRetryable) → `Stop(NotRetryable)`;
    ///    [`StopRetrying`](ErrorClass::StopRetrying) → `Stop(ServerPushback)`.
    /// 2. `attempts >= max_attempts` → `Stop(AttemptsExhausted)`.
    /// 3. `now >= deadline` → `Stop(DeadlineExceeded)`: nothing remains.
    /// 4. [`RetryableAfter(d)`](ErrorClass::RetryableAfter): the delay is `d` clamped to
    ///    `pushback_min..=pushback_max`, without jitter; if it does not fit in the time that
    ///    remains (`now + delay > deadline`) → `Stop(DeadlineExceeded)` (a server's delay is never
    ///    shortened). The backoff schedule restarts at its first delay for the next retry.
    /// 5. [`Retryable`](ErrorClass::Retryable): the next backoff delay (capped), jittered,
    ///    capped again, then shortened to `deadline − now` if longer.
    ///
    /// A `Stop` leaves the state unchanged. Never overflows: attempt counts saturate at
    /// `u32::MAX` and delays at `Nanos::MAX`. Wait-free: no loop, no shared memory.
    pub fn decide(&mut self, policy: &RetryPolicy, class: ErrorClass, now: Nanos) -> RetryDecision {
        let c = &policy.config;
        let pushback = match class {
            ErrorClass::NotRetryable => return RetryDecision::Stop(StopReason::NotRetryable),
            ErrorClass::StopRetrying => return RetryDecision::Stop(StopReason::ServerPushback),
            ErrorClass::Retryable => None,
            ErrorClass::RetryableAfter(d) => Some(d),
        };
        if self.attempts >= c.max_attempts {
            return RetryDecision::Stop(StopReason::AttemptsExhausted);
        }
        let now = now.as_u64();
        if now >= self.deadline {
            return RetryDecision::Stop(StopReason::DeadlineExceeded);
        }
        let remaining = self.deadline - now;
        let delay = if let Some(d) = pushback {
            let d = policy.clamp_pushback(d);
            if d > remaining {
                return RetryDecision::Stop(StopReason::DeadlineExceeded);
            }
            self.step = 0;
            self.backoff = 0;
            self.previous = 0;
            d
        } else {
            self.next_delay(policy).min(remaining)
        };
        self.attempts = self.attempts.saturating_add(1);
        RetryDecision::Retry { delay: Nanos::new(delay), attempt: self.attempts }
    }

    /// As [`decide`](Self::decide), then consults the shared `budget`.
    ///
    /// # Semantics
    ///
    /// An outcome that [counts as a failure](ErrorClass::counts_as_failure) is reported to the
    /// budget with [`RetryBudget::record_failure`], whether the policy would retry or not (gRPC
    /// throttling counts every retryable failure); the budget withdraws a retry only when the
    /// policy would retry. If the budget refuses, the decision is `Stop(BudgetExhausted)` and the
    /// state is left as it was. A `NotRetryable` outcome never touches the budget. The caller
    /// reports each new call with [`RetryBudget::record_request`] and each successful attempt
    /// with [`RetryBudget::record_success`].
    pub fn decide_with_budget<B: RetryBudget + ?Sized>(
        &mut self,
        policy: &RetryPolicy,
        class: ErrorClass,
        now: Nanos,
        budget: &B,
    ) -> RetryDecision {
        let saved = *self;
        let decision = self.decide(policy, class, now);
        if !class.counts_as_failure() {
            return decision;
        }
        let wants = matches!(decision, RetryDecision::Retry { .. });
        if budget.record_failure(wants, now) || !wants {
            decision
        } else {
            *self = saved;
            RetryDecision::Stop(StopReason::BudgetExhausted)
        }
    }

    /// The next jittered delay, capped at `max_delay`; advances the schedule.
    fn next_delay(&mut self, policy: &RetryPolicy) -> u64 {
        let c = &policy.config;
        let (base, cap) = (c.base_delay.as_u64(), c.max_delay.as_u64());
        if let Jitter::Decorrelated = c.jitter {
            // AWS: sleep = min(cap, random_between(base, sleep * 3)), sleep starting at base.
            let prev = if self.step == 0 { base } else { self.previous };
            let sleep = random_between(&mut self.rng, base, prev.saturating_mul(3)).min(cap);
            self.step = self.step.saturating_add(1);
            self.previous = sleep;
            return sleep;
        }
        let d = self.next_backoff(policy);
        let jittered = match c.jitter {
            Jitter::None | Jitter::Decorrelated => d,
            Jitter::Full => random_between(&mut self.rng, 0, d),
            Jitter::Equal => d / 2 + random_between(&mut self.rng, 0, d / 2),
            Jitter::Proportional { ppm } => {
                #[allow(clippy::cast_possible_truncation, reason = "d * ppm / 1e6 <= d")]
                let s = (u128::from(d) * u128::from(ppm) / 1_000_000) as u64;
                (d - s).saturating_add(random_between(&mut self.rng, 0, s.saturating_mul(2)))
            }
        };
        jittered.min(cap)
    }

    /// The next backoff delay of the schedule, capped; equal to
    /// [`RetryPolicy::backoff_delay`]`(step)` for the step it moves to.
    fn next_backoff(&mut self, policy: &RetryPolicy) -> u64 {
        let c = &policy.config;
        let (base, cap) = (c.base_delay.as_u64(), c.max_delay.as_u64());
        let step = self.step.saturating_add(1);
        let d = if self.step == 0 {
            base
        } else {
            match c.backoff {
                Backoff::Constant => base,
                Backoff::Linear => base.saturating_mul(u64::from(step)),
                Backoff::Exponential { multiplier_permille } => {
                    grow(self.backoff, multiplier_permille)
                }
                Backoff::Fibonacci => self.previous.saturating_add(self.backoff),
            }
        };
        let d = d.min(cap);
        self.previous = self.backoff;
        self.backoff = d;
        self.step = step;
        d
    }
}

#[cfg(all(test, not(loom)))]
#[allow(
    clippy::cast_possible_truncation,
    clippy::many_single_char_names,
    reason = "small test indices; formulas written with the blog's names"
)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Nanos {
        Nanos::from_millis(n)
    }

    fn policy(backoff: Backoff, jitter: Jitter) -> RetryPolicy {
        RetryPolicy::new(RetryConfig {
            max_attempts: u32::MAX,
            backoff,
            base_delay: ms(100),
            max_delay: ms(10_000),
            jitter,
            ..RetryConfig::DEFAULT
        })
        .unwrap()
    }

    #[test]
    fn invalid_configs_are_precise_errors() {
        let bad = |c: RetryConfig| RetryPolicy::new(c).unwrap_err();
        let d = RetryConfig::DEFAULT;
        assert_eq!(
            bad(RetryConfig { max_attempts: 0, ..d }),
            ConfigError::ZeroCount { field: "max_attempts" }
        );
        assert_eq!(
            bad(RetryConfig { backoff: Backoff::Exponential { multiplier_permille: 999 }, ..d }),
            ConfigError::OutOfRange {
                field: "multiplier_permille",
                min: 1_000,
                max: u64::MAX,
                got: 999
            }
        );
        assert_eq!(
            bad(RetryConfig { base_delay: Nanos::ZERO, ..d }),
            ConfigError::ZeroDuration { field: "base_delay" }
        );
        assert_eq!(
            bad(RetryConfig {
                backoff: Backoff::Constant,
                jitter: Jitter::Decorrelated,
                base_delay: Nanos::ZERO,
                ..d
            }),
            ConfigError::ZeroDuration { field: "base_delay" }
        );
        assert_eq!(
            bad(RetryConfig { max_delay: ms(99), ..d }),
            ConfigError::FieldsOutOfOrder {
                field: "max_delay",
                value: 99_000_000,
                lower_field: "base_delay",
                lower: 100_000_000
            }
        );
        assert_eq!(
            bad(RetryConfig { pushback_min: ms(2), pushback_max: ms(1), ..d }),
            ConfigError::FieldsOutOfOrder {
                field: "pushback_max",
                value: 1_000_000,
                lower_field: "pushback_min",
                lower: 2_000_000
            }
        );
        assert_eq!(
            bad(RetryConfig { jitter: Jitter::Proportional { ppm: 1_000_001 }, ..d }),
            ConfigError::OutOfRange { field: "jitter_ppm", min: 0, max: 1_000_000, got: 1_000_001 }
        );
        assert_eq!(
            bad(RetryConfig { total_budget: Nanos::ZERO, ..d }),
            ConfigError::ZeroDuration { field: "total_budget" }
        );
        // A constant zero delay is allowed: immediate retries.
        assert!(
            RetryPolicy::new(RetryConfig {
                backoff: Backoff::Constant,
                base_delay: Nanos::ZERO,
                max_delay: Nanos::ZERO,
                jitter: Jitter::None,
                ..d
            })
            .is_ok()
        );
    }

    #[test]
    fn backoff_shapes_without_jitter() {
        let seq = |b: Backoff| {
            let p = policy(b, Jitter::None);
            let mut s = RetryState::new(&p, Nanos::ZERO, 0);
            let mut out = [0u64; 7];
            for o in &mut out {
                match s.decide(&p, ErrorClass::Retryable, Nanos::ZERO) {
                    RetryDecision::Retry { delay, .. } => *o = delay.as_u64() / 1_000_000,
                    RetryDecision::Stop(r) => panic!("{r:?}"),
                }
            }
            out
        };
        assert_eq!(seq(Backoff::Constant), [100; 7]);
        assert_eq!(seq(Backoff::Linear), [100, 200, 300, 400, 500, 600, 700]);
        assert_eq!(
            seq(Backoff::Exponential { multiplier_permille: 2_000 }),
            [100, 200, 400, 800, 1_600, 3_200, 6_400]
        );
        assert_eq!(
            seq(Backoff::Exponential { multiplier_permille: 1_500 }),
            [100, 150, 225, 337, 506, 759, 1_139] // exact in ns, shown here in whole ms
        );
        assert_eq!(seq(Backoff::Fibonacci), [100, 100, 200, 300, 500, 800, 1_300]);
    }

    #[test]
    fn exponential_rounds_down_at_each_step_in_nanoseconds() {
        let p = RetryPolicy::new(RetryConfig {
            backoff: Backoff::Exponential { multiplier_permille: 1_500 },
            base_delay: Nanos::new(3),
            max_delay: Nanos::MAX,
            jitter: Jitter::None,
            ..RetryConfig::DEFAULT
        })
        .unwrap();
        // 3, ⌊4.5⌋ = 4, 6, 9, ⌊13.5⌋ = 13, ⌊19.5⌋ = 19
        let got: [u64; 6] = core::array::from_fn(|i| p.backoff_delay(i as u32 + 1).as_u64());
        assert_eq!(got, [3, 4, 6, 9, 13, 19]);
        // Rounding fixed point: 1 · 1.5 = 1.5 → 1 forever; no infinite loop at u32::MAX.
        let q = RetryPolicy::new(RetryConfig { base_delay: Nanos::new(1), ..*p.config() }).unwrap();
        assert_eq!(q.backoff_delay(u32::MAX), Nanos::new(1));
    }

    #[test]
    fn huge_attempt_numbers_saturate() {
        for b in [
            Backoff::Constant,
            Backoff::Linear,
            Backoff::Exponential { multiplier_permille: 2_000 },
            Backoff::Fibonacci,
        ] {
            let p = RetryPolicy::new(RetryConfig {
                backoff: b,
                base_delay: Nanos::new(u64::MAX / 2),
                max_delay: Nanos::MAX,
                jitter: Jitter::None,
                ..RetryConfig::DEFAULT
            })
            .unwrap();
            let last = p.backoff_delay(u32::MAX);
            assert!(last >= Nanos::new(u64::MAX / 2), "{b:?}");
        }
        // The state's attempt count saturates instead of wrapping.
        let p = policy(Backoff::Linear, Jitter::Full);
        let mut s = RetryState::new(&p, Nanos::ZERO, 1);
        s.attempts = u32::MAX - 1;
        s.step = u32::MAX - 1;
        assert!(matches!(
            s.decide(&p, ErrorClass::Retryable, Nanos::ZERO),
            RetryDecision::Retry { attempt: u32::MAX, .. }
        ));
        assert_eq!(
            RetryPolicy::new(RetryConfig { max_attempts: u32::MAX, ..*p.config() })
                .map(|q| s.decide(&q, ErrorClass::Retryable, Nanos::ZERO)),
            Ok(RetryDecision::Stop(StopReason::AttemptsExhausted))
        );
    }

    #[test]
    fn classes_and_attempt_counting() {
        let p = RetryPolicy::new(RetryConfig { max_attempts: 2, ..RetryConfig::DEFAULT }).unwrap();
        let mut s = RetryState::new(&p, Nanos::ZERO, 7);
        let before = s;
        assert_eq!(
            s.decide(&p, ErrorClass::NotRetryable, Nanos::ZERO),
            RetryDecision::Stop(StopReason::NotRetryable)
        );
        assert_eq!(
            s.decide(&p, ErrorClass::StopRetrying, Nanos::ZERO),
            RetryDecision::Stop(StopReason::ServerPushback)
        );
        assert_eq!(s, before, "a stop changes nothing");
        assert!(matches!(
            s.decide(&p, ErrorClass::Retryable, Nanos::ZERO),
            RetryDecision::Retry { attempt: 2, .. }
        ));
        assert_eq!(
            s.decide(&p, ErrorClass::Retryable, Nanos::ZERO),
            RetryDecision::Stop(StopReason::AttemptsExhausted)
        );
        // max_attempts = 1: the first call is the only attempt.
        let one =
            RetryPolicy::new(RetryConfig { max_attempts: 1, ..RetryConfig::DEFAULT }).unwrap();
        assert_eq!(
            RetryState::new(&one, Nanos::ZERO, 0).decide(&one, ErrorClass::Retryable, Nanos::ZERO),
            RetryDecision::Stop(StopReason::AttemptsExhausted)
        );
    }

    #[test]
    fn total_budget_clamps_the_last_delay_and_stops_at_the_boundary() {
        let p = RetryPolicy::new(RetryConfig {
            max_attempts: 10,
            backoff: Backoff::Constant,
            base_delay: ms(300),
            max_delay: ms(300),
            jitter: Jitter::None,
            total_budget: ms(1_000),
            ..RetryConfig::DEFAULT
        })
        .unwrap();
        let mut s = RetryState::new(&p, ms(5_000), 0);
        assert_eq!(s.deadline(), ms(6_000));
        let r = |s: &mut RetryState, t| s.decide(&p, ErrorClass::Retryable, ms(t));
        assert_eq!(r(&mut s, 5_100), RetryDecision::Retry { delay: ms(300), attempt: 2 });
        // 200 ms remain: the delay is shortened to them.
        assert_eq!(r(&mut s, 5_800), RetryDecision::Retry { delay: ms(200), attempt: 3 });
        assert_eq!(
            s.decide(&p, ErrorClass::Retryable, Nanos::new(6_000_000_000 - 1)),
            RetryDecision::Retry { delay: Nanos::new(1), attempt: 4 }
        );
        // At the deadline nothing remains.
        assert_eq!(r(&mut s, 6_000), RetryDecision::Stop(StopReason::DeadlineExceeded));
        // An external deadline earlier than the budget wins.
        let e = RetryState::with_deadline(&p, ms(5_000), ms(5_500), 0);
        assert_eq!(e.deadline(), ms(5_500));
    }

    #[test]
    fn pushback_overrides_within_bounds_and_resets_the_schedule() {
        let p = RetryPolicy::new(RetryConfig {
            max_attempts: 10,
            backoff: Backoff::Exponential { multiplier_permille: 2_000 },
            base_delay: ms(100),
            max_delay: ms(10_000),
            jitter: Jitter::None,
            total_budget: ms(60_000),
            pushback_min: ms(50),
            pushback_max: ms(5_000),
        })
        .unwrap();
        let mut s = RetryState::new(&p, Nanos::ZERO, 0);
        let t = Nanos::ZERO;
        assert_eq!(
            s.decide(&p, ErrorClass::Retryable, t),
            RetryDecision::Retry { delay: ms(100), attempt: 2 }
        );
        assert_eq!(
            s.decide(&p, ErrorClass::Retryable, t),
            RetryDecision::Retry { delay: ms(200), attempt: 3 }
        );
        let after = |d| ErrorClass::RetryableAfter(ms(d));
        assert_eq!(
            s.decide(&p, after(1_234), t),
            RetryDecision::Retry { delay: ms(1_234), attempt: 4 }
        );
        assert_eq!(s.decide(&p, after(10), t), RetryDecision::Retry { delay: ms(50), attempt: 5 });
        assert_eq!(
            s.decide(&p, after(99_000), t),
            RetryDecision::Retry { delay: ms(5_000), attempt: 6 }
        );
        // The computed schedule starts again at its first delay (gRFC A6).
        assert_eq!(
            s.decide(&p, ErrorClass::Retryable, t),
            RetryDecision::Retry { delay: ms(100), attempt: 7 }
        );
        // A push-back longer than what remains stops instead of being shortened.
        assert_eq!(
            s.decide(&p, after(4_000), ms(57_000)),
            RetryDecision::Stop(StopReason::DeadlineExceeded)
        );
        assert_eq!(
            s.decide(&p, after(3_000), ms(57_000)),
            RetryDecision::Retry { delay: ms(3_000), attempt: 8 }
        );
    }

    #[test]
    fn pushback_header_parsing_follows_grfc_a6() {
        let after = |n| ErrorClass::RetryableAfter(ms(n));
        assert_eq!(ErrorClass::from_pushback_header(b"0"), after(0));
        assert_eq!(ErrorClass::from_pushback_header(b"120"), after(120));
        assert_eq!(ErrorClass::from_pushback_header(b"2147483647"), after(2_147_483_647));
        for bad in [
            &b""[..],
            b"-",
            b"-1",
            b"-2147483648",
            b"-0",
            b"007",
            b"00",
            b"+5",
            b"1.5",
            b" 1",
            b"1 ",
            b"2147483648",
            b"99999999999999999999",
            b"abc",
        ] {
            assert_eq!(ErrorClass::from_pushback_header(bad), ErrorClass::StopRetrying, "{bad:?}");
        }
        assert!(ErrorClass::StopRetrying.counts_as_failure());
        assert!(ErrorClass::RetryableAfter(Nanos::ZERO).counts_as_failure());
        assert!(!ErrorClass::NotRetryable.counts_as_failure());
    }

    #[test]
    fn sizes_match_the_documentation() {
        assert_eq!(core::mem::size_of::<RetryState>(), 40);
        assert_eq!(core::mem::size_of::<ClassTable>(), 8);
    }

    #[test]
    fn class_table_is_a_bitset() {
        let t = ClassTable::EMPTY.with(0).with(63).with(64);
        assert_eq!(t.bits(), 1 | (1 << 63));
        assert!(t.is_retryable(0) && t.is_retryable(63));
        assert!(!t.is_retryable(1) && !t.is_retryable(64) && !t.is_retryable(u32::MAX));
        assert_eq!(ClassTable::from_bits(t.bits()), t);
    }

    /// The AWS formulas, each computed by hand from the same generator.
    #[test]
    fn aws_jitter_formulas_exactly() {
        let seed = 2015;
        let base = 100_000_000u64;
        let cap = 10_000_000_000u64;
        let expo = |n: u32| (base << (n - 1)).min(cap); // min(cap, base · 2^(n−1))
        let run = |j: Jitter| {
            let p = policy(Backoff::Exponential { multiplier_permille: 2_000 }, j);
            let mut s = RetryState::new(&p, Nanos::ZERO, seed);
            let mut out = [0u64; 12];
            for o in &mut out {
                if let RetryDecision::Retry { delay, .. } =
                    s.decide(&p, ErrorClass::Retryable, Nanos::ZERO)
                {
                    *o = delay.as_u64();
                }
            }
            out
        };
        // Full: random_between(0, min(cap, base · 2^attempt)).
        let mut g = SplitMix64::new(seed);
        let full: [u64; 12] = core::array::from_fn(|i| g.below(expo(i as u32 + 1) + 1));
        assert_eq!(run(Jitter::Full), full);
        // Equal: temp / 2 + random_between(0, temp / 2).
        let mut g = SplitMix64::new(seed);
        let equal: [u64; 12] = core::array::from_fn(|i| {
            let t = expo(i as u32 + 1);
            t / 2 + g.below(t / 2 + 1)
        });
        assert_eq!(run(Jitter::Equal), equal);
        // Decorrelated: sleep = min(cap, random_between(base, sleep · 3)), sleep₀ = base.
        let mut g = SplitMix64::new(seed);
        let mut sleep = base;
        let decorrelated: [u64; 12] = core::array::from_fn(|_| {
            sleep = (base + g.below(sleep * 3 - base + 1)).min(cap);
            sleep
        });
        assert_eq!(run(Jitter::Decorrelated), decorrelated);
        // "No jitter": min(cap, base · 2^attempt).
        let none: [u64; 12] = core::array::from_fn(|i| expo(i as u32 + 1));
        assert_eq!(run(Jitter::None), none);
        // Proportional ±10 %: d − s + random(0, 2s), s = d / 10.
        let mut g = SplitMix64::new(seed);
        let prop: [u64; 12] = core::array::from_fn(|i| {
            let d = expo(i as u32 + 1);
            let s = d / 10;
            (d - s + g.below(2 * s + 1)).min(cap)
        });
        assert_eq!(run(Jitter::Proportional { ppm: 100_000 }), prop);
    }

    #[test]
    fn same_seed_same_sequence() {
        let p = policy(Backoff::Fibonacci, Jitter::Full);
        let mut a = RetryState::new(&p, Nanos::ZERO, 99);
        let mut b = RetryState::new(&p, Nanos::ZERO, 99);
        let mut c = RetryState::new(&p, Nanos::ZERO, 100);
        let mut differs = false;
        for _ in 0..50 {
            let (x, y, z) = (
                a.decide(&p, ErrorClass::Retryable, Nanos::ZERO),
                b.decide(&p, ErrorClass::Retryable, Nanos::ZERO),
                c.decide(&p, ErrorClass::Retryable, Nanos::ZERO),
            );
            assert_eq!(x, y);
            differs |= x != z;
        }
        assert!(differs, "another seed gives another sequence");
    }

    #[test]
    fn random_between_is_inclusive_and_total() {
        let mut g = SplitMix64::new(5);
        let mut seen = [false; 3];
        for _ in 0..200 {
            let v = random_between(&mut g, 10, 12);
            seen[usize::try_from(v - 10).unwrap()] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(random_between(&mut g, 7, 3), 7);
        let _ = random_between(&mut g, 0, u64::MAX); // full range: no overflow
    }

    #[test]
    fn state_words_round_trip_mid_schedule() {
        let policy = RetryPolicy::new(RetryConfig {
            max_attempts: 10,
            backoff: Backoff::Fibonacci,
            jitter: Jitter::Full,
            ..RetryConfig::DEFAULT
        })
        .unwrap();
        let now = Nanos::from_millis(5);
        let mut a = RetryState::with_deadline(&policy, Nanos::ZERO, Nanos::from_secs(100), 3);
        for _ in 0..3 {
            let _ = a.decide(&policy, ErrorClass::Retryable, now);
        }
        let mut b = RetryState::from_words(a.to_words());
        assert_eq!(a, b);
        for _ in 0..8 {
            let da = a.decide(&policy, ErrorClass::Retryable, now);
            assert_eq!(da, b.decide(&policy, ErrorClass::Retryable, now));
        }
        assert_eq!(b.attempts(), 10);
        // Made-up words are a state like any other.
        let mut junk = RetryState::from_words([u64::MAX; 5]);
        assert_eq!(
            junk.decide(&policy, ErrorClass::Retryable, now),
            RetryDecision::Stop(StopReason::AttemptsExhausted)
        );
    }
}
