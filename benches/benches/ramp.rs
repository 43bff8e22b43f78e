//! Recovery-ramp benchmarks: a ramped breaker's admission and record when idle (closed, no ramp)
//! and during a ramp (a draw per call), beside the plain breaker's.
//!
//! IDs: `ramp/<subject>/<condition>`, one thread.
//!
//! Check that it runs: `cargo test -p portcullis-benches --benches`, or a short measurement:
//! `cargo bench -p portcullis-benches --bench ramp -- --warm-up-time 0.2 --measurement-time 0.5`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, CountBreaker};
use portcullis::ramp::{RampConfig, RampedBreaker};
use portcullis::window::Outcome;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ramp");
    let now = Nanos::from_secs(1);
    let config = BreakerConfig { consecutive_failures: None, ..BreakerConfig::DEFAULT };

    let plain = CountBreaker::<64>::new(config).unwrap();
    g.bench_function("breaker/acquire_record", |b| {
        b.iter(|| {
            if let Ok(p) = plain.try_acquire(now) {
                let _ = black_box(p.record(Outcome::Success, now));
            }
        });
    });

    let idle =
        RampedBreaker::new(CountBreaker::<64>::new(config).unwrap(), RampConfig::DEFAULT).unwrap();
    g.bench_function("ramped/acquire_record/idle", |b| {
        b.iter(|| {
            if let Ok(p) = idle.try_acquire(now) {
                let _ = black_box(idle.record(p, Outcome::Success, now));
            }
        });
    });

    // A ramp that never ends within the run: every call draws.
    let ramping = RampedBreaker::new(
        CountBreaker::<64>::new(config).unwrap(),
        RampConfig { duration: Nanos::from_secs(1_000_000), ..RampConfig::DEFAULT },
    )
    .unwrap();
    ramping.ramp().start(Nanos::ZERO);
    g.bench_function("ramped/acquire_record/ramping", |b| {
        b.iter(|| match ramping.try_acquire(now) {
            Ok(p) => black_box(ramping.record(p, Outcome::Success, now)).counted,
            Err(e) => black_box(e) == black_box(e),
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
