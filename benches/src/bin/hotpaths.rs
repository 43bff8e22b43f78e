//! Runs one hot path of portcullis a given number of times, for counting its instructions.
//!
//! `hotpaths sizes` prints `size_of` of every primitive, for typical sizes of the generic ones, as
//! `<type> <bytes>` lines (read by `scripts/bench-report.py`).
//!
//! `hotpaths <name> <iterations>` builds the object of hot path `<name>` (one of `hotpaths list`),
//! then runs the hot path `<iterations>` times on one thread. `scripts/check-instructions.sh` runs
//! each hot path under `valgrind --tool=callgrind` twice, with two iteration counts, and divides
//! the difference of the two instruction totals by the difference of the counts: the set-up, the
//! process start and the exit cancel out, leaving the instructions of one operation (plus the
//! loop's own increment and test, one or two instructions). The count is a property of the binary
//! and its input, so it is the same from run to run on any machine with the same build.
//!
//! Every hot path is single-threaded and in its steady state: the window already full, the breaker
//! closed, the limiter never out of tokens, the bulkhead never full. `now` advances by a fixed step
//! per operation where the operation takes a time, so time windows cross buckets as they do in
//! service (no clock is read).

use std::hint::black_box;
use std::process::ExitCode;

use portcullis::Nanos;
use portcullis::adaptive::{Aimd, Gradient};
use portcullis::breaker::TimeBreaker;
use portcullis::breaker::{BreakerConfig, CountBreaker};
use portcullis::bulkhead::Bulkhead;
use portcullis::deadline::Deadline;
use portcullis::health::HealthAggregate;
use portcullis::health::{HealthConfig, HealthMachine};
use portcullis::hedge::{HedgeBudget, HedgePolicy};
use portcullis::histogram::Histogram;
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::retry::{RatioBudget, RatioBudgetConfig, RetryThrottle, ThrottleConfig};
use portcullis::window::{CountWindow, Outcome, TimeWindow};

/// A hot path: runs its operation the given number of times, after building its object.
type HotPath = fn(u64) -> Result<(), String>;

/// The hot paths, by name, in the order `list` prints them.
const HOT_PATHS: &[(&str, HotPath)] = &[
    ("window/count100_record", count100_record),
    ("window/count1000_record", count1000_record),
    ("window/time10_record", time10_record),
    ("window/time100_record", time100_record),
    ("breaker/try_acquire_closed", breaker_try_acquire_closed),
    ("breaker/guarded_call", breaker_guarded_call),
    ("breaker/try_acquire_open", breaker_try_acquire_open),
    ("limiter/try_acquire", limiter_try_acquire),
    ("bulkhead/acquire_release", bulkhead_acquire_release),
    ("bulkhead/refusal", bulkhead_refusal),
    ("bulkhead/refusal_uncounted", bulkhead_refusal_uncounted),
    ("histogram/record", histogram_record),
    ("retry/throttle_success_failure", throttle_success_failure),
    ("retry/ratio_deposit_withdraw", ratio_deposit_withdraw),
    ("health/record", health_record),
];

/// `now` advances by this much per operation that takes a time.
const STEP: u64 = 1_000;

fn config_error(e: impl std::fmt::Display) -> String {
    format!("hot path configuration: {e}")
}

#[allow(clippy::unnecessary_wraps, reason = "every hot path is a `HotPath`")]
fn count_record<const N: usize>(iters: u64) -> Result<(), String> {
    let w: CountWindow<N> = CountWindow::new();
    for _ in 0..N {
        w.record(Outcome::Success);
    }
    for _ in 0..iters {
        black_box(w.record(black_box(Outcome::Success)));
    }
    Ok(())
}

fn count100_record(iters: u64) -> Result<(), String> {
    count_record::<100>(iters)
}

fn count1000_record(iters: u64) -> Result<(), String> {
    count_record::<1000>(iters)
}

fn time_record<const K: usize>(iters: u64) -> Result<(), String> {
    let w: TimeWindow<K> = TimeWindow::new(Nanos::from_secs(1)).map_err(config_error)?;
    let mut now = 0u64;
    for _ in 0..iters {
        now += STEP;
        black_box(w.record(black_box(Outcome::Success), Nanos::new(now)));
    }
    Ok(())
}

fn time10_record(iters: u64) -> Result<(), String> {
    time_record::<10>(iters)
}

fn time100_record(iters: u64) -> Result<(), String> {
    time_record::<100>(iters)
}

fn closed_breaker() -> Result<CountBreaker<64>, String> {
    CountBreaker::new(BreakerConfig { consecutive_failures: Some(1), ..BreakerConfig::DEFAULT })
        .map_err(config_error)
}

const NOW: Nanos = Nanos::from_secs(1);

fn breaker_try_acquire_closed(iters: u64) -> Result<(), String> {
    let b = closed_breaker()?;
    for _ in 0..iters {
        black_box(b.try_acquire(black_box(NOW)).is_ok());
    }
    Ok(())
}

fn breaker_guarded_call(iters: u64) -> Result<(), String> {
    let b = closed_breaker()?;
    for _ in 0..iters {
        if let Ok(p) = b.try_acquire(black_box(NOW)) {
            let _ = black_box(p.record(Outcome::Success, NOW));
        }
    }
    Ok(())
}

