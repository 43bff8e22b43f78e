//! Rate limiter benchmarks: the decision with `now` supplied, beside the raw atomic operations it
//! is built on, and the decision including a clock read, beside governor's direct limiter with
//! its default (quanta) clock. Each group holds its own baselines; `/1t` is one thread, `/2t`
//! the same with a second thread hammering the same object in the background.
//!
//! Check that it runs: `cargo test -p portcullis-benches --benches`; short measurement:
//! `cargo bench -p portcullis-benches --bench limiter -- --warm-up-time 0.2 --measurement-time 0.5`.

use std::cell::Cell;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, criterion_group, criterion_main};
use portcullis::clock::{CoarseClock, MonotonicClock, UpkeepClock};
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig, Start};
use portcullis::{Clock, Nanos};

/// Measures `op` while another thread runs `background` in a loop on the same object.
fn two_threads(b: &mut Bencher<'_>, op: &(dyn Fn() + Sync), background: &(dyn Fn() + Sync)) {
    b.iter_custom(|iters| {
        let stop = AtomicBool::new(false);
        let started = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                started.store(true, Ordering::Release);
                while !stop.load(Ordering::Relaxed) {
                    background();
                }
            });
            while !started.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            let start = Instant::now();
            for _ in 0..iters {
                op();
            }
            let elapsed = start.elapsed();
            stop.store(true, Ordering::Relaxed);
            elapsed
        })
    });
}

/// A word on a cache line of its own.
#[repr(align(128))]
struct Line(AtomicU64);

