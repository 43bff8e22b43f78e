//! Circuit-breaker hot paths beside the raw atomic operations they are built on and two peer
//! crates, all in the same run.
//!
//! Every benchmark is in the criterion group `breaker`, with ids `<subject>/<operation>/<T>t`
//! (the rule at the top of `scripts/bench-report.py`):
//!
//! | id | measures | second thread (`2t`) |
//! |---|---|---|
//! | `baseline/fetch_add` | a relaxed `AtomicU64::fetch_add` | the same, on the same word |
//! | `baseline/fetch_add_separate/2t` | the same on a word on a cache line of its own | the same, on another such word |
//! | `baseline/cas_loop` | a compare-and-swap loop bumping a field of a packed word | the same, on the same word |
//! | `baseline/cas_loop_separate/2t` | the same loop on a word on a cache line of its own | the same, on another such word |
//! | `baseline/load_under_writer/2t` | an acquire load of a word | keeps `fetch_add`ing the word |
//! | `closed/try_acquire` | admission on a closed `CountBreaker<64>`, `now` supplied (no clock read) | guarded calls (admit + record success) on the same breaker |
//! | `closed/try_acquire_separate/2t` | as `closed/try_acquire` | guarded calls on a breaker of its own |
//! | `open/try_acquire` | rejection by a breaker opened by a failure, `now` supplied (inside the open period) | the same rejection by the same breaker: both threads only read its state word (read sharing) |
//! | `open/try_acquire_separate/2t` | as `open/try_acquire` | the same, by an opened breaker of its own |
//! | `forced_open/try_acquire/1t` | rejection by a forced-open breaker | - |
//! | `closed/record` | the record of a success for a tracked admission of the current generation (`Breaker::record_token`, the path `Permit::record` takes; the admission was made once, before the timing) | the same, on the same breaker |
//! | `closed/record_separate/2t` | as `closed/record` | the same, on a breaker of its own |
//! | `closed/guarded_call` | `try_acquire` then `Permit::record(Success)` | the same, on the same breaker |
//! | `closed/guarded_call_separate/2t` | as `closed/guarded_call` | the same, on a breaker of its own |
//! | `failsafe/guarded_call` | `failsafe` 1.3: `CircuitBreaker::call` of a closure returning `Ok` on `failsafe::Config::new().build()` | the same, on the same breaker |
//! | `recloser/guarded_call` | `recloser` 1.4: `Recloser::call` of a closure returning `Ok` on `Recloser::default()` | the same, on the same breaker |
//!
//! The 2-thread variants time the main thread's loop while the second thread runs its operation
//! for the whole timed interval, the two threads pinned to two CPUs (`portcullis_benches::measure`).
//!
//! Run (a check that every benchmark works, not a measurement):
//!
//! ```text
//! cargo bench -p portcullis-benches --bench breaker -- --test
//! ```
#![allow(clippy::disallowed_types, reason = "the raw atomic baselines name the atomics directly")]
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use core::hint::black_box;
use core::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::CircuitBreaker as _;
use portcullis::Nanos;
use portcullis::breaker::{BreakerConfig, CountBreaker};
use portcullis::window::Outcome;
use portcullis_benches::{Group, Padded, Threads};

const NOW: Nanos = Nanos::from_secs(1);

/// The criterion group of every benchmark in this file.
const GROUP: &str = "breaker";

/// A breaker that never trips on the outcomes benchmarked here.
fn closed_breaker() -> CountBreaker<64> {
    CountBreaker::new(BreakerConfig { consecutive_failures: Some(1), ..BreakerConfig::DEFAULT })
        .unwrap_or_else(|e| panic!("bench config: {e}"))
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
    let mut g = Group::new(c, GROUP);
    g.fetch_add_baselines();
    g.word_baselines("baseline/cas_loop", cas_bump);
    let word = Padded(AtomicU64::new(0));
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
    g.finish();
}

/// A guarded call: admission, then the record of a success.
fn guarded(b: &CountBreaker<64>) {
    if let Ok(p) = b.try_acquire(NOW) {
        let _ = black_box(p.record(Outcome::Success, NOW));
    }
}

