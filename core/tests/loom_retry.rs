//! loom models of the retry budgets: two threads never withdraw more than the rule allows.
//!
//! Run (27 s cold on 2 shared cores, almost all of it the release build; the five models take
//! 0.01 s in all, 22 to 93 iterations each at `LOOM_MAX_PREEMPTIONS=2`, counted with
//! `LOOM_LOG=info`):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_retry`
#![cfg(loom)]

use loom::thread;
use portcullis::Nanos;
use portcullis::retry::{RatioBudget, RatioBudgetConfig, RetryThrottle, ThrottleConfig};
use std::sync::Arc;

/// A ratio budget of 2 buckets of 10 ns whose reserve is exactly one retry (50 M retries per
/// second over a 20 ns ttl: 50e6 · 20 · 1000 / 1e9 = 1000 units) and `ratio` per mille.
fn one_retry_budget(ratio: u32) -> RatioBudget<2> {
    RatioBudget::<2>::new(RatioBudgetConfig {
        ttl: Nanos::new(20),
        min_retries_per_sec: 50_000_000,
        retry_ratio_permille: ratio,
    })
    .unwrap()
}

/// gRPC throttling, 3 tokens (threshold 1.5): of two racing failures exactly one is told to
/// retry (3 → 2 > 1.5, then 2 → 1), and the count ends at 1 token; a concurrent reader always sees
/// a count in range.
#[test]
fn throttle_two_failures_exactly_one_retry() {
    loom::model(|| {
        let t = Arc::new(
            RetryThrottle::new(ThrottleConfig { max_tokens: 3, token_ratio_milli: 100 }).unwrap(),
        );
        let (ta, tb) = (Arc::clone(&t), Arc::clone(&t));
        let a = thread::spawn(move || ta.record_failure());
        let b = thread::spawn(move || tb.record_failure());
        let seen = t.milli_tokens();
        assert!((1_000..=3_000).contains(&seen), "{seen}");
        let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
        assert!(ra ^ rb, "exactly one retry: {ra} {rb}");
        assert_eq!(t.milli_tokens(), 1_000);
    });
}

/// Two threads withdraw in the same bucket from a reserve of one retry: exactly one succeeds.
#[test]
fn ratio_budget_two_withdrawers_one_retry() {
    loom::model(|| {
        let b = Arc::new(one_retry_budget(0));
        let (ba, bb) = (Arc::clone(&b), Arc::clone(&b));
        let a = thread::spawn(move || ba.try_withdraw(Nanos::new(5)));
        let c = thread::spawn(move || bb.try_withdraw(Nanos::new(5)));
        let (ra, rc) = (a.join().unwrap(), c.join().unwrap());
        assert!(ra ^ rc, "exactly one retry: {ra} {rc}");
        assert_eq!(b.balance_units(Nanos::new(5)), 0);
    });
}

/// The racy case the sealing exists for: A withdraws in epoch 0 while B withdraws in epoch 1,
/// moving the window (and sealing bucket 0). Both epochs are in one window of 2 buckets, whose
/// reserve is one retry: exactly one may succeed, whatever the interleaving, and a reader at
/// epoch 1 never sees a negative balance.
#[test]
fn ratio_budget_withdrawals_across_a_bucket_boundary() {
    loom::model(|| {
        let b = Arc::new(one_retry_budget(0));
        let (ba, bb) = (Arc::clone(&b), Arc::clone(&b));
        let a = thread::spawn(move || ba.try_withdraw(Nanos::new(5)));
        let c = thread::spawn(move || bb.try_withdraw(Nanos::new(15)));
        let seen = b.balance_units(Nanos::new(15));
        assert!(seen == 0 || seen == 1_000, "{seen}");
        let (ra, rc) = (a.join().unwrap(), c.join().unwrap());
        assert!(ra ^ rc, "exactly one retry in the window: {ra} {rc}");
        assert_eq!(b.balance_units(Nanos::new(15)), 0);
    });
}

/// A deposit in epoch 1 races a withdrawal in epoch 0 with no reserve: the withdrawal succeeds
/// only if it is ordered after the deposit (then both land in epoch 1's window), and the final
/// balance always equals the deposits minus the withdrawals.
#[test]
fn ratio_budget_deposit_races_a_withdrawal() {
    loom::model(|| {
        let b = Arc::new(
            RatioBudget::<2>::new(RatioBudgetConfig {
                ttl: Nanos::new(20),
                min_retries_per_sec: 0,
                retry_ratio_permille: 1_000,
            })
            .unwrap(),
        );
        let (ba, bb) = (Arc::clone(&b), Arc::clone(&b));
        let a = thread::spawn(move || ba.deposit(Nanos::new(15)));
        let c = thread::spawn(move || bb.try_withdraw(Nanos::new(5)));
        a.join().unwrap();
        let withdrew = c.join().unwrap();
        let expected = if withdrew { 0 } else { 1_000 };
        assert_eq!(b.balance_units(Nanos::new(15)), expected);
    });
}

/// A withdrawal in epoch 0 races one in epoch 2, which moves the window past epoch 0 (expired
/// there: the window of epoch 2 is {1, 2}). If A lands in epoch 0, both succeed (A's retry no
/// longer counts at epoch 2); if A arrives after the move, it is counted at epoch 2 and only one
/// of them succeeds. Either way at least one succeeds and the balance at epoch 2 ends at exactly
/// 0: never two withdrawals in one window funded by a reserve of one.
#[test]
fn ratio_budget_withdrawal_races_a_jump_past_its_bucket() {
    loom::model(|| {
        let b = Arc::new(one_retry_budget(0));
        let (ba, bb) = (Arc::clone(&b), Arc::clone(&b));
        let a = thread::spawn(move || ba.try_withdraw(Nanos::new(5)));
        let c = thread::spawn(move || bb.try_withdraw(Nanos::new(25)));
        let (ra, rc) = (a.join().unwrap(), c.join().unwrap());
        assert!(ra || rc);
        assert_eq!(b.balance_units(Nanos::new(25)), 0);
    });
}