fn breaker_try_acquire_open(iters: u64) -> Result<(), String> {
    let b = closed_breaker()?;
    if let Ok(p) = b.try_acquire(NOW) {
        let _ = p.record(Outcome::Failure, NOW);
    }
    if b.try_acquire(NOW).is_ok() {
        return Err("the breaker did not open after one failure".into());
    }
    for _ in 0..iters {
        black_box(b.try_acquire(black_box(NOW)).is_ok());
    }
    Ok(())
}

fn limiter_try_acquire(iters: u64) -> Result<(), String> {
    let q = Quota::per_interval(Nanos::new(1), 1 << 40).map_err(config_error)?;
    let l = RateLimiter::new(RateLimiterConfig::new(q), Nanos::ZERO);
    let mut now = 0u64;
    for _ in 0..iters {
        now += STEP;
        let _ = black_box(l.try_acquire(black_box(Nanos::new(now))));
    }
    Ok(())
}

fn bulkhead_acquire_release(iters: u64) -> Result<(), String> {
    let b = Bulkhead::new(1_000).map_err(config_error)?;
    for _ in 0..iters {
        if let Ok(p) = b.try_acquire(black_box(1)) {
            drop(black_box(p));
        }
    }
    Ok(())
}

/// Refusals by a full bulkhead (limit 1, its permit held) that counts them or not.
fn bulkhead_refuse(iters: u64, count_refusals: bool) -> Result<(), String> {
    let b = Bulkhead::new(1).map_err(config_error)?.count_refusals(count_refusals);
    let held = b.try_acquire(1).map_err(config_error)?;
    for _ in 0..iters {
        let _ = black_box(b.try_acquire(black_box(1)).is_err());
    }
    drop(held);
    Ok(())
}

fn bulkhead_refusal(iters: u64) -> Result<(), String> {
    bulkhead_refuse(iters, true)
}

fn bulkhead_refusal_uncounted(iters: u64) -> Result<(), String> {
    bulkhead_refuse(iters, false)
}

#[allow(clippy::unnecessary_wraps, reason = "every hot path is a `HotPath`")]
fn histogram_record(iters: u64) -> Result<(), String> {
    let h: Histogram = Histogram::new();
    let mut v = 1u64;
    for _ in 0..iters {
        // Latencies spread over the whole range, so every bucket index computation is exercised.
        v = v.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        h.record(black_box(Nanos::new(v >> 24)));
    }
    Ok(())
}

fn throttle_success_failure(iters: u64) -> Result<(), String> {
    let t = RetryThrottle::new(ThrottleConfig::DEFAULT).map_err(config_error)?;
    for _ in 0..iters {
        t.record_success();
        black_box(t.record_failure());
    }
    Ok(())
}

fn ratio_deposit_withdraw(iters: u64) -> Result<(), String> {
    let r = RatioBudget::<10>::new(RatioBudgetConfig {
        retry_ratio_permille: 1_000,
        ..RatioBudgetConfig::DEFAULT
    })
    .map_err(config_error)?;
    for _ in 0..iters {
        r.deposit(black_box(NOW));
        black_box(r.try_withdraw(NOW));
    }
    Ok(())
}

fn health_record(iters: u64) -> Result<(), String> {
    let m = HealthMachine::new(HealthConfig::DEFAULT).map_err(config_error)?;
    for i in 0..iters {
        let _ = black_box(m.record(!i.is_multiple_of(16), Nanos::new(i)));
    }
    Ok(())
}

/// `size_of` of every primitive, with typical sizes of the generic ones.
fn print_sizes() {
    macro_rules! sizes {
        ($($t:ty),* $(,)?) => {
            $(println!("{} {}", stringify!($t).replace(' ', ""), std::mem::size_of::<$t>());)*
        };
    }
    sizes!(
        CountWindow<16>,
        CountWindow<100>,
        CountWindow<1000>,
        TimeWindow<10>,
        TimeWindow<60>,
        TimeWindow<100>,
        CountBreaker<64>,
        CountBreaker<100>,
        TimeBreaker<10>,
        TimeBreaker<60>,
        RateLimiter,
        Bulkhead,
        Aimd,
        Gradient,
        Histogram,
        HedgePolicy,
        HedgeBudget,
        RetryThrottle,
        RatioBudget<10>,
        HealthMachine,
        HealthAggregate<4>,
        Deadline,
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd] if cmd == "sizes" => {
            print_sizes();
            ExitCode::SUCCESS
        }
        [cmd] if cmd == "list" => {
            for (name, _) in HOT_PATHS {
                println!("{name}");
            }
            ExitCode::SUCCESS
        }
        [name, iters] => {
            let Ok(iters) = iters.parse::<u64>() else {
                eprintln!("hotpaths: not an iteration count: {iters}");
                return ExitCode::from(2);
            };
            let Some((_, run)) = HOT_PATHS.iter().find(|(n, _)| n == name) else {
                eprintln!("hotpaths: unknown hot path {name} (see `hotpaths list`)");
                return ExitCode::from(2);
            };
            match run(iters) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hotpaths: {name}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("usage: hotpaths list | hotpaths sizes | hotpaths <hot path> <iterations>");
            ExitCode::from(2)
        }
    }
}
