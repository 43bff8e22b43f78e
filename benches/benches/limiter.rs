//! Rate limiter benchmarks, in two criterion groups; each holds its own baselines. Ids are
//! `<subject>/<operation>/<T>t` (the rule at the top of `scripts/bench-report.py`); a `2t` id is
//! measured while a second thread works on the same object for the whole timed interval, an
//! `<operation>_separate/2t` id while it works on an object of its own (see
//! `portcullis_benches::measure`, which pins the two threads to two CPUs).
//!
//! Group `limiter_now_supplied`: the decision with `now` supplied (no clock read), beside the raw
//! atomic operations it is built on.
//!
//! | id | measures | second thread (`2t`) |
//! |---|---|---|
//! | `baseline/fetch_add` | a relaxed `AtomicU64::fetch_add` | the same, same word |
//! | `baseline/fetch_add_separate/2t` | the same on a word on a cache line of its own | the same, on another such word |
//! | `baseline/cas_loop` | a `compare_exchange_weak` loop incrementing a word (one success) | the same, same word |
//! | `baseline/cas_loop_separate/2t` | the same loop on a word on a cache line of its own | the same, on another such word |
//! | `gcra/admit` | `try_acquire(now)` on a limiter that always admits, `now` advancing 4 ns per call | the same on the same limiter, `now` its own |
//! | `gcra/admit_separate/2t` | as `gcra/admit` | the same on a limiter of its own |
//! | `gcra/admit_n8` | `try_acquire_n(8, now)`: 8 permits at once, `now` advancing 32 ns per call | the same on the same limiter, `now` its own |
//! | `gcra/admit_n8_separate/2t` | as `gcra/admit_n8` | the same on a limiter of its own |
//! | `gcra/refuse` | `try_acquire(now)` on a limiter that always refuses (a refusal writes nothing) | the same, same limiter: both threads only read its word (read sharing) |
//! | `gcra/refuse_separate/2t` | as `gcra/refuse` | the same on a limiter of its own |
//! | `gcra_counting/...` | `admit`, `refuse` and their `_separate` rows with the admitted/rejected counters on (so a refusal writes its counter) | the same |
//!
//! Group `limiter_with_clock`: one "try to take one permit now" call, each limiter reading its
//! clock as it does in use, beside peer crates. `allow` limiters admit every call (10⁹ permits per
//! second, a burst of 10⁹ and full at the start); `deny` limiters refuse every call (one permit per
//! hour, none left).
//!
//! | id | the call measured | clock read per call |
//! |---|---|---|
//! | `clock/*_now/1t` | the clock read alone | the one named |
//! | `coarse/{allow,deny}` | portcullis `RateLimiter::try_acquire(CoarseClock::now())` | `CLOCK_MONOTONIC_COARSE` (vDSO, no clock-source read) |
//! | `upkeep/{allow,deny}` | `try_acquire(UpkeepClock::now())` | none: one relaxed load of a time a background thread stores every 1 ms |
//! | `monotonic/{allow,deny}` | `try_acquire(MonotonicClock::now())` | `Instant::now()` (`CLOCK_MONOTONIC`, vDSO) |
//! | `governor/check_{allow,deny}` | governor 0.10 `RateLimiter::direct(..).check()` | its default clock, quanta's `Clock::now()` (the TSC, scaled, where quanta can use it) |
//! | `ratelimit/try_wait_{allow,deny}` | ratelimit 2.0.0 `Ratelimiter::try_wait()` (default `StdClock`) | `Instant::now()`, every call (`StdClock::elapsed`), before its refill and token CAS loops |
//! | `leaky_bucket/try_acquire_{allow,deny}` | leaky-bucket 1.1.2 `RateLimiter::try_acquire(1)`, built with the builder's defaults but the quota (so `fair`) | `tokio::time::Instant::now()`, which is `std::time::Instant::now()` (tokio's `test-util` is off), every call |
//! | `leaky_bucket_unfair/try_acquire_allow` | the same with `.fair(false)`, 1 thread only (see `with_clock`) | none while tokens are left: one CAS on its state word; the lock and `Instant::now()` only once the balance is short |
//!
//! Every `2t` row of this group runs the same call on the same limiter on the second thread.
//!
//! What each peer call does besides the clock read: ratelimit loads its rate and capacity; then,
//! at most once per µs, CASes its last-refill time and adds the tokens earned with a CAS (its
//! `allow` bucket is always nearly full, so it also counts the excess as dropped, a `fetch_add`);
//! then loads and CASes the token count. Its six atomics sit next to one another, not padded
//! apart. leaky-bucket in its default fair mode takes a `parking_lot` mutex on every call, swaps
//! its state word out, computes the tokens earned since its deadline, and stores the state back.
//! Like with like: the peers that read `CLOCK_MONOTONIC` on every call (ratelimit, fair
//! leaky-bucket) compare with `monotonic/*`; `leaky_bucket_unfair/try_acquire_allow` reads no
//! clock and so compares with no row here (the nearest is the group `limiter_now_supplied`).
//!
//! Check that it runs: `cargo bench -p portcullis-benches --bench limiter -- --test`; short
//! measurement: `cargo bench -p portcullis-benches --bench limiter -- --warm-up-time 0.2
//! --measurement-time 0.5`.
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::clock::{CoarseClock, MonotonicClock, UpkeepClock};
use portcullis::limiter::{Decision, Quota, RateLimiter, RateLimiterConfig, Start};
use portcullis::{Clock, Nanos};
use portcullis_benches::{Group, Padded, Threads};

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

