//! Histogram, hedging, deadline and health hot paths beside the raw atomic operations they are
//! built on, one criterion group per primitive (`histogram`, `hedge`, `deadline`, `health`), each
//! with its own baselines (so ratios come from one run on one machine).
//!
//! Ids are `<subject>/<operation>/<T>t` (the rule at the top of `scripts/bench-report.py`). `1t`
//! runs on the measuring thread alone; `2t` while a second thread works on the same object for
//! the whole timed interval, `<operation>_separate/2t` while it does the same on an object of its
//! own, on cache lines of its own (`portcullis_benches::measure`, which pins the two threads to
//! two CPUs). Every object, and the state either thread changes as it goes (its place in a walk of
//! latencies or times), is in a `Padded` of its own.
//!
//! | id | measures | second thread (`2t`) |
//! |---|---|---|
//! | `baseline/fetch_add` (every group) | a relaxed `AtomicU64::fetch_add` | the same, same word |
//! | `baseline/fetch_add_separate/2t` (every group) | the same on a word on a cache line of its own | the same, on another such word |
//! | `baseline/cas_loop/1t` (every group) | a `compare_exchange_weak` loop incrementing a word (one success) | - |
//! | `histogram/record` | `Histogram::record` (one `fetch_add` on a bucket's counter) of latencies walking over 0 to 1 ms in steps of 7,919 ns (about 500 buckets) | records a walk of its own over the same latencies into the same histogram, started half a walk ahead; the two walks drift at their own speeds, so the threads meet on a counter's line now and then, as two recorders of similar latencies do (both on one counter all the time is `baseline/fetch_add/2t`, a record being one `fetch_add`) |
//! | `histogram/record_separate/2t` | as `histogram/record` | the same into a histogram of its own |
//! | `histogram/percentile` | `percentiles(&[p50, p95])` of a histogram holding 10,000 samples up to about 1 ms (a scan of every counter) | the same read of the same histogram: both threads only read it (read sharing) |
//! | `histogram/percentile_separate/2t` | as `histogram/percentile` | the same read of a histogram of its own |
//! | `histogram_sub{8,128}/{record,percentile}/1t` | as `histogram/...`, with 8 and 128 sub-buckets per power of two | - |
//! | `hedge/decide` | `HedgePolicy::decide` in the steady state (cached delay) | the same, same policy |
//! | `hedge/record_latency/1t`, `budget/deposit_withdraw/1t` | a latency recorded into the hedge policy; a hedge budget's deposit then withdrawal | - |
//! | `deadline/remaining` | the deadline check: `Deadline::remaining(now)` of a deadline read from memory (through `black_box`), `now` walking over 0 to 20 s | the same check of the same deadline, with a walk of its own: both threads only read it (read sharing) |
//! | `deadline/remaining_separate/2t` | as `deadline/remaining` | the same check of a deadline of its own |
//! | `deadline/{encode,decode}_grpc/1t` | a `grpc-timeout` header value written and parsed | - |
//! | `health/record/1t` | `HealthMachine::record` of one outcome | - |
//!
//! In group `histogram`, `histogram/...` is the default `Histogram` (`SUB = 32` sub-buckets per
//! power of two, `OCT = 36` rows: 1,152 buckets), `histogram_sub8/...` and `histogram_sub128/...`
//! the same range (up to 2⁴⁰ ns) in 304 and 4,352 buckets: a record touches one counter whatever
//! the size, a percentile scans them all.
//!
//! Quick check: `cargo bench -p portcullis-benches --bench policies -- --warm-up-time 0.2
//! --measurement-time 0.5`.
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::deadline::{Deadline, decode_grpc_timeout, encode_grpc_timeout};
use portcullis::health::{HealthConfig, HealthMachine};
use portcullis::hedge::{HedgeBudget, HedgeConfig, HedgePolicy};
use portcullis::histogram::Histogram;
use portcullis_benches::{Group, Padded, Threads};

/// The raw baselines every group carries: one `fetch_add` (at 1t, 2t and 2t on separate words),
/// and a `compare_exchange` loop.
fn baselines(g: &mut Group<'_>) {
    g.fetch_add_baselines();
    let word = Padded(AtomicU64::new(0));
    g.bench_function("baseline/cas_loop/1t", |b| {
        b.iter(|| {
            let mut cur = word.load(Ordering::Relaxed);
            loop {
                match word.compare_exchange_weak(
                    cur,
                    cur.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(v) => break black_box(v),
                    Err(actual) => cur = actual,
                }
            }
        });
    });
}

/// The next latency of a walk over 0 to about 1 ms (2^20 ns) in steps of 7,919 ns, which spreads
/// records over the buckets below 2^20 ns.
fn next_latency(v: &mut u64) -> Nanos {
    *v = v.wrapping_add(7_919) & 0xF_FFFF;
    Nanos::new(*v)
}

/// Where the second thread's walk starts: half a walk ahead of the measured thread's (the two
/// drift apart from there, each at its own speed).
const HALF_WALK: u64 = 0x8_0000;

/// The percentiles every percentile benchmark reads: p50 and p95.
const PERCENTILES: [u32; 2] = [500_000, 950_000];

