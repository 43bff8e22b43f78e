//! The physical limits every primitive is measured against, in one group `baseline` with ids
//! `baseline/<operation>/<T>t` (the rule at the top of `scripts/bench-report.py`):
//!
//! | id | measures | second thread (`2t`) |
//! |---|---|---|
//! | `baseline/load/1t` | an acquire `AtomicU64::load` | - |
//! | `baseline/fetch_add/1t` | a relaxed `AtomicU64::fetch_add` | - |
//! | `baseline/cas_loop/1t` | a `compare_exchange_weak` loop incrementing the word (one success) | - |
//! | `baseline/load_under_writer/2t` | an acquire load of a word | keeps `fetch_add`ing the word |
//! | `baseline/mutex_lock_unlock/1t` | an uncontended `std::sync::Mutex` lock, increment, unlock | - |
//! | `baseline/instant_now/1t` | `std::time::Instant::now()` | - |
//! | `baseline/clock_monotonic/1t` | `clock_gettime(CLOCK_MONOTONIC)` (Linux) | - |
//! | `baseline/clock_monotonic_coarse/1t` | `clock_gettime(CLOCK_MONOTONIC_COARSE)` (Linux) | - |
//!
//! Run (a short check, not a measurement):
//!
//! ```text
//! cargo bench -p portcullis-benches --bench baseline -- --warm-up-time 0.2 --measurement-time 0.5
//! ```
#![allow(clippy::disallowed_types, reason = "the raw baselines name the atomics and the mutex")]
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use core::hint::black_box;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_benches::{Group, Threads};

/// One successful compare-and-swap increment, retried on failure.
fn cas_increment(word: &AtomicU64) -> u64 {
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        match word.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(v) => return v,
            Err(actual) => cur = actual,
        }
    }
}

#[cfg(target_os = "linux")]
fn clock(id: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; `id` is a clock Linux provides.
    let rc = unsafe { libc::clock_gettime(id, &raw mut ts) };
    debug_assert_eq!(rc, 0, "clock_gettime failed");
    ts.tv_sec.wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec)
}

fn baseline(c: &mut Criterion) {
    let mut g = Group::new(c, "baseline");
    let word = AtomicU64::new(0);
    g.bench_function("baseline/load/1t", |b| b.iter(|| black_box(&word).load(Ordering::Acquire)));
    g.bench_function("baseline/fetch_add/1t", |b| {
        b.iter(|| black_box(&word).fetch_add(1, Ordering::Relaxed));
    });
    g.bench_function("baseline/cas_loop/1t", |b| b.iter(|| cas_increment(black_box(&word))));
    g.bench(
        Threads::Two,
        "baseline/load_under_writer",
        || {
            black_box(word.load(Ordering::Acquire));
        },
        || {
            word.fetch_add(1, Ordering::Relaxed);
        },
    );
    let mutex = Mutex::new(0u64);
    g.bench_function("baseline/mutex_lock_unlock/1t", |b| {
        b.iter(|| {
            if let Ok(mut v) = black_box(&mutex).lock() {
                *v += 1;
            }
        });
    });
    g.bench_function("baseline/instant_now/1t", |b| b.iter(Instant::now));
    #[cfg(target_os = "linux")]
    {
        g.bench_function("baseline/clock_monotonic/1t", |b| {
            b.iter(|| clock(libc::CLOCK_MONOTONIC));
        });
        g.bench_function("baseline/clock_monotonic_coarse/1t", |b| {
            b.iter(|| clock(libc::CLOCK_MONOTONIC_COARSE));
        });
    }
    g.finish();
}

criterion_group!(benches, baseline);
criterion_main!(benches);
