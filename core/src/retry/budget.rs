//! Retry budgets shared by all calls of a client: gRPC retry throttling and Finagle's ratio
//! budget, each lock-free and allocation-free.

use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::sync::{AtomicU64, CachePadded, Ordering, loom_const_fn, zeroed_array};
use crate::word::Field;

/// What a retry budget is told about the calls of a client, and how it answers.
///
/// [`RetryState::decide_with_budget`](super::RetryState::decide_with_budget) calls
/// [`record_failure`](Self::record_failure); the caller calls the other two.
pub trait RetryBudget {
    /// A new call (its first attempt, not a retry) is sent at `now`.
    fn record_request(&self, now: Nanos);
    /// An attempt succeeded at `now`.
    fn record_success(&self, now: Nanos);
    /// An attempt failed at `now` with an outcome that counts against the dependency;
    /// `wants_retry` says whether the retry policy would retry. Returns whether the retry may be
    /// sent (and, for a budget that withdraws, has been withdrawn); always `false` when
    /// `wants_retry` is `false`.
    fn record_failure(&self, wants_retry: bool, now: Nanos) -> bool;
}

// ---------------------------------------------------------------------------------------------
// gRPC retry throttling

/// The settings of a [`RetryThrottle`] (gRFC A6 `retryThrottling`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThrottleConfig {
    /// `maxTokens`: the bucket's size, in whole tokens; at least 1.
    pub max_tokens: u32,
    /// `tokenRatio` in thousandths of a token (gRPC supports three decimal places: 0.1 is 100);
    /// at least 1.
    pub token_ratio_milli: u32,
}

impl ThrottleConfig {
    /// The example of gRFC A6: `maxTokens` 10, `tokenRatio` 0.1.
    pub const DEFAULT: ThrottleConfig = ThrottleConfig { max_tokens: 10, token_ratio_milli: 100 };
}

/// gRPC retry throttling (gRFC A6): a token count in thousandths of a token, in one atomic word.
///
/// # Semantics
///
/// The count starts at `max_tokens` and stays in `0..=max_tokens`. Every failure takes one token
/// away, every success adds `token_ratio`; retries are allowed only while the count is
/// **strictly above** `max_tokens / 2` (in thousandths, `max_milli / 2` rounded down, exactly as
/// gRPC core's `ServerRetryThrottleData`). [`record_failure`](Self::record_failure) takes the
/// token and answers from the new count in one read-modify-write, so two racing failures are
/// ordered and cannot both be told "above the threshold" when only one of them is.
///
/// Under 100 % failures at most `⌈max_tokens / 2⌉ − 1` failures are answered "retry", whatever
/// the number of callers and threads: the count only falls.
///
/// # Examples
///
/// The arithmetic of gRPC core's own test (`retry_throttle_test.cc`: 4 tokens, ratio 1.6):
///
/// ```
/// use portcullis::retry::{RetryThrottle, ThrottleConfig};
/// let t = RetryThrottle::new(ThrottleConfig { max_tokens: 4, token_ratio_milli: 1_600 }).unwrap();
/// assert!(t.record_failure());   // 3 > 2
/// t.record_success();            // 4 (not above max)
/// assert!(t.record_failure());   // 3
/// assert!(!t.record_failure());  // 2: at the threshold, no retry
/// assert_eq!(t.milli_tokens(), 2_000);
/// ```
///
/// # Errors
///
/// [`new`](Self::new): [`ConfigError::ZeroCount`], [`ConfigError::ZeroDuration`] or [`ConfigError::OutOfRange`] for `max_tokens` or
/// `token_ratio_milli` of 0.
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct RetryThrottle {
    max_milli: u64,
    ratio_milli: u64,
    /// Invariant: `0 <= milli_tokens <= max_milli`.
    milli_tokens: CachePadded<AtomicU64>,
}