fn histogram(c: &mut Criterion) {
    let mut g = Group::new(c, "histogram");
    baselines(&mut g);
    // Every `Threads` loop below: with `Threads::Two` the second thread works on the measured
    // histogram; with `Threads::TwoSeparate` on one of its own (`own`).
    for threads in Threads::WITH_SEPARATE {
        let (h, own) = (Padded(Histogram::<32, 36>::new()), Padded(Histogram::new()));
        let theirs = threads.object(&h, &own);
        let (mut mine, mut their_walk) = (Padded(0u64), Padded(HALF_WALK));
        g.bench(
            threads,
            "histogram/record",
            || h.record(black_box(next_latency(&mut mine))),
            || theirs.record(black_box(next_latency(&mut their_walk))),
        );
    }
    let read = |h: &Histogram| {
        black_box(h.percentiles(&PERCENTILES));
    };
    for threads in Threads::WITH_SEPARATE {
        let (h, own) = (Padded(Histogram::new()), Padded(Histogram::new()));
        fill(&h);
        fill(&own);
        let theirs = threads.object(&h, &own);
        // A read only: on one histogram, both threads read the same counters (read sharing).
        g.bench(threads, "histogram/percentile", || read(&h), || read(theirs));
    }
    // How the cost grows with the number of buckets, at the same range (up to 2⁴⁰ ns).
    sized::<8, 38>(&mut g);
    sized::<128, 34>(&mut g);
    g.finish();
}

/// 10,000 samples up to about 1 ms.
fn fill<const SUB: usize, const OCT: usize>(h: &Histogram<SUB, OCT>) {
    for i in 0..10_000u64 {
        h.record(Nanos::new(i * 97));
    }
}

/// `histogram_sub<SUB>/record/1t` and `histogram_sub<SUB>/percentile/1t`: as `histogram/...`
/// (which is `SUB = 32, OCT = 36`), with `SUB` sub-buckets per power of two and `OCT` rows.
fn sized<const SUB: usize, const OCT: usize>(g: &mut Group<'_>) {
    let h = Padded(Histogram::<SUB, OCT>::new());
    let mut v = Padded(0u64);
    g.bench(
        Threads::One,
        &format!("histogram_sub{SUB}/record"),
        || h.record(black_box(next_latency(&mut v))),
        || {},
    );
    let h = Padded(Histogram::<SUB, OCT>::new());
    fill(&h);
    g.bench(
        Threads::One,
        &format!("histogram_sub{SUB}/percentile"),
        || {
            black_box(h.percentiles(&PERCENTILES));
        },
        || {},
    );
}

fn hedge(c: &mut Criterion) {
    let mut g = Group::new(c, "hedge");
    baselines(&mut g);
    let policy: HedgePolicy = HedgePolicy::new(HedgeConfig::DEFAULT).unwrap();
    for i in 0..1_000u64 {
        policy.record_latency(Nanos::from_micros(100 + i), Nanos::from_secs(1));
    }
    // A fixed `now` inside one refresh interval: the steady state (cached delay).
    let now = Nanos::from_secs(1);
    let _ = black_box(policy.decide(0, now));
    g.bench_function("hedge/decide/1t", |b| b.iter(|| black_box(policy.decide(black_box(0), now))));
    g.bench(
        Threads::Two,
        "hedge/decide",
        || {
            let _ = black_box(policy.decide(black_box(0), now));
        },
        || {
            let _ = black_box(policy.decide(0, now));
        },
    );
    g.bench_function("hedge/record_latency/1t", |b| {
        b.iter(|| policy.record_latency(black_box(Nanos::from_micros(250)), now));
    });
    let budget = HedgeBudget::new(20_000, 10).unwrap();
    g.bench_function("budget/deposit_withdraw/1t", |b| {
        b.iter(|| {
            budget.deposit();
            black_box(budget.try_withdraw())
        });
    });
    g.finish();
}

fn deadline(c: &mut Criterion) {
    let mut g = Group::new(c, "deadline");
    baselines(&mut g);
    // The deadline check, `now` walking over 0 to 20 s (so the deadline is ahead half of the
    // time), each thread's walk on a line of its own. On one deadline both threads only read it
    // (read sharing); the deadline goes through `black_box`, so every check loads it.
    let check = |d: &Deadline, t: &mut u64| {
        *t = t.wrapping_add(1_000_003) % 20_000_000_000;
        let _ = black_box(black_box(d).remaining(black_box(Nanos::new(*t))));
    };
    for threads in Threads::WITH_SEPARATE {
        let at = Nanos::from_secs(10);
        let (d, own) = (Padded(Deadline::at(at)), Padded(Deadline::at(at)));
        let theirs = threads.object(&d, &own);
        let (mut mine, mut their_t) = (Padded(0u64), Padded(at.as_u64()));
        g.bench(
            threads,
            "deadline/remaining",
            || check(&d, &mut mine),
            || check(theirs, &mut their_t),
        );
    }
    g.bench_function("deadline/encode_grpc/1t", |b| {
        let mut buf = [0u8; 9];
        b.iter(|| black_box(encode_grpc_timeout(black_box(Nanos::from_millis(1_234)), &mut buf)));
    });
    g.bench_function("deadline/decode_grpc/1t", |b| {
        b.iter(|| black_box(decode_grpc_timeout(black_box(b"1234000u"))));
    });
    g.finish();
}

fn health(c: &mut Criterion) {
    let mut g = Group::new(c, "health");
    baselines(&mut g);
    let m = HealthMachine::new(HealthConfig::DEFAULT).unwrap();
    let mut i = 0u64;
    g.bench_function("health/record/1t", |b| {
        b.iter(|| {
            i += 1;
            black_box(m.record(!i.is_multiple_of(16), Nanos::new(i)))
        });
    });
    g.finish();
}

criterion_group!(benches, histogram, hedge, deadline, health);
criterion_main!(benches);
