//! Circuit-breaker hot paths beside the raw atomic operations they are built on and two peer
//! crates, all in the same run.
//!
//! Every benchmark is in the criterion group `breaker`, with ids `<subject>/<operation>/<T>t`
//! (the rule at the top of `scripts/bench-report.py`):
//!
//! | id | measures | second thread (`2t`) |
//! |---|---|---|
//! | `baseline/fetch_add` | a relaxed `AtomicU64::fetch_add` | the same, on the same word |
//! | `baseline/cas_loop` | a compare-and-swap loop bumping a field of a packed word | the same, on the same word |
//! | `baseline/load_under_writer/2t` | an acquire load of a word | keeps `fetch_add`ing the word |
//! | `closed/try_acquire` | admission on a closed `CountBreaker<64>`, `now` supplied (no clock read) | guarded calls (admit + record success) on the same breaker |
//! | `open/try_acquire/1t` | rejection by a breaker opened by a failure, `now` supplied | - |
//! | `forced_open/try_acquire/1t` | rejection by a forced-open breaker | - |
//! | `closed/record/1t` | `Permit::record(Success)` (the admission is in criterion's untimed set-up) | - |
//! | `closed/guarded_call` | `try_acquire` then `Permit::record(Success)` | the same, on the same breaker |
//! | `failsafe/guarded_call` | `failsafe` 1.3: `CircuitBreaker::call` of a closure returning `Ok` on `failsafe::Config::new().build()` | the same, on the same breaker |
//! | `recloser/guarded_call` | `recloser` 1.4: `Recloser::call` of a closure returning `Ok` on `Recloser::default()` | the same, on the same breaker |
//!
//! The 2-thread variants time the main thread's loop while the second thread runs its operation
//! until the measurement ends.
//!
//! Run (a short check, not a measurement):
//!
//! ```text
//! cargo bench -p portcullis-benches --bench breaker -- --quick
//! ```
#![allow(clippy::disallowed_types, reason = "the raw atomic baselines name the atomics directly")]
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use core::hint::black_box;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::thread;
use std::time::Instant;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use failsafe::CircuitBreaker as _;
use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, CountBreaker};
use portcullis::window::Outcome;

const NOW: Nanos = Nanos::from_secs(1);

/// A breaker that never trips on the outcomes benchmarked here.
fn closed_breaker() -> CountBreaker<64> {
    CountBreaker::new(BreakerConfig { consecutive_failures: Some(1), ..BreakerConfig::DEFAULT })
        .unwrap_or_else(|e| panic!("bench config: {e}"))
}

/// Times `iters` runs of `op` on this thread while `background` runs in a loop on a second
/// thread, from before the timing starts (the main thread waits for its first run) until it ends.
fn with_background(iters: u64, op: impl Fn(), background: impl Fn() + Sync) -> Duration {
    let started = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            background();
            started.store(true, Ordering::Release);
            while !stop.load(Ordering::Relaxed) {
                background();
            }
        });
        while !started.load(Ordering::Acquire) {
            core::hint::spin_loop();
        }
        let start = Instant::now();
        for _ in 0..iters {
            op();
        }
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        elapsed
    })
}

/// A packed word's field bumped by a CAS loop, as a breaker's state word would be.
fn cas_bump(word: &AtomicU64) {
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        let next = (cur & !0xFFFF) | ((cur + 1) & 0xFFFF);
        match word.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

fn baselines(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker");
    let word = AtomicU64::new(0);
    g.bench_function("baseline/fetch_add/1t", |b| b.iter(|| word.fetch_add(1, Ordering::Relaxed)));
    g.bench_function("baseline/fetch_add/2t", |b| {
        b.iter_custom(|iters| {
            with_background(
                iters,
                || {
                    word.fetch_add(1, Ordering::Relaxed);
                },
                || {
                    word.fetch_add(1, Ordering::Relaxed);
                },
            )
        });
    });
    g.bench_function("baseline/cas_loop/1t", |b| b.iter(|| cas_bump(&word)));
    g.bench_function("baseline/cas_loop/2t", |b| {
        b.iter_custom(|iters| with_background(iters, || cas_bump(&word), || cas_bump(&word)));
    });
    g.bench_function("baseline/load_under_writer/2t", |b| {
        b.iter_custom(|iters| {
            with_background(
                iters,
                || {
                    black_box(word.load(Ordering::Acquire));
                },
                || {
                    word.fetch_add(1, Ordering::Relaxed);
                },
            )
        });
    });
    g.finish();
}

fn breaker(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker");

    let closed = closed_breaker();
    g.bench_function("closed/try_acquire/1t", |b| {
        b.iter(|| black_box(closed.try_acquire(black_box(NOW))).is_ok());
    });
    g.bench_function("closed/try_acquire/2t", |b| {
        b.iter_custom(|iters| {
            with_background(
                iters,
                || {
                    black_box(black_box(&closed).try_acquire(NOW).is_ok());
                },
                || {
                    if let Ok(p) = closed.try_acquire(NOW) {
                        let _ = p.record(Outcome::Success, NOW);
                    }
                },
            )
        });
    });

    let open = closed_breaker();
    let _ = open.force_open();
    let tripped = closed_breaker();
    if let Ok(p) = tripped.try_acquire(NOW) {
        let _ = p.record(Outcome::Failure, NOW);
    }
    g.bench_function("open/try_acquire/1t", |b| {
        b.iter(|| black_box(tripped.try_acquire(black_box(NOW))).is_err());
    });
    g.bench_function("forced_open/try_acquire/1t", |b| {
        b.iter(|| black_box(open.try_acquire(black_box(NOW))).is_err());
    });

    g.bench_function("closed/record/1t", |b| {
        b.iter_batched(
            || closed.try_acquire(NOW),
            |p| p.map(|p| p.record(Outcome::Success, NOW)),
            BatchSize::SmallInput,
        );
    });

    let guarded = |b: &CountBreaker<64>| {
        if let Ok(p) = b.try_acquire(NOW) {
            let _ = black_box(p.record(Outcome::Success, NOW));
        }
    };
    g.bench_function("closed/guarded_call/1t", |b| b.iter(|| guarded(&closed)));
    g.bench_function("closed/guarded_call/2t", |b| {
        b.iter_custom(|iters| with_background(iters, || guarded(&closed), || guarded(&closed)));
    });
    g.finish();
}

fn peers(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker");
    let failsafe = failsafe::Config::new().build();
    let failsafe_call = || {
        black_box(failsafe.call(|| Ok::<u32, ()>(black_box(1))).is_ok());
    };
    g.bench_function("failsafe/guarded_call/1t", |b| b.iter(failsafe_call));
    g.bench_function("failsafe/guarded_call/2t", |b| {
        b.iter_custom(|iters| with_background(iters, failsafe_call, failsafe_call));
    });

    let recloser = recloser::Recloser::default();
    let recloser_call = || {
        black_box(recloser.call(|| Ok::<u32, ()>(black_box(1))).is_ok());
    };
    g.bench_function("recloser/guarded_call/1t", |b| b.iter(recloser_call));
    g.bench_function("recloser/guarded_call/2t", |b| {
        b.iter_custom(|iters| with_background(iters, recloser_call, recloser_call));
    });
    g.finish();
}

criterion_group!(benches, baselines, breaker, peers);
criterion_main!(benches);