impl RetryThrottle {
    loom_const_fn! {
        /// A full bucket.
        ///
        /// # Errors
        ///
        /// [`ConfigError::ZeroCount`], [`ConfigError::ZeroDuration`] or [`ConfigError::OutOfRange`] for a zero `max_tokens` or `token_ratio_milli`.
        pub fn new(config: ThrottleConfig) -> Result<RetryThrottle, ConfigError> {
            if config.max_tokens == 0 {
                return Err(ConfigError::ZeroCount { field: "max_tokens" });
            }
            if config.token_ratio_milli == 0 {
                return Err(ConfigError::ZeroCount { field: "token_ratio_milli" });
            }
            let max_milli = config.max_tokens as u64 * 1_000;
            Ok(RetryThrottle {
                max_milli,
                ratio_milli: config.token_ratio_milli as u64,
                milli_tokens: CachePadded(AtomicU64::new(max_milli)),
            })
        }
    }

    /// The current count in thousandths of a token.
    #[must_use]
    pub fn milli_tokens(&self) -> u64 {
        // Relaxed: the count publishes no other memory.
        self.milli_tokens.load(Ordering::Relaxed)
    }

    /// The threshold in thousandths: retries need a count strictly above it.
    #[must_use]
    pub const fn threshold_milli(&self) -> u64 {
        self.max_milli / 2
    }

    /// Whether a retry would be allowed now (a plain load: the answer may be one concurrent
    /// update old; [`record_failure`](Self::record_failure) is the exact decision).
    #[must_use]
    pub fn is_retry_allowed(&self) -> bool {
        self.milli_tokens() > self.threshold_milli()
    }

    /// Records a failed attempt (one token less, not below 0) and returns whether a retry may
    /// follow: whether the new count is above the threshold. Lock-free: one CAS loop on one word.
    pub fn record_failure(&self) -> bool {
        let new = self.update(|t| t.saturating_sub(1_000));
        new > self.threshold_milli()
    }

    /// Records a successful attempt: `token_ratio` more, not above `max_tokens`. Lock-free; on a
    /// full bucket (the steady state of a healthy dependency) a single load and no write.
    pub fn record_success(&self) {
        let (max, ratio) = (self.max_milli, self.ratio_milli);
        // A success on a full bucket changes nothing, so it writes nothing: a healthy client's
        // successes stay read-only on the shared line. A plain load may return a value one
        // concurrent update old; at worst one success's ratio is dropped, which only makes the
        // throttle stricter. It decides no retry, so no refusal rests on it.
        if self.milli_tokens() >= max {
            return;
        }
        self.update(|t| t.saturating_add(ratio).min(max));
    }

    /// Applies `f` to the count in one successful CAS (written even when unchanged, so the
    /// answer is read from the latest value in the word's modification order); returns the new
    /// count.
    fn update(&self, f: impl Fn(u64) -> u64) -> u64 {
        // Relaxed: the count is the only data; every decision is made from the value an RMW
        // read, which is always the latest in the word's modification order (a plain load could
        // return an older value and refuse on it).
        let mut cur = self.milli_tokens.load(Ordering::Relaxed);
        loop {
            let new = f(cur);
            match self.milli_tokens.compare_exchange_weak(
                cur,
                new,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return new,
                Err(actual) => cur = actual,
            }
        }
    }
}

impl RetryBudget for RetryThrottle {
    fn record_request(&self, _now: Nanos) {}
    fn record_success(&self, _now: Nanos) {
        RetryThrottle::record_success(self);
    }
    fn record_failure(&self, wants_retry: bool, _now: Nanos) -> bool {
        // gRPC counts the failure even when the policy would not retry.
        RetryThrottle::record_failure(self) && wants_retry
    }
}

// ---------------------------------------------------------------------------------------------
// Finagle ratio budget

/// The settings of a [`RatioBudget`] (Finagle's `RetryBudget(ttl, minRetriesPerSec,
/// percentCanRetry)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RatioBudgetConfig {
    /// How long a deposit (and a withdrawal) counts. Non-zero and a multiple of `K` ns.
    pub ttl: Nanos,
    /// The reserve: this many retries per second of `ttl` are allowed without any request.
    pub min_retries_per_sec: u32,
    /// Retries allowed per thousand requests (Finagle's `percentCanRetry` 0.2 is 200); at most
    /// 10,000 (ten retries per request).
    pub retry_ratio_permille: u32,
}

