//! Circuit-breaker hot paths beside the raw atomic operations they are built on and two peer
//! crates, all in the same run.
//!
//! Groups (each at 1 thread, and at 2 threads where a second thread changes the picture):
//!
//! - `baseline`: a relaxed `AtomicU64::fetch_add`; a compare-and-swap loop that bumps a field of
//!   a packed word; an acquire load of a word another thread keeps writing.
//! - `breaker`: closed admission (`try_acquire` on a closed breaker), open rejection
//!   (`try_acquire` on an open breaker, `now` supplied), recording a success, and a guarded call
//!   (`try_acquire` then `Permit::record(Success)`).
//! - `peers`: the equivalent guarded call of `failsafe` 1.3 (`CircuitBreaker::call` on a
//!   `failsafe::Config::new().build()` state machine) and of `recloser` 1.4
//!   (`Recloser::call` on `Recloser::default()`).
//!
//! The 2-thread variants time the main thread's loop while a second thread runs the same
//! operation on the same object (for closed admission: records successes into it; for the load
//! baseline: `fetch_add`s the word) until the measurement ends.
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
    let mut g = c.benchmark_group("baseline");
    let word = AtomicU64::new(0);
    g.bench_function("fetch_add/1", |b| b.iter(|| word.fetch_add(1, Ordering::Relaxed)));
    g.bench_function("cas_loop/1", |b| b.iter(|| cas_bump(&word)));
    g.bench_function("cas_loop/2", |b| {
        b.iter_custom(|iters| with_background(iters, || cas_bump(&word), || cas_bump(&word)));
    });
    g.bench_function("load_under_writer/2", |b| {
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
    g.bench_function("closed_admission/1", |b| {
        b.iter(|| black_box(closed.try_acquire(black_box(NOW))).is_ok());
    });
    g.bench_function("closed_admission_under_recorder/2", |b| {
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
    g.bench_function("open_rejection/1", |b| {
        b.iter(|| black_box(tripped.try_acquire(black_box(NOW))).is_err());
    });
    g.bench_function("forced_open_rejection/1", |b| {
        b.iter(|| black_box(open.try_acquire(black_box(NOW))).is_err());
    });

    g.bench_function("record/1", |b| {
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
    g.bench_function("guarded_call/1", |b| b.iter(|| guarded(&closed)));
    g.bench_function("guarded_call/2", |b| {
        b.iter_custom(|iters| with_background(iters, || guarded(&closed), || guarded(&closed)));
    });
    g.finish();
}

fn peers(c: &mut Criterion) {
    let mut g = c.benchmark_group("peers");
    let failsafe = failsafe::Config::new().build();
    let failsafe_call = || {
        black_box(failsafe.call(|| Ok::<u32, ()>(black_box(1))).is_ok());
    };
    g.bench_function("failsafe_call/1", |b| b.iter(failsafe_call));
    g.bench_function("failsafe_call/2", |b| {
        b.iter_custom(|iters| with_background(iters, failsafe_call, failsafe_call));
    });

    let recloser = recloser::Recloser::default();
    let recloser_call = || {
        black_box(recloser.call(|| Ok::<u32, ()>(black_box(1))).is_ok());
    };
    g.bench_function("recloser_call/1", |b| b.iter(recloser_call));
    g.bench_function("recloser_call/2", |b| {
        b.iter_custom(|iters| with_background(iters, recloser_call, recloser_call));
    });
    g.finish();
}

criterion_group!(benches, baselines, breaker, peers);
criterion_main!(benches);
