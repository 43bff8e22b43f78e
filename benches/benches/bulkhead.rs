//! Bulkhead and adaptive-limit benchmarks, beside the raw atomics they are built on and tokio's
//! `Semaphore`, in one criterion group `bulkhead` so that the ratios come from the same run.
//!
//! Ids are `<subject>/<operation>/<T>t` (the rule at the top of `scripts/bench-report.py`). `1t`
//! runs on the measuring thread alone; `2t` runs while a second thread hammers the same object
//! with the same operation for the whole timed interval, `<operation>_separate/2t` while it does
//! so on an object of its own (`portcullis_benches::measure`, which pins the two threads to two
//! CPUs).
//!
//! | id | measures | second thread (`2t`) |
//! |---|---|---|
//! | `baseline/fetch_add` | an acq-rel `AtomicU64::fetch_add` | the same, same word |
//! | `baseline/fetch_add_separate/2t` | the same on a word on a cache line of its own | the same, on another such word |
//! | `baseline/cas_loop/1t` | a `compare_exchange_weak` loop incrementing a word (one success) | - |
//! | `bulkhead/acquire_release` | `Bulkhead::try_acquire(1)` then the permit's drop, limit 1,000 (always admitted) | the same, same bulkhead |
//! | `bulkhead/acquire_release_separate/2t` | as `bulkhead/acquire_release` | the same, on a bulkhead of its own |
//! | `bulkhead/refusal` | `try_acquire(1)` on a full bulkhead (limit 1, held), refusals counted (the default: a CAS) | the same, same bulkhead |
//! | `bulkhead/refusal_uncounted` | the same on a bulkhead built with `count_refusals(false)` (one load) | the same, same bulkhead |
//! | `tokio/try_acquire_drop` | tokio's `Semaphore::try_acquire()` then the permit's drop, 1,000 permits | the same, same semaphore |
//! | `adaptive/{aimd,gradient}_record` | one latency sample recorded by the AIMD and gradient limits (the limit's update: a CAS loop on its word) | records samples of its own into the same limit |
//! | `adaptive/{aimd,gradient}_record_separate/2t` | as `adaptive/{aimd,gradient}_record` | records samples of its own into a limit of its own |
//!
//! Check that it runs: `cargo bench -p portcullis-benches --bench bulkhead -- --test`, or a short
//! measurement: `cargo bench -p portcullis-benches --bench bulkhead -- --warm-up-time 0.2
//! --measurement-time 0.5`.
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::adaptive::{AdaptiveLimit, Aimd, AimdConfig, Gradient, GradientConfig, Sample};
use portcullis::bulkhead::Bulkhead;
use portcullis_benches::{Group, Padded, Threads};
use tokio::sync::Semaphore;

/// The criterion group of every benchmark in this file.
const GROUP: &str = "bulkhead";

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

/// The next latency sample after the `i`-th: round trips spread over 5 to 15 ms, 150 calls in
/// flight, one sample in 101 a drop.
fn sample(i: &mut u64) -> Sample {
    *i = i.wrapping_add(1);
    Sample {
        rtt: Nanos::from_micros(5_000 + (*i * 7_919) % 10_000),
        in_flight: 150,
        dropped: i.is_multiple_of(101),
    }
}

/// `adaptive/<name>_record`: the update of an adaptive limit made by `make`, one sample at a time.
/// The second thread (if any) records samples of its own into the same limit, or into a limit of
/// its own; each thread's place in the sample sequence is on a line of its own.
fn adaptive<L: AdaptiveLimit + Sync>(g: &mut Group<'_>, name: &str, make: impl Fn() -> L) {
    for threads in Threads::WITH_SEPARATE {
        let (limit, own) = (Padded(make()), Padded(make()));
        let theirs = threads.object(&limit, &own);
        let (mut mine, mut their_i) = (Padded(0u64), Padded(0u64));
        g.bench(
            threads,
            &format!("adaptive/{name}_record"),
            || {
                black_box(limit.record(black_box(sample(&mut mine))));
            },
            || {
                black_box(theirs.record(black_box(sample(&mut their_i))));
            },
        );
    }
}

fn bulkhead(c: &mut Criterion) {
    let mut g = Group::new(c, GROUP);

    g.word_baselines("baseline/fetch_add", fetch_add);
    let atomic = Padded(AtomicU64::new(0));
    g.bench_function("baseline/cas_loop/1t", |b| b.iter(|| cas_loop(&atomic)));

    for threads in Threads::WITH_SEPARATE {
        let (mine, own) =
            (Padded(Bulkhead::new(1_000).unwrap()), Padded(Bulkhead::new(1_000).unwrap()));
        let theirs = threads.object(&mine, &own);
        g.bench(
            threads,
            "bulkhead/acquire_release",
            || acquire_release(&mine),
            || acquire_release(theirs),
        );
    }

    let full = Bulkhead::new(1).unwrap();
    let _held = full.try_acquire(1).unwrap();
    let refuse = || {
        black_box(full.try_acquire(black_box(1)).is_err());
    };
    for threads in Threads::ALL {
        g.bench(threads, "bulkhead/refusal", refuse, refuse);
    }
    let quiet = Bulkhead::new(1).unwrap().count_refusals(false);
    let _quiet_held = quiet.try_acquire(1).unwrap();
    let refuse_uncounted = || {
        black_box(quiet.try_acquire(black_box(1)).is_err());
    };
    for threads in Threads::ALL {
        g.bench(threads, "bulkhead/refusal_uncounted", refuse_uncounted, refuse_uncounted);
    }

    let semaphore = Semaphore::new(1_000);
    for threads in Threads::ALL {
        g.bench(
            threads,
            "tokio/try_acquire_drop",
            || tokio_acquire_drop(&semaphore),
            || tokio_acquire_drop(&semaphore),
        );
    }

    adaptive(&mut g, "aimd", || Aimd::new(AimdConfig::new(Nanos::from_millis(10))).unwrap());
    adaptive(&mut g, "gradient", || Gradient::new(GradientConfig::DEFAULT).unwrap());

    g.finish();
}

criterion_group!(benches, bulkhead);
criterion_main!(benches);
