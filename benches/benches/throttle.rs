//! Adaptive-throttle benchmarks: a decision on a healthy backend (probability 0, no draw), a
//! decision under overload (a draw, and a recorded refusal half the time), and a report.
//!
//! IDs: `throttle/<op>/<condition>`, one thread.
//!
//! Check that it runs: `cargo test -p portcullis-benches --benches`, or a short measurement:
//! `cargo bench -p portcullis-benches --bench throttle -- --warm-up-time 0.2 --measurement-time 0.5`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::throttle::{Throttle, ThrottleConfig};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("throttle");
    let window = Nanos::from_secs(120);
    let now = Nanos::from_secs(1);

    let healthy = Throttle::<12>::new(ThrottleConfig::DEFAULT, window).unwrap();
    for _ in 0..1_000 {
        healthy.record(true, now);
    }
    g.bench_function("try_acquire/healthy", |b| b.iter(|| black_box(healthy.try_acquire(now))));
    g.bench_function("record/accepted", |b| b.iter(|| black_box(healthy.record(true, now))));

    // Aggression 1, capped at one half: the draw refuses about half of the decisions.
    let config = ThrottleConfig { max_reject_ppm: 500_000, ..ThrottleConfig::DEFAULT };
    let overloaded = Throttle::<12>::new(config, window).unwrap();
    for _ in 0..1_000 {
        overloaded.record(false, now);
    }
    g.bench_function("try_acquire/overloaded", |b| {
        b.iter(|| black_box(overloaded.try_acquire(now)));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
