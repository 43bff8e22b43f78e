//! Retry decisions and retry-budget operations beside the raw atomic operations they are built
//! on, in one criterion group `retry` so that the ratios come from the same run.
//!
//! Ids are `<subject>/<operation>/<T>t` (the rule at the top of `scripts/bench-report.py`). `1t`
//! runs on the measuring thread alone; `2t` while a second thread runs the same operation on the
//! same object for the whole timed interval, `<operation>_separate/2t` while it does so on an
//! object of its own, on cache lines of its own (`portcullis_benches::measure`, which pins the two
//! threads to two CPUs).
//!
//! | id | measures | second thread (`2t`) |
//! |---|---|---|
//! | `baseline/fetch_add` | a relaxed `AtomicU64::fetch_add` | the same, same word |
//! | `baseline/fetch_add_separate/2t` | the same on a word on a cache line of its own | the same, on another such word |
//! | `baseline/cas_loop/1t` | a `compare_exchange_weak` loop incrementing a word (one success) | - |
//! | `policy/decide` | the retry decision: `RetryState::decide` on a copy of a call four retries in (exponential backoff, full jitter), the `RetryPolicy` read through `black_box` so that every decision loads it | the same decision with the same policy: both threads only read it (read sharing) |
//! | `policy/decide_separate/2t` | as `policy/decide` | the same with a policy of its own |
//! | `throttle/record_failure` | gRPC retry throttling: `record_success` then `record_failure` (the budget's retry decision) | the same, same throttle |
//! | `throttle/record_failure_separate/2t` | as `throttle/record_failure` | the same on a throttle of its own |
//! | `ratio/deposit_withdraw` | Finagle ratio budget: a deposit (a request) then a withdrawal (a retry) | the same, same budget |
//! | `ratio/deposit_withdraw_separate/2t` | as `ratio/deposit_withdraw` | the same on a budget of its own |
//!
//! Check quickly with
//! `cargo bench -p portcullis-benches --bench retry -- --warm-up-time 0.2 --measurement-time 0.5`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::retry::{
    Backoff, ErrorClass, Jitter, RatioBudget, RatioBudgetConfig, RetryConfig, RetryPolicy,
    RetryState, RetryThrottle, ThrottleConfig,
};
use portcullis_benches::{Group, Padded, Threads};

/// The time of every budget operation.
const NOW: Nanos = Nanos::from_secs(1);

fn cas_increment(a: &AtomicU64) {
    let mut cur = a.load(Ordering::Relaxed);
    loop {
        match a.compare_exchange_weak(cur, cur + 1, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

fn retry(c: &mut Criterion) {
    let mut g = Group::new(c, "retry");

    // Every `Threads` loop below: with `Threads::Two` the second thread works on the measured
    // object; with `Threads::TwoSeparate` on one of its own (`own`), each in a `Padded`.
    g.fetch_add_baselines();
    let word = Padded(AtomicU64::new(0));
    g.bench_function("baseline/cas_loop/1t", |b| b.iter(|| cas_increment(black_box(&word))));

    // A retry decision: exponential backoff with full jitter, from a call four retries in. Each
    // decision starts from a copy of that call's state (read only, shared by both threads).
    let config = RetryConfig {
        max_attempts: 10,
        backoff: Backoff::Exponential { multiplier_permille: 2_000 },
        jitter: Jitter::Full,
        ..RetryConfig::DEFAULT
    };
    let new_policy = || RetryPolicy::new(config).expect("valid config");
    let mut call = RetryState::new(&new_policy(), Nanos::ZERO, 7);
    for _ in 0..4 {
        let _ = call.decide(&new_policy(), ErrorClass::Retryable, Nanos::ZERO);
    }
    let call = Padded(call);
    let decide = |policy: &RetryPolicy| {
        let mut s = black_box(*call);
        let _ = black_box(s.decide(
            black_box(policy),
            black_box(ErrorClass::Retryable),
            Nanos::from_millis(1),
        ));
    };
    for threads in Threads::WITH_SEPARATE {
        let (policy, own) = (Padded(new_policy()), Padded(new_policy()));
        let theirs = threads.object(&policy, &own);
        g.bench(threads, "policy/decide", || decide(&policy), || decide(theirs));
    }

    // gRPC throttling: a success, then a failure (the retry decision of the budget).
    let throttle_op = |t: &RetryThrottle| {
        t.record_success();
        black_box(t.record_failure());
    };
    for threads in Threads::WITH_SEPARATE {
        let new_throttle = || RetryThrottle::new(ThrottleConfig::DEFAULT).expect("valid config");
        let (throttle, own) = (Padded(new_throttle()), Padded(new_throttle()));
        let theirs = threads.object(&throttle, &own);
        g.bench(
            threads,
            "throttle/record_failure",
            || throttle_op(&throttle),
            || throttle_op(theirs),
        );
    }

    // Finagle ratio budget: a deposit (a request) and a withdrawal (a retry), one ratio each.
    let ratio_op = |r: &RatioBudget<10>| {
        r.deposit(NOW);
        black_box(r.try_withdraw(NOW));
    };
    for threads in Threads::WITH_SEPARATE {
        let new_ratio = || {
            RatioBudget::<10>::new(RatioBudgetConfig {
                retry_ratio_permille: 1_000,
                ..RatioBudgetConfig::DEFAULT
            })
            .expect("valid config")
        };
        let (ratio, own) = (Padded(new_ratio()), Padded(new_ratio()));
        let theirs = threads.object(&ratio, &own);
        g.bench(threads, "ratio/deposit_withdraw", || ratio_op(&ratio), || ratio_op(theirs));
    }
    g.finish();
}

criterion_group!(benches, retry);
criterion_main!(benches);