impl RatioBudgetConfig {
    /// Finagle's defaults: `ttl` 10 s, 10 retries per second, 20 % of requests.
    pub const DEFAULT: RatioBudgetConfig = RatioBudgetConfig {
        ttl: Nanos::from_secs(10),
        min_retries_per_sec: 10,
        retry_ratio_permille: 200,
    };
}

/// The cost of one retry, in budget units (a deposit is worth `retry_ratio_permille` units).
const COST: i64 = 1_000;
/// Slot word: `| sealed:1 | tag:33 | net:30 (signed) |`.
const NET: Field = Field::new(0, 30);
const TAG: Field = Field::new(30, 33);
const SEALED: u64 = 1 << 63;
const _: () = assert!(Field::disjoint(&[NET, TAG]) && (NET.mask() | TAG.mask()) & SEALED == 0);
/// The range of a bucket's net amount.
const NET_MAX: i64 = (1 << 29) - 1;
const NET_MIN: i64 = -(1 << 29);
/// The largest reserve, in units: half a bucket's negative range, so a bucket can always spend it.
const RESERVE_MAX: u64 = 1 << 28;
/// Half the tag space: a tag up to this far behind another is older.
const TAG_HALF: u64 = 1 << 32;
/// The largest `K`.
const MAX_K: usize = 1024;

const fn tag_of(epoch: u64) -> u64 {
    epoch & TAG.max()
}

/// Whether tag `a` is an older epoch than tag `b` (modular, within half the tag space).
const fn is_older(a: u64, b: u64) -> bool {
    let d = b.wrapping_sub(a) & TAG.max();
    d != 0 && d < TAG_HALF
}

const fn net_of(word: u64) -> i64 {
    #[allow(clippy::cast_possible_wrap, reason = "sign extension of the 30-bit field")]
    let x = ((word << 34) as i64) >> 34;
    x
}

const fn pack(tag: u64, net: i64) -> u64 {
    #[allow(clippy::cast_sign_loss, reason = "two's complement, truncated to the field")]
    let n = net as u64;
    TAG.place(tag) | NET.place(n)
}