/// Always refuses before `at` + 1 hour: empty at `at`, one permit per hour.
fn refusing(counting: bool, at: Nanos) -> RateLimiter {
    let q = Quota::per_interval(Nanos::from_secs(3_600), 1).unwrap();
    RateLimiter::new(RateLimiterConfig::new(q).start(Start::Empty).counting(counting), at)
}

/// Permits taken at once by `gcra/admit_n8`.
const N_AT_ONCE: u64 = 8;

const NOW_SUPPLIED: &str = "limiter_now_supplied";

fn now_supplied(c: &mut Criterion) {
    let mut g = Group::new(c, NOW_SUPPLIED);
    g.fetch_add_baselines();
    g.word_baselines("baseline/cas_loop", |w| cas_increment(black_box(w)));

    for (name, counting) in [("gcra", false), ("gcra_counting", true)] {
        for threads in Threads::WITH_SEPARATE {
            let (l, own) = (Padded(admitting(counting)), Padded(admitting(counting)));
            let theirs = threads.object(&l, &own);
            // Each side advances its own clock (a private word on its own cache line), so the
            // only shared line is the limiter's (none with separate limiters), as in
            // `baseline/cas_loop`.
            let (mine, their_clock) = (Padded(AtomicU64::new(0)), Padded(AtomicU64::new(0)));
            let tick = |limiter: &RateLimiter, clock: &AtomicU64| {
                let now = clock.load(Ordering::Relaxed) + 4;
                clock.store(now, Ordering::Relaxed);
                let _ = black_box(limiter.try_acquire(Nanos::new(now)));
            };
            g.bench(
                threads,
                &format!("{name}/admit"),
                || tick(&l, &mine),
                || tick(theirs, &their_clock),
            );
        }
        for threads in Threads::WITH_SEPARATE {
            let (l, own) =
                (Padded(refusing(counting, Nanos::ZERO)), Padded(refusing(counting, Nanos::ZERO)));
            let theirs = threads.object(&l, &own);
            let refuse = |limiter: &RateLimiter| {
                let _ = black_box(limiter.try_acquire(black_box(Nanos::ZERO)));
            };
            // One limiter: without counters both threads only read its word; with them, both
            // write its rejected counter.
            g.bench(threads, &format!("{name}/refuse"), || refuse(&l), || refuse(theirs));
        }
    }

    // N permits at once: `now` moves 4 ns per permit, as in `gcra/admit` (two threads on one
    // limiter take 16 ns of its quota per 32 ns of either clock), each side on its own clock.
    let step = 4 * N_AT_ONCE;
    for threads in Threads::WITH_SEPARATE {
        let (l, own) = (Padded(admitting(false)), Padded(admitting(false)));
        let theirs = threads.object(&l, &own);
        assert!(l.try_acquire_n(N_AT_ONCE, Nanos::ZERO).is_ok_and(Decision::is_admitted));
        let (mine, their_clock) = (Padded(AtomicU64::new(0)), Padded(AtomicU64::new(0)));
        let take = |limiter: &RateLimiter, clock: &AtomicU64| {
            let now = clock.load(Ordering::Relaxed) + step;
            clock.store(now, Ordering::Relaxed);
            let _ = black_box(limiter.try_acquire_n(black_box(N_AT_ONCE), Nanos::new(now)));
        };
        g.bench(
            threads,
            &format!("gcra/admit_n{N_AT_ONCE}"),
            || take(&l, &mine),
            || take(theirs, &their_clock),
        );
        let now = Nanos::new(mine.load(Ordering::Relaxed) + step);
        assert!(
            l.try_acquire_n(N_AT_ONCE, now).is_ok_and(Decision::is_admitted),
            "the limiter still admits {N_AT_ONCE} at once"
        );
    }
    g.finish();
}

const WITH_CLOCK: &str = "limiter_with_clock";