/// A breaker opened by one failure at `NOW`: it rejects every call at `NOW`.
fn tripped_breaker() -> CountBreaker<64> {
    let b = closed_breaker();
    if let Ok(p) = b.try_acquire(NOW) {
        let _ = p.record(Outcome::Failure, NOW);
    }
    assert!(b.try_acquire(NOW).is_err(), "one failure opens the breaker");
    b
}

fn breaker(c: &mut Criterion) {
    let mut g = Group::new(c, GROUP);

    // Every `2t` row below: with `Threads::Two` the second thread works on the measured breaker;
    // with `Threads::TwoSeparate` on a breaker of its own (`own`), each in a `Padded` so the two
    // share no cache line.
    for threads in Threads::WITH_SEPARATE {
        let (closed, own) = (Padded(closed_breaker()), Padded(closed_breaker()));
        let theirs = threads.object(&closed, &own);
        // The second thread makes guarded calls: admission beside a recorder.
        g.bench(
            threads,
            "closed/try_acquire",
            || {
                let _ = black_box(closed.try_acquire(black_box(NOW))).is_ok();
            },
            || guarded(theirs),
        );
    }

    for threads in Threads::WITH_SEPARATE {
        let (tripped, own) = (Padded(tripped_breaker()), Padded(tripped_breaker()));
        let theirs = threads.object(&tripped, &own);
        let reject = |b: &CountBreaker<64>| {
            let _ = black_box(b.try_acquire(black_box(NOW))).is_err();
        };
        // The second thread is rejected too: on one breaker, both threads only read its state
        // word (a rejection writes nothing), so the `2t` row shows read sharing.
        g.bench(threads, "open/try_acquire", || reject(&tripped), || reject(theirs));
        assert!(tripped.try_acquire(NOW).is_err(), "the breaker stayed open");
    }

    let forced = closed_breaker();
    let _ = forced.force_open();
    g.bench_function("forced_open/try_acquire/1t", |b| {
        b.iter(|| black_box(forced.try_acquire(black_box(NOW))).is_err());
    });

    // A token records as its permit would (the same `apply`), and can be recorded again: so the
    // timed loop is the record alone, without criterion's per-input bookkeeping that
    // `iter_batched` would add to it (about 1.5 ns here, more than a tenth of a record). Each
    // thread records a token of its own, admitted by the breaker it records into.
    let admit = |b: &CountBreaker<64>| {
        b.try_acquire(NOW).unwrap_or_else(|r| panic!("closed: {r}")).into_token()
    };
    let record = |b: &CountBreaker<64>, token| {
        let _ = black_box(b.record_token(black_box(token), Outcome::Success, NOW));
    };
    for threads in Threads::WITH_SEPARATE {
        let (mine, own) = (Padded(closed_breaker()), Padded(closed_breaker()));
        let theirs = threads.object(&mine, &own);
        let (my_token, their_token) = (admit(&mine), admit(theirs));
        g.bench(
            threads,
            "closed/record",
            || record(&mine, my_token),
            || record(theirs, their_token),
        );
    }

    for threads in Threads::WITH_SEPARATE {
        let (mine, own) = (Padded(closed_breaker()), Padded(closed_breaker()));
        let theirs = threads.object(&mine, &own);
        g.bench(threads, "closed/guarded_call", || guarded(&mine), || guarded(theirs));
    }
    g.finish();
}

fn peers(c: &mut Criterion) {
    let mut g = Group::new(c, GROUP);
    let failsafe = failsafe::Config::new().build();
    let failsafe_call = || {
        black_box(failsafe.call(|| Ok::<u32, ()>(black_box(1))).is_ok());
    };
    for threads in Threads::ALL {
        g.bench(threads, "failsafe/guarded_call", failsafe_call, failsafe_call);
    }

    let recloser = recloser::Recloser::default();
    let recloser_call = || {
        black_box(recloser.call(|| Ok::<u32, ()>(black_box(1))).is_ok());
    };
    for threads in Threads::ALL {
        g.bench(threads, "recloser/guarded_call", recloser_call, recloser_call);
    }
    g.finish();
}

criterion_group!(benches, baselines, breaker, peers);
criterion_main!(benches);
