//! Bulkhead and adaptive-limit benchmarks, beside the raw atomics they are built on and tokio's
//! `Semaphore`, in one criterion group so that the ratios come from the same run.
//!
//! IDs: `bulkhead/<subject>/<op>/<threads>`. `1t` runs on the measuring thread alone; `2t` runs
//! while a second thread hammers the same object with the same operation (via `iter_custom` and
//! an `AtomicBool` stop flag).
//!
//! Check that it runs: `cargo test -p portcullis-benches --benches`, or a short measurement:
//! `cargo bench -p portcullis-benches --bench bulkhead -- --warm-up-time 0.2 --measurement-time 0.5`.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::adaptive::{AdaptiveLimit, Aimd, AimdConfig, Gradient, GradientConfig, Sample};
use portcullis::bulkhead::Bulkhead;
use tokio::sync::Semaphore;

/// Times `iters` calls of `fg` while another thread calls `bg` in a loop until they are done.
fn with_background(iters: u64, fg: impl Fn(), bg: impl Fn() + Sync) -> Duration {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                bg();
            }
        });
        let start = Instant::now();
        for _ in 0..iters {
            fg();
        }
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        elapsed
    })
}

fn fetch_add(a: &AtomicU64) {
    black_box(a.fetch_add(1, Ordering::AcqRel));
}

fn cas_loop(a: &AtomicU64) {
    let mut cur = a.load(Ordering::Relaxed);
    loop {
        match a.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(v) => {
                black_box(v);
                return;
            }
            Err(actual) => cur = actual,
        }
    }
}

fn acquire_release(b: &Bulkhead) {
    // The limit is far above what two threads can hold, so every call is admitted.
    drop(black_box(b.try_acquire(black_box(1))));
}

fn tokio_acquire_drop(s: &Semaphore) {
    drop(black_box(s.try_acquire()));
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("bulkhead");

    let atomic = AtomicU64::new(0);
    g.bench_function("baseline/fetch_add/1t", |b| b.iter(|| fetch_add(&atomic)));
    g.bench_function("baseline/cas_loop/1t", |b| b.iter(|| cas_loop(&atomic)));
    g.bench_function("baseline/fetch_add/2t", |b| {
        b.iter_custom(|n| with_background(n, || fetch_add(&atomic), || fetch_add(&atomic)));
    });

    let bulkhead = Bulkhead::new(1_000).unwrap();
    g.bench_function("bulkhead/acquire_release/1t", |b| b.iter(|| acquire_release(&bulkhead)));
    g.bench_function("bulkhead/acquire_release/2t", |b| {
        b.iter_custom(|n| {
            with_background(n, || acquire_release(&bulkhead), || acquire_release(&bulkhead))
        });
    });

    let full = Bulkhead::new(1).unwrap();
    let _held = full.try_acquire(1).unwrap();
    g.bench_function("bulkhead/refusal/1t", |b| {
        b.iter(|| black_box(full.try_acquire(black_box(1)).is_err()));
    });
    g.bench_function("bulkhead/refusal/2t", |b| {
        b.iter_custom(|n| {
            let refuse = || {
                black_box(full.try_acquire(black_box(1)).is_err());
            };
            with_background(n, refuse, refuse)
        });
    });

    let semaphore = Semaphore::new(1_000);
    g.bench_function("tokio/try_acquire_drop/1t", |b| b.iter(|| tokio_acquire_drop(&semaphore)));
    g.bench_function("tokio/try_acquire_drop/2t", |b| {
        b.iter_custom(|n| {
            with_background(n, || tokio_acquire_drop(&semaphore), || tokio_acquire_drop(&semaphore))
        });
    });

    let aimd = Aimd::new(AimdConfig::new(Nanos::from_millis(10))).unwrap();
    let gradient = Gradient::new(GradientConfig::DEFAULT).unwrap();
    let mut i = 0u64;
    let mut sample = move || {
        i = i.wrapping_add(1);
        Sample {
            rtt: Nanos::from_micros(5_000 + (i * 7_919) % 10_000),
            in_flight: 150,
            dropped: i.is_multiple_of(101),
        }
    };
    g.bench_function("adaptive/aimd_record/1t", |b| {
        b.iter(|| black_box(aimd.record(black_box(sample()))));
    });
    g.bench_function("adaptive/gradient_record/1t", |b| {
        b.iter(|| black_box(gradient.record(black_box(sample()))));
    });

    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
