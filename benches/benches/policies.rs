//! Hedging, deadline and health hot paths beside the raw atomic operations they are built on, in
//! the same criterion groups (so ratios come from one run on one machine).
//!
//! IDs: `<group>/baseline/<op>/<threads>` for the raw atomics, `<group>/<thing>/<op>/<threads>`
//! for portcullis. In group `histogram`, `histogram/...` is the default `Histogram` (`SUB = 32`
//! sub-buckets per power of two, `OCT = 36` rows: 1,152 buckets), `histogram_sub8/...` and
//! `histogram_sub128/...` the same range (up to 2⁴⁰ ns) in 304 and 4,352 buckets: a record
//! touches one counter whatever the size, a percentile scans them all. `2t`: a second thread hammers the same object in the background while the
//! measured thread runs (timed with `iter_custom`, stopped by an `AtomicBool`).
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
use portcullis_benches::{Group, Threads};

/// The raw baselines every group carries: one `fetch_add`, and a `compare_exchange` loop.
fn baselines(g: &mut Group<'_>) {
    let word = AtomicU64::new(0);
    g.bench_function("baseline/fetch_add/1t", |b| {
        b.iter(|| black_box(word.fetch_add(1, Ordering::Relaxed)));
    });
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
    g.bench(
        Threads::Two,
        "baseline/fetch_add",
        || {
            black_box(word.fetch_add(1, Ordering::Relaxed));
        },
        || {
            word.fetch_add(1, Ordering::Relaxed);
        },
    );
}

fn histogram(c: &mut Criterion) {
    let mut g = Group::new(c, "histogram");
    baselines(&mut g);
    let h: Histogram = Histogram::new();
    let mut v = 0u64;
    g.bench_function("histogram/record/1t", |b| {
        b.iter(|| {
            v = v.wrapping_add(7_919) & 0xF_FFFF; // spread over buckets, up to ~1 ms
            h.record(black_box(Nanos::new(v)));
        });
    });
    g.bench(
        Threads::Two,
        "histogram/record",
        || h.record(black_box(Nanos::new(50_000))),
        || h.record(Nanos::new(50_000)),
    );
    fill(&h);
    g.bench_function("histogram/percentile/1t", |b| {
        b.iter(|| black_box(h.percentiles(&[500_000, 950_000])));
    });
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
    let h: Histogram<SUB, OCT> = Histogram::new();
    let mut v = 0u64;
    g.bench_function(format!("histogram_sub{SUB}/record/1t"), |b| {
        b.iter(|| {
            v = v.wrapping_add(7_919) & 0xF_FFFF;
            h.record(black_box(Nanos::new(v)));
        });
    });
    fill(&h);
    g.bench_function(format!("histogram_sub{SUB}/percentile/1t"), |b| {
        b.iter(|| black_box(h.percentiles(&[500_000, 950_000])));
    });
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
    let d = Deadline::at(Nanos::from_secs(10));
    let mut t = 0u64;
    g.bench_function("deadline/remaining/1t", |b| {
        b.iter(|| {
            t = t.wrapping_add(1_000_003) % 20_000_000_000;
            black_box(d.remaining(black_box(Nanos::new(t))))
        });
    });
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