fn with_clock(c: &mut Criterion) {
    let mut g = Group::new(c, WITH_CLOCK);
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
    // ratelimit: the same quotas; a rate of 0 would mean "unlimited" and skip the clock.
    let rl_allow = ratelimit::Ratelimiter::builder(1_000_000_000)
        .max_tokens(1_000_000_000)
        .initial_available(1_000_000_000)
        .build()
        .expect("ratelimit allow config");
    let rl_deny = ratelimit::Ratelimiter::builder(1)
        .period(Duration::from_secs(3_600))
        .max_tokens(1)
        .initial_available(0)
        .build()
        .expect("ratelimit deny config");
    // leaky-bucket: refills every millisecond at least (its shortest interval), so 10⁶ per ms.
    // It starts with 10¹² tokens, more than a whole run takes (once its balance is short, it
    // refuses).
    let leaky = |fair: bool| {
        leaky_bucket::RateLimiter::builder()
            .refill(1_000_000)
            .interval(Duration::from_millis(1))
            .max(1_000_000_000_000)
            .initial(1_000_000_000_000)
            .fair(fair)
            .build()
    };
    let (lb_allow, lb_unfair_allow) = (leaky(true), leaky(false));
    let lb_deny = leaky_bucket::RateLimiter::builder()
        .refill(1)
        .interval(Duration::from_secs(3_600))
        .max(1)
        .initial(0)
        .build();
    // portcullis, same quotas.
    let allow = || {
        RateLimiter::new(
            RateLimiterConfig::new(Quota::per_second(1_000_000_000, 1_000_000_000).unwrap()),
            Nanos::ZERO,
        )
    };
    // Empty when created, at the time of the clock it is read with: a clock whose origin is the
    // boot (`CoarseClock`) is past the first hour on most machines.
    let deny = |now: Nanos| refusing(false, now);

    // One pair of limiters per clock: the clocks have different origins, so sharing a limiter
    // would feed it backward time.
    let (coarse_allow, coarse_deny) = (allow(), deny(coarse.now()));
    let (upkeep_allow, upkeep_deny) = (allow(), deny(upkeep.now()));
    let (mono_allow, mono_deny) = (allow(), deny(monotonic.now()));
    // Each case: its id, the call, which must admit (`true`) or refuse (`false`) every time, and
    // the thread counts it is measured at. The unfair leaky-bucket is measured alone: under two
    // threads its lock-free fast path races with its locked slow path, and a run has left it
    // refusing (its balance far from empty), so a 2-thread row would not measure admissions.
    let both: &[Threads] = &Threads::ALL;
    let alone: &[Threads] = &[Threads::One];
    let cases: [(&str, bool, &[Threads], Call<'_>); 13] = [
        ("governor/check_allow", true, both, &|| gov_allow.check().is_ok()),
        ("governor/check_deny", false, both, &|| gov_deny.check().is_ok()),
        ("ratelimit/try_wait_allow", true, both, &|| rl_allow.try_wait().is_ok()),
        ("ratelimit/try_wait_deny", false, both, &|| rl_deny.try_wait().is_ok()),
        ("leaky_bucket/try_acquire_allow", true, both, &|| lb_allow.try_acquire(1)),
        ("leaky_bucket/try_acquire_deny", false, both, &|| lb_deny.try_acquire(1)),
        ("leaky_bucket_unfair/try_acquire_allow", true, alone, &|| lb_unfair_allow.try_acquire(1)),
        ("coarse/allow", true, both, &|| coarse_allow.try_acquire(coarse.now()).would_admit()),
        ("coarse/deny", false, both, &|| coarse_deny.try_acquire(coarse.now()).would_admit()),
        ("upkeep/allow", true, both, &|| upkeep_allow.try_acquire(upkeep.now()).would_admit()),
        ("upkeep/deny", false, both, &|| upkeep_deny.try_acquire(upkeep.now()).would_admit()),
        ("monotonic/allow", true, both, &|| mono_allow.try_acquire(monotonic.now()).would_admit()),
        ("monotonic/deny", false, both, &|| mono_deny.try_acquire(monotonic.now()).would_admit()),
    ];
    for (name, admits, threads, op) in cases {
        assert_eq!(op(), admits, "{name}: the limiter decides as its quota says");
        for &threads in threads {
            let call = || {
                black_box(op());
            };
            g.bench(threads, name, call, call);
        }
        assert_eq!(op(), admits, "{name}: the limiter still decides as its quota says");
    }
    g.finish();
}

/// A benchmarked call: whether the limiter admitted.
type Call<'a> = &'a (dyn Fn() -> bool + Sync);

criterion_group!(benches, now_supplied, with_clock);
criterion_main!(benches);