/// Finagle's retry budget: retries may not exceed `min_retries_per_sec · ttl` plus
/// `retry_ratio` × the requests of the last `ttl`, lock-free, in `K` time buckets.
///
/// # Semantics
///
/// Amounts are in units where a retry costs 1000 and a request deposits
/// `retry_ratio_permille`; the reserve is `⌊min_retries_per_sec · ttl_ns · 1000 / 10⁹⌋` units.
/// Time is cut into epochs of `W = ttl / K`; each deposit and withdrawal is added to the bucket
/// of the budget's newest epoch `E = max(now / W, newest epoch seen)` and counts for the reads
/// and withdrawals of epochs `E ..= E + K − 1`, then expires (so a spent retry is given back
/// after `ttl`, as in Finagle's windowed token bucket).
///
/// - The balance at epoch `e` is `reserve + Σ nets of the buckets of epochs e − K + 1 ..= e`.
/// - [`try_withdraw`](Self::try_withdraw) succeeds iff the balance is at least 1000, and then
///   subtracts 1000. So **whenever a retry is granted, in the window of `K` buckets that ends at
///   its bucket, `1000 · retries ≤ reserve + retry_ratio_permille · requests`**: the rule, never
///   exceeded, under concurrency too. (A withdrawal outlives the older deposits that paid for
///   it, so later windows can hold a negative balance; they only refuse more.)
/// - A bucket's net saturates at `2²⁹ − 1` units on deposit (extra deposits are dropped: the
///   budget only gets stricter) and a withdrawal that would take it below `−2²⁹` is refused.
/// - A `now` earlier than the newest epoch is counted at the newest epoch (the window never moves
///   back).
/// - Buckets are tagged with their epoch modulo 2³³; after an idle gap of exactly a multiple of
///   2³³ buckets (27 years with 100 ms buckets), an old bucket could be read as current.
///
/// Under concurrency every deposit and withdrawal is one CAS on the newest bucket, which is
/// *sealed* (by a CAS) before the window moves past it, so older buckets never change while they
/// are summed: each successful operation, and each refusal (confirmed by a CAS of the unchanged
/// word), takes effect at one instant, in one total order (linearizable). Lock-free: a thread
/// that finds the newest bucket sealed moves the window on itself.
///
/// Differences with Finagle: Finagle's `ttl` must be 1–60 s and its reserve uses whole seconds
/// (`minRetriesPerSec · ttl.inSeconds`); here any `ttl` divisible by `K` and the exact reserve.
/// Finagle updates its `WindowedAdder` and checks the balance under a lock; here nothing locks.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, retry::{RatioBudget, RatioBudgetConfig}};
/// // No reserve, 1 retry per 2 requests, over 10 s in 10 buckets.
/// let b = RatioBudget::<10>::new(RatioBudgetConfig {
///     ttl: Nanos::from_secs(10),
///     min_retries_per_sec: 0,
///     retry_ratio_permille: 500,
/// })
/// .unwrap();
/// let t = Nanos::from_secs(1);
/// assert!(!b.try_withdraw(t));
/// b.deposit(t);
/// b.deposit(t);
/// assert!(b.try_withdraw(t));
/// assert!(!b.try_withdraw(t));
/// // Ten seconds later the deposits (and the withdrawal) have expired.
/// assert_eq!(b.balance(Nanos::from_secs(11)), 0);
/// ```
///
/// # Errors
///
/// [`new`](Self::new): [`ConfigError::ZeroDuration`] and [`ConfigError::DurationNotDivisible`] for
/// `ttl`; [`ConfigError::OutOfRange`] for a ratio above 10,000 per mille or a reserve
/// above 2²⁸ units.
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct RatioBudget<const K: usize> {
    bucket_ns: u64,
    deposit_units: i64,
    reserve: i64,
    /// One more than the newest epoch (0: none). Only grows.
    newest: CachePadded<AtomicU64>,
    /// Per bucket, `| sealed | tag | net |`.
    slots: [AtomicU64; K],
}

impl<const K: usize> RatioBudget<K> {
    /// Checked when `new` is instantiated: `K` must be in `1..=1024`.
    const VALID: () =
        assert!(K >= 1 && K <= MAX_K, "RatioBudget bucket count K must be in 1..=1024");

