//! `portcullis`: runs portcullis's real primitives against a simulated dependency on a virtual
//! clock and prints what they see.
//!
//! The built-in scenario drives both sliding windows through an outage: a dependency that serves
//! 200 calls per second, fails 2 % of calls while healthy, fails 90 % of them (and turns slow)
//! from t = 10 s to t = 20 s, then recovers. Each second the program prints what a count window
//! of the last 100 calls and a time window of the last 5 s (10 buckets) report, so the difference
//! between "the last N calls" and "the last T seconds" is visible: how fast each detects the
//! outage and how long each remembers it.
//!
//! Usage: `portcullis [--seed N] [--csv]`.

use std::process::ExitCode;

use portcullis::rng::SplitMix64;
use portcullis::window::{CountWindow, Outcome, TimeWindow, WindowCounts};
use portcullis::{Clock, ManualClock, Nanos};

/// Calls per simulated second.
const RATE: u64 = 200;
/// Simulated seconds.
const DURATION_S: u64 = 30;

/// The dependency's failure probability (per mille) and slowness at time `t`.
fn dependency(t: Nanos) -> (u64, bool) {
    let s = t.as_u64() / 1_000_000_000;
    if (10..20).contains(&s) { (900, true) } else { (20, false) }
}

fn rate(c: WindowCounts) -> String {
    c.failure_rate_ppm()
        .map_or_else(|| "-".to_owned(), |ppm| format!("{:.1}%", f64::from(ppm) / 1e4))
}

fn slow_rate(c: WindowCounts) -> String {
    c.slow_rate_ppm().map_or_else(|| "-".to_owned(), |ppm| format!("{:.1}%", f64::from(ppm) / 1e4))
}

fn main() -> ExitCode {
    let mut seed = 1u64;
    let mut csv = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--csv" => csv = true,
            "--seed" => {
                let Some(v) = args.next().and_then(|v| v.parse().ok()) else {
                    eprintln!("portcullis: --seed needs a non-negative integer");
                    return ExitCode::from(2);
                };
                seed = v;
            }
            "-h" | "--help" => {
                println!("usage: portcullis [--seed N] [--csv]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("portcullis: unknown argument {other:?} (try --help)");
                return ExitCode::from(2);
            }
        }
    }

    let clock = ManualClock::new(Nanos::ZERO);
    let mut rng = SplitMix64::new(seed);
    let count = CountWindow::<100>::new();
    let Ok(time) = TimeWindow::<10>::new(Nanos::from_secs(5)) else {
        eprintln!("portcullis: invalid built-in window configuration");
        return ExitCode::FAILURE;
    };
    let step = Nanos::new(1_000_000_000 / RATE);

    if csv {
        println!("t_s,count_calls,count_failure_ppm,time_calls,time_failure_ppm,time_slow_ppm");
    } else {
        println!(
            "scenario: 200 calls/s; 2% errors, then 90% errors and slow calls from 10 s to 20 s"
        );
        println!("seed: {seed}\n");
        println!(
            "{:>4}  {:>22}  {:>34}",
            "t(s)", "count window (last 100)", "time window (last 5 s, 10 buckets)"
        );
        println!(
            "{:>4}  {:>9} {:>12}  {:>9} {:>12} {:>11}",
            "", "calls", "failures", "calls", "failures", "slow"
        );
    }
    for second in 1..=DURATION_S {
        for _ in 0..RATE {
            let now = clock.now();
            let (per_mille, slow) = dependency(now);
            let failed = rng.below(1_000) < per_mille;
            let outcome = Outcome::from_parts(failed, slow);
            count.record(outcome);
            time.record(outcome, now);
            clock.advance(step);
        }
        let now = clock.now();
        let (c, t) = (count.counts(), time.counts(now));
        if csv {
            println!(
                "{second},{},{},{},{},{}",
                c.calls,
                c.failure_rate_ppm().unwrap_or(0),
                t.calls,
                t.failure_rate_ppm().unwrap_or(0),
                t.slow_rate_ppm().unwrap_or(0)
            );
        } else {
            println!(
                "{second:>4}  {:>9} {:>12}  {:>9} {:>12} {:>11}",
                c.calls,
                rate(c),
                t.calls,
                rate(t),
                slow_rate(t)
            );
        }
    }
    ExitCode::SUCCESS
}