fn cas_increment(a: &AtomicU64) {
    let mut cur = a.load(Ordering::Acquire);
    loop {
        match a.compare_exchange_weak(cur, cur + 1, Ordering::Release, Ordering::Acquire) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

/// Always admits when fed a `now` that moves 4 ns per call (2 threads × 1 ns interval < 4 ns).
/// The burst of 2⁴⁰ lets the two threads' clocks drift apart by 2⁴⁰ ns (2³⁸ calls) before the
/// slower one could be refused.
fn admitting(counting: bool) -> RateLimiter {
    let q = Quota::per_interval(Nanos::new(1), 1 << 40).unwrap();
    RateLimiter::new(RateLimiterConfig::new(q).counting(counting), Nanos::ZERO)
}

/// Always refuses: empty, one permit per hour.
fn refusing(counting: bool) -> RateLimiter {
    let q = Quota::per_interval(Nanos::from_secs(3_600), 1).unwrap();
    RateLimiter::new(RateLimiterConfig::new(q).start(Start::Empty).counting(counting), Nanos::ZERO)
}

fn now_supplied(c: &mut Criterion) {
    let mut g = c.benchmark_group("limiter_now_supplied");
    let word = AtomicU64::new(0);
    g.bench_function("baseline/fetch_add/1t", |b| {
        b.iter(|| black_box(word.fetch_add(1, Ordering::Relaxed)));
    });
    g.bench_function("baseline/cas_loop/1t", |b| b.iter(|| cas_increment(black_box(&word))));
    g.bench_function("baseline/fetch_add/2t", |b| {
        two_threads(
            b,
            &|| {
                black_box(word.fetch_add(1, Ordering::Relaxed));
            },
            &|| {
                black_box(word.fetch_add(1, Ordering::Relaxed));
            },
        );
    });
    g.bench_function("baseline/cas_loop/2t", |b| {
        two_threads(b, &|| cas_increment(&word), &|| cas_increment(&word));
    });

    for (name, counting) in [("gcra", false), ("gcra_counting", true)] {
        let l = admitting(counting);
        let t = Cell::new(0u64);
        g.bench_function(format!("{name}/admit/1t"), |b| {
            b.iter(|| {
                t.set(t.get() + 4);
                black_box(l.try_acquire(Nanos::new(t.get())))
            });
        });
        let l = admitting(counting);
        // Each side advances its own clock (a private word on its own cache line), so the only
        // shared line is the limiter's, as in `baseline/cas_loop/2t`.
        let (mine, theirs) = (Line(AtomicU64::new(0)), Line(AtomicU64::new(0)));
        let tick = |clock: &Line| {
            let now = clock.0.load(Ordering::Relaxed) + 4;
            clock.0.store(now, Ordering::Relaxed);
            let _ = black_box(l.try_acquire(Nanos::new(now)));
        };
        g.bench_function(format!("{name}/admit/2t"), |b| {
            two_threads(b, &|| tick(&mine), &|| tick(&theirs));
        });
        let l = refusing(counting);
        g.bench_function(format!("{name}/refuse/1t"), |b| {
            b.iter(|| black_box(l.try_acquire(black_box(Nanos::ZERO))));
        });
        g.bench_function(format!("{name}/refuse/2t"), |b| {
            two_threads(
                b,
                &|| {
                    let _ = black_box(l.try_acquire(black_box(Nanos::ZERO)));
                },
                &|| {
                    let _ = black_box(l.try_acquire(black_box(Nanos::ZERO)));
                },
            );
        });
    }
    g.finish();
}

fn with_clock(c: &mut Criterion) {
    let mut g = c.benchmark_group("limiter_with_clock");
    let gov_clock = governor::clock::DefaultClock::default();
    let coarse = CoarseClock::new();
    let monotonic = MonotonicClock::new();
    let upkeep = UpkeepClock::start(Duration::from_millis(1)).expect("upkeep thread");

    // What each side pays for its clock alone.
    g.bench_function("clock/governor_default_now/1t", |b| {
        b.iter(|| black_box(governor::clock::Clock::now(&gov_clock)));
    });
    g.bench_function("clock/coarse_now/1t", |b| b.iter(|| black_box(coarse.now())));
    g.bench_function("clock/upkeep_now/1t", |b| b.iter(|| black_box(upkeep.now())));
    g.bench_function("clock/monotonic_now/1t", |b| b.iter(|| black_box(monotonic.now())));

    // governor: allow = 10⁹ per second (1 ns interval, burst 10⁹); deny = 1 per hour, used up.
    let max = NonZeroU32::new(1_000_000_000).unwrap();
    let gov_allow = governor::RateLimiter::direct(governor::Quota::per_second(max));
    let gov_deny = governor::RateLimiter::direct(governor::Quota::per_hour(NonZeroU32::MIN));
    let _ = gov_deny.check();
    // portcullis, same quotas.
    let allow = || {
        RateLimiter::new(
            RateLimiterConfig::new(Quota::per_second(1_000_000_000, 1_000_000_000).unwrap()),
            Nanos::ZERO,
        )
    };
    let deny = || refusing(false);

    // One pair of limiters per clock: the clocks have different origins, so sharing a limiter
    // would feed it backward time.
    let (coarse_allow, coarse_deny) = (allow(), deny());
    let (upkeep_allow, upkeep_deny) = (allow(), deny());
    let (mono_allow, mono_deny) = (allow(), deny());
    let cases: [(&str, &(dyn Fn() + Sync)); 8] = [
        ("governor/check_allow", &|| {
            black_box(gov_allow.check().is_ok());
        }),
        ("governor/check_deny", &|| {
            black_box(gov_deny.check().is_ok());
        }),
        ("coarse/allow", &|| {
            black_box(coarse_allow.try_acquire(coarse.now()).would_admit());
        }),
        ("coarse/deny", &|| {
            black_box(coarse_deny.try_acquire(coarse.now()).would_admit());
        }),
        ("upkeep/allow", &|| {
            black_box(upkeep_allow.try_acquire(upkeep.now()).would_admit());
        }),
        ("upkeep/deny", &|| {
            black_box(upkeep_deny.try_acquire(upkeep.now()).would_admit());
        }),
        ("monotonic/allow", &|| {
            black_box(mono_allow.try_acquire(monotonic.now()).would_admit());
        }),
        ("monotonic/deny", &|| {
            black_box(mono_deny.try_acquire(monotonic.now()).would_admit());
        }),
    ];
    for (name, op) in cases {
        g.bench_function(format!("{name}/1t"), |b| b.iter(op));
        g.bench_function(format!("{name}/2t"), |b| two_threads(b, op, op));
    }
    g.finish();
}

criterion_group!(benches, now_supplied, with_clock);
criterion_main!(benches);