    loom_const_fn! {
        /// A budget holding only its reserve.
        ///
        /// # Errors
        ///
        /// See the type's documentation.
        #[allow(clippy::let_unit_value, reason = "evaluates the compile-time check")]
        pub fn new(config: RatioBudgetConfig) -> Result<Self, ConfigError> {
            let () = Self::VALID;
            let ttl = config.ttl.as_u64();
            let k = K as u64;
            if ttl == 0 {
                return Err(ConfigError::ZeroDuration { field: "ttl" });
            }
            if !ttl.is_multiple_of(k) {
                return Err(ConfigError::DurationNotDivisible { field: "ttl", duration_ns: ttl, divisor: k });
            }
            if config.retry_ratio_permille > 10_000 {
                return Err(ConfigError::OutOfRange { field: "retry_ratio_permille", min: 0, max: 10_000, got: config.retry_ratio_permille as u64 });
            }
            let reserve = config.min_retries_per_sec as u128 * ttl as u128 / 1_000_000;
            if reserve > RESERVE_MAX as u128 {
                let max = RESERVE_MAX as u128 * 1_000_000 / ttl as u128;
                #[allow(clippy::cast_possible_truncation, reason = "max < min_retries_per_sec: u32")]
                return Err(ConfigError::OutOfRange { field: "min_retries_per_sec", min: 0, max: max as u64, got: config.min_retries_per_sec as u64 });
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, reason = "<= 2^28")]
            let reserve = reserve as i64;
            Ok(RatioBudget {
                bucket_ns: ttl / k,
                deposit_units: config.retry_ratio_permille as i64,
                reserve,
                newest: CachePadded(AtomicU64::new(0)),
                slots: zeroed_array(),
            })
        }
    }

    /// The reserve in units (a retry costs 1000).
    #[must_use]
    pub const fn reserve_units(&self) -> i64 {
        self.reserve
    }

    /// The epoch of `now`; the last one is kept free so that `epoch + 1` never overflows.
    const fn epoch(&self, now: Nanos) -> u64 {
        let e = now.as_u64() / self.bucket_ns;
        if e == u64::MAX { u64::MAX - 1 } else { e }
    }

    fn slot(&self, epoch: u64) -> Option<&AtomicU64> {
        #[allow(clippy::cast_possible_truncation, reason = "epoch % K < K <= 1024")]
        self.slots.get((epoch % K as u64) as usize)
    }

    /// Records a request: deposits `retry_ratio_permille` units. Lock-free.
    pub fn deposit(&self, now: Nanos) {
        if self.deposit_units > 0 {
            self.apply(now, self.deposit_units, false);
        }
    }

    /// Withdraws one retry if the balance allows it; returns whether it did. Lock-free.
    pub fn try_withdraw(&self, now: Nanos) -> bool {
        self.apply(now, -COST, true)
    }

    /// Whole retries the balance allows at `now` (0 when it is below one retry). Wait-free:
    /// `K + 1` loads, no write; a snapshot that concurrent operations may change at once.
    #[must_use]
    pub fn balance(&self, now: Nanos) -> u64 {
        let units = self.balance_units(now);
        #[allow(clippy::cast_sign_loss, reason = "positive after the comparison")]
        if units <= 0 { 0 } else { (units / COST) as u64 }
    }

    /// The balance at `now` in units (can be negative only transiently: never after a
    /// withdrawal).
    #[must_use]
    pub fn balance_units(&self, now: Nanos) -> i64 {
        // Acquire: pairs with the AcqRel CAS that moved `newest`, so the seals (and final nets)
        // of the buckets it moved past are visible.
        let n1 = self.newest.load(Ordering::Acquire);
        let e = if n1 == 0 { self.epoch(now) } else { self.epoch(now).max(n1 - 1) };
        let mut sum = self.reserve;
        for back in 0..K as u64 {
            if back > e {
                break;
            }
            sum = sum.saturating_add(self.net_at(e - back));
        }
        sum
    }

    /// The net of the bucket of `epoch`, 0 if the slot holds another epoch.
    fn net_at(&self, epoch: u64) -> i64 {
        let Some(slot) = self.slot(epoch) else { return 0 };
        let w = slot.load(Ordering::Acquire);
        if TAG.get(w) == tag_of(epoch) && w != 0 { net_of(w) } else { 0 }
    }

    /// Whether the window has moved past `epoch` (its newest epoch is later). While it has not,
    /// no later epoch can own a slot, so a slot whose tag is not `epoch`'s holds expired data,
    /// however its tag compares (tags wrap after 2³³ epochs).
    fn moved_past(&self, epoch: u64) -> bool {
        // Acquire: as in `balance_units`.
        self.newest.load(Ordering::Acquire) != epoch + 1
    }

    /// Moves the newest epoch to at least `now`'s, sealing the bucket it moves past; returns the
    /// newest epoch.
    fn advance(&self, now: Nanos) -> u64 {
        let target = self.epoch(now);
        // Acquire on load and on failure: see `balance_units`.
        let mut n1 = self.newest.load(Ordering::Acquire);
        loop {
            if n1 > target {
                return n1 - 1;
            }
            if n1 != 0 {
                self.seal(n1 - 1);
            }
            // AcqRel: releases the seal above to every thread that acquires the new `newest`.
            match self.newest.compare_exchange(n1, target + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return target,
                Err(actual) => n1 = actual,
            }
        }
    }

    /// Seals the bucket of `epoch` (the newest until now): no write lands in it afterwards. A
    /// slot still holding an older epoch is sealed as an empty bucket of `epoch`, so that a late
    /// first writer of `epoch` cannot open it.
    fn seal(&self, epoch: u64) {
        let Some(slot) = self.slot(epoch) else { return };
        let tag = tag_of(epoch);
        let mut cur = slot.load(Ordering::Acquire);
        loop {
            let t = TAG.get(cur);
            let sealed = if t == tag && cur != 0 {
                if cur & SEALED != 0 {
                    return;
                }
                cur | SEALED
            } else if cur == 0 || is_older(t, tag) || t == tag || !self.moved_past(epoch) {
                SEALED | pack(tag, 0)
            } else {
                return; // a newer epoch already owns the slot: not ours to seal
            };
            // AcqRel: the seal is ordered before the CAS on `newest` that follows it (Release),
            // and after the last write to the bucket (Acquire).
            match slot.compare_exchange(cur, sealed, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Adds `delta` to the newest bucket; if `check`, only when the balance is at least `-delta`.
    /// Returns whether it was added (deposits always return `true`, saturating).
    fn apply(&self, now: Nanos, delta: i64, check: bool) -> bool {
        loop {
            let e = self.advance(now);
            let Some(slot) = self.slot(e) else { return false };
            let tag = tag_of(e);
            let cur = slot.load(Ordering::Acquire);
            let t = TAG.get(cur);
            let base = if t == tag && cur != 0 {
                if cur & SEALED != 0 {
                    // The window is moving past `e`; help it along (lock-free: the mover may be
                    // stalled between its seal and its CAS on `newest`).
                    let _ = self.newest.compare_exchange(
                        e + 1,
                        e.saturating_add(2),
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    continue;
                }
                net_of(cur)
            } else if cur == 0 || is_older(t, tag) || !self.moved_past(e) {
                0 // first write of epoch `e`: the slot's old contents expired
            } else {
                continue; // a newer epoch owns the slot: the window moved, start again
            };
            let mut next = base.saturating_add(delta);
            if check {
                let mut older = self.reserve;
                for back in 1..K as u64 {
                    if back > e {
                        break;
                    }
                    older = older.saturating_add(self.net_at(e - back));
                }
                if older.saturating_add(next) < 0 || next < NET_MIN {
                    // Refusal: confirm the bucket is unchanged with an RMW, so the refusal is
                    // decided on the latest value (linearizable; a plain load could be stale).
                    match slot.compare_exchange(cur, cur, Ordering::AcqRel, Ordering::Acquire) {
                        Ok(_) => return false,
                        Err(_) => continue,
                    }
                }
            } else if next > NET_MAX {
                next = NET_MAX;
                if base == NET_MAX {
                    return true; // saturated: nothing to write
                }
            }
            // AcqRel: Acquire orders the reads of the (sealed) older buckets before this CAS; a
            // failed CAS means the bucket changed (a write or a seal): start again.
            if slot
                .compare_exchange(cur, pack(tag, next), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return true;
            }
        }
    }
}

impl<const K: usize> RetryBudget for RatioBudget<K> {
    fn record_request(&self, now: Nanos) {
        self.deposit(now);
    }
    fn record_success(&self, _now: Nanos) {}
    fn record_failure(&self, wants_retry: bool, now: Nanos) -> bool {
        wants_retry && self.try_withdraw(now)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn secs(n: u64) -> Nanos {
        Nanos::from_secs(n)
    }

    /// The sequence of gRPC core's `ServerRetryThrottleData.Basic` test, token by token.
    #[test]
    fn grpc_throttle_matches_grpc_core_test() {
        let t =
            RetryThrottle::new(ThrottleConfig { max_tokens: 4, token_ratio_milli: 1_600 }).unwrap();
        assert_eq!(t.threshold_milli(), 2_000);
        assert!(t.record_failure()); // 3
        t.record_success(); // 4, not beyond max
        assert_eq!(t.milli_tokens(), 4_000);
        assert!(t.record_failure()); // 3
        assert!(!t.record_failure()); // 2: at threshold
        assert!(!t.record_failure()); // 1
        assert!(!t.record_failure()); // 0
        assert!(!t.record_failure()); // 0: not below min
        assert_eq!(t.milli_tokens(), 0);
        t.record_success(); // 1.6
        t.record_success(); // 3.2
        assert_eq!(t.milli_tokens(), 3_200);
        assert!(t.record_failure()); // 2.2
        assert!(!t.record_failure()); // 1.2
        t.record_success(); // 2.8
        assert!(!t.record_failure()); // 1.8
        t.record_success(); // 3.4
        assert!(t.is_retry_allowed());
        assert!(t.record_failure()); // 2.4
        assert_eq!(t.milli_tokens(), 2_400);
    }

    #[test]
    fn grpc_throttle_odd_max_and_config_errors() {
        // max 3: threshold 1.5; 2 > 1.5 allows, 1 does not.
        let t =
            RetryThrottle::new(ThrottleConfig { max_tokens: 3, token_ratio_milli: 100 }).unwrap();
        assert!(t.record_failure());
        assert!(!t.record_failure());
        assert_eq!(
            RetryThrottle::new(ThrottleConfig { max_tokens: 0, token_ratio_milli: 1 }).unwrap_err(),
            ConfigError::ZeroCount { field: "max_tokens" }
        );
        assert_eq!(
            RetryThrottle::new(ThrottleConfig { max_tokens: 1, token_ratio_milli: 0 }).unwrap_err(),
            ConfigError::ZeroCount { field: "token_ratio_milli" }
        );
        let big = RetryThrottle::new(ThrottleConfig {
            max_tokens: u32::MAX,
            token_ratio_milli: u32::MAX,
        })
        .unwrap();
        big.record_success();
        assert_eq!(big.milli_tokens(), u64::from(u32::MAX) * 1_000);
    }

    #[test]
    fn ratio_budget_config_errors() {
        let c = RatioBudgetConfig::DEFAULT;
        assert_eq!(
            RatioBudget::<10>::new(RatioBudgetConfig { ttl: Nanos::ZERO, ..c }).unwrap_err(),
            ConfigError::ZeroDuration { field: "ttl" }
        );
        assert_eq!(
            RatioBudget::<3>::new(RatioBudgetConfig { ttl: Nanos::new(10), ..c }).unwrap_err(),
            ConfigError::DurationNotDivisible { field: "ttl", duration_ns: 10, divisor: 3 }
        );
        assert_eq!(
            RatioBudget::<10>::new(RatioBudgetConfig { retry_ratio_permille: 10_001, ..c })
                .unwrap_err(),
            ConfigError::OutOfRange {
                field: "retry_ratio_permille",
                min: 0,
                max: 10_000,
                got: 10_001
            }
        );
        assert_eq!(
            RatioBudget::<10>::new(RatioBudgetConfig { min_retries_per_sec: u32::MAX, ..c })
                .unwrap_err(),
            ConfigError::OutOfRange {
                field: "min_retries_per_sec",
                min: 0,
                max: 26_843,
                got: u64::from(u32::MAX)
            }
        );
        // Finagle's defaults: reserve 10/s · 10 s = 100 retries.
        let b = RatioBudget::<10>::new(c).unwrap();
        assert_eq!(b.reserve_units(), 100_000);
        assert_eq!(b.balance(Nanos::ZERO), 100);
    }

    #[test]
    fn ratio_budget_reserve_then_ratio_then_expiry() {
        // ttl 10 s in 10 buckets, reserve 1 retry per second = 10, 20 %.
        let b = RatioBudget::<10>::new(RatioBudgetConfig {
            ttl: secs(10),
            min_retries_per_sec: 1,
            retry_ratio_permille: 200,
        })
        .unwrap();
        let t = secs(100);
        for _ in 0..10 {
            assert!(b.try_withdraw(t));
        }
        assert!(!b.try_withdraw(t), "reserve spent");
        for _ in 0..4 {
            b.deposit(t);
        }
        assert!(!b.try_withdraw(t), "4 requests at 20 % are 0.8 retries");
        b.deposit(t);
        assert!(b.try_withdraw(t), "5 requests at 20 % are 1 retry");
        assert!(!b.try_withdraw(t));
        // The reserve spent at 100 s comes back when those withdrawals expire, at 110 s; the
        // deposits (and the ratio withdrawal) made at 100 s expire at the same instant.
        assert_eq!(b.balance(secs(110).saturating_sub(Nanos::new(1))), 0);
        assert_eq!(b.balance(secs(110)), 10);
    }

    #[test]
    fn ratio_budget_window_boundary_is_exact() {
        let b = RatioBudget::<4>::new(RatioBudgetConfig {
            ttl: Nanos::new(400),
            min_retries_per_sec: 0,
            retry_ratio_permille: 1_000,
        })
        .unwrap();
        b.deposit(Nanos::new(250)); // epoch 2
        assert_eq!(b.balance(Nanos::new(599)), 1); // epochs 2..=5
        assert_eq!(b.balance(Nanos::new(600)), 0); // epoch 6: expired
        // A late deposit is counted at the newest epoch.
        let c = RatioBudget::<4>::new(RatioBudgetConfig {
            ttl: Nanos::new(400),
            min_retries_per_sec: 0,
            retry_ratio_permille: 1_000,
        })
        .unwrap();
        c.deposit(Nanos::new(1_000)); // epoch 10
        c.deposit(Nanos::new(0)); // late: counted at epoch 10
        assert_eq!(c.balance(Nanos::new(1_399)), 2);
        assert_eq!(c.balance(Nanos::new(1_400)), 0);
        // A withdrawal is given back when it expires.
        assert!(c.try_withdraw(Nanos::new(1_300)));
        assert!(c.try_withdraw(Nanos::new(1_300)));
        assert!(!c.try_withdraw(Nanos::new(1_300)));
        c.deposit(Nanos::new(1_300)); // epoch 13
        assert_eq!(c.balance(Nanos::new(1_399)), 1);
        // Epoch 14: the deposits of epoch 10 expired, the withdrawals of epoch 13 did not.
        assert_eq!(c.balance_units(Nanos::new(1_400)), -1_000);
        assert!(!c.try_withdraw(Nanos::new(1_400)));
        assert_eq!(c.balance_units(Nanos::new(1_700)), 0);
    }

    #[test]
    fn ratio_budget_saturates_deposits_and_survives_end_of_clock() {
        let b = RatioBudget::<1>::new(RatioBudgetConfig {
            ttl: Nanos::new(1),
            min_retries_per_sec: 0,
            retry_ratio_permille: 10_000,
        })
        .unwrap();
        // Force the bucket near its maximum, then deposit: it saturates, never wraps.
        b.deposit(Nanos::ZERO);
        b.slots[0].store(pack(0, NET_MAX - 1), Ordering::Relaxed);
        b.deposit(Nanos::ZERO);
        b.deposit(Nanos::ZERO);
        assert_eq!(b.balance_units(Nanos::ZERO), NET_MAX);
        b.deposit(Nanos::MAX);
        assert_eq!(b.balance(Nanos::MAX), 10);
        assert!(b.try_withdraw(Nanos::MAX));
        assert_eq!(b.balance(Nanos::MAX), 9);
    }

    #[test]
    fn net_field_round_trips_signed_values() {
        for n in [0, 1, -1, NET_MAX, NET_MIN, 12_345, -12_345] {
            let w = pack(tag_of(u64::MAX), n);
            assert_eq!(net_of(w), n);
            assert_eq!(TAG.get(w), tag_of(u64::MAX));
            assert_eq!(net_of(w | SEALED), n);
        }
        assert!(is_older(5, 6) && !is_older(6, 5) && !is_older(6, 6));
        assert!(is_older(TAG.max(), 0), "modular: the tag before 0 is the last one");
    }
}
