//! Keyed-table benchmarks: lookup + admission through `Keyed` against the same admission on one
//! un-keyed primitive, in one criterion group so that the ratios come from the same run.
//!
//! IDs: `keyed/<primitive>/<subject>/<fill>`. `unkeyed` is one primitive used directly; `fillNN`
//! is a table of 1,024 slots (`max_probe` 64) holding NN % of its capacity in random keys, each
//! iteration looking up the next of those keys (round robin) and admitting through its entry.
//!
//! Check that it runs: `cargo test -p portcullis-benches --benches`, or a short measurement:
//! `cargo bench -p portcullis-benches --bench keyed -- --warm-up-time 0.2 --measurement-time 0.5`.

use std::cell::Cell;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::bulkhead::Bulkhead;
use portcullis::keyed::{KeyedBulkhead, KeyedLimiter};
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::rng::SplitMix64;

const CAPACITY: usize = 1024;
const MAX_PROBE: usize = 64;

/// A quota that admits every call of the benchmark: one permit per nanosecond of the
/// benchmark's own clock, which advances by one nanosecond per call.
fn config() -> RateLimiterConfig {
    RateLimiterConfig::new(Quota::per_interval(Nanos::new(1), 1_000).unwrap())
}

/// `count` distinct random keys.
fn keys(count: usize) -> Vec<u64> {
    let mut rng = SplitMix64::new(7);
    (0..count).map(|_| rng.next_u64()).collect()
}

/// Round-robin over `keys`, and a clock that advances one nanosecond per call.
struct Driver {
    keys: Vec<u64>,
    next: Cell<usize>,
    now: Cell<u64>,
}

impl Driver {
    fn new(keys: Vec<u64>) -> Driver {
        Driver { keys, next: Cell::new(0), now: Cell::new(0) }
    }

    fn step(&self) -> (u64, Nanos) {
        let i = self.next.get();
        self.next.set(if i + 1 == self.keys.len() { 0 } else { i + 1 });
        let now = self.now.get() + 1;
        self.now.set(now);
        (self.keys[i], Nanos::new(now))
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyed");

    // Un-keyed baselines, driven by the same round robin so that only the table differs.
    let driver = Driver::new(keys(768));
    let limiter = RateLimiter::new(config(), Nanos::ZERO);
    g.bench_function("limiter/unkeyed/try_acquire", |b| {
        b.iter(|| {
            let (key, now) = driver.step();
            black_box(key);
            black_box(limiter.try_acquire(now))
        });
    });
    let bulkhead = Bulkhead::new(1_000).unwrap();
    g.bench_function("bulkhead/unkeyed/acquire_release", |b| {
        b.iter(|| {
            let (key, _) = driver.step();
            black_box(key);
            drop(black_box(bulkhead.try_acquire(1)));
        });
    });

    for percent in [25, 50, 75] {
        let count = CAPACITY * percent / 100;
        let driver = Driver::new(keys(count));
        let limiters =
            Box::new(KeyedLimiter::<CAPACITY>::limiters(MAX_PROBE, config(), Nanos::ZERO).unwrap());
        let bulkheads = Box::new(KeyedBulkhead::<CAPACITY>::bulkheads(MAX_PROBE, 1_000).unwrap());
        for &k in &driver.keys {
            limiters.entry(k);
            bulkheads.entry(k);
        }
        g.bench_function(format!("limiter/get_try_acquire/fill{percent}"), |b| {
            b.iter(|| {
                let (key, now) = driver.step();
                black_box(limiters.get(key).try_acquire(now))
            });
        });
        g.bench_function(format!("bulkhead/get_acquire_release/fill{percent}"), |b| {
            b.iter(|| {
                let (key, _) = driver.step();
                drop(black_box(bulkheads.get(key).try_acquire(1)));
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
