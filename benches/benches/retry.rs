//! Retry decisions and retry-budget operations against the raw atomic operations they are built
//! on, in one criterion group so that the ratios come from the same run.
//!
//! IDs: `retry/baseline/<op>/<threads>` for the raw atomics, `retry/<thing>/<op>/<threads>` for
//! portcullis. `2t` means a second thread hammers the same object in the background while the
//! measured thread runs. Check quickly with
//! `cargo bench -p portcullis-benches --bench retry -- --warm-up-time 0.2 --measurement-time 0.5`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::retry::{
    Backoff, ErrorClass, Jitter, RatioBudget, RatioBudgetConfig, RetryConfig, RetryPolicy,
    RetryState, RetryThrottle, ThrottleConfig,
};
use portcullis_benches::{Group, Threads};

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

    let word = AtomicU64::new(0);
    g.bench_function("baseline/fetch_add/1t", |b| {
        b.iter(|| black_box(word.fetch_add(1, Ordering::Relaxed)));
    });
    g.bench_function("baseline/cas_loop/1t", |b| b.iter(|| cas_increment(black_box(&word))));
    g.bench(
        Threads::Two,
        "baseline/fetch_add",
        || {
            black_box(word.fetch_add(1, Ordering::Relaxed));
        },
        || {
            word.fetch_add(1, Ordering::Relaxed);
        },
    );

    // A retry decision: exponential backoff with full jitter, from a call four retries in.
    let policy = RetryPolicy::new(RetryConfig {
        max_attempts: 10,
        backoff: Backoff::Exponential { multiplier_permille: 2_000 },
        jitter: Jitter::Full,
        ..RetryConfig::DEFAULT
    })
    .expect("valid config");
    let mut call = RetryState::new(&policy, Nanos::ZERO, 7);
    for _ in 0..4 {
        let _ = call.decide(&policy, ErrorClass::Retryable, Nanos::ZERO);
    }
    g.bench_function("policy/decide/1t", |b| {
        b.iter(|| {
            let mut s = black_box(call);
            black_box(s.decide(&policy, black_box(ErrorClass::Retryable), Nanos::from_millis(1)))
        });
    });

    // gRPC throttling: a failure (the retry decision of the budget) and a success.
    let throttle = RetryThrottle::new(ThrottleConfig::DEFAULT).expect("valid config");
    g.bench_function("throttle/record_failure/1t", |b| {
        b.iter(|| {
            throttle.record_success();
            black_box(throttle.record_failure())
        });
    });
    g.bench(
        Threads::Two,
        "throttle/record_failure",
        || {
            throttle.record_success();
            black_box(throttle.record_failure());
        },
        || {
            throttle.record_success();
            throttle.record_failure();
        },
    );

    // Finagle ratio budget: a deposit (a request) and a withdrawal (a retry), one ratio each.
    let ratio = RatioBudget::<10>::new(RatioBudgetConfig {
        retry_ratio_permille: 1_000,
        ..RatioBudgetConfig::DEFAULT
    })
    .expect("valid config");
    let now = Nanos::from_secs(1);
    g.bench_function("ratio/deposit_withdraw/1t", |b| {
        b.iter(|| {
            ratio.deposit(now);
            black_box(ratio.try_withdraw(now))
        });
    });
    g.bench(
        Threads::Two,
        "ratio/deposit_withdraw",
        || {
            ratio.deposit(now);
            black_box(ratio.try_withdraw(now));
        },
        || {
            ratio.deposit(now);
            ratio.try_withdraw(now);
        },
    );
    g.finish();
}

criterion_group!(benches, retry);
criterion_main!(benches);
