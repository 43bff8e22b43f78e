//! The retry-storm reproduction: naive retries multiply the load on a failing and recovering
//! dependency; a retry budget keeps the amplification bounded.

use portcullis_sim::engine::Run;
use portcullis_sim::{run_scenario, scenario};

fn runs() -> (f64, Vec<Run>) {
    let s = scenario::built_in("retry-storm").unwrap();
    (s.workload.rate, run_scenario(&s, s.seed).unwrap())
}

fn get<'a>(runs: &'a [Run], name: &str) -> &'a Run {
    runs.iter().find(|r| r.strategy == name).unwrap()
}

#[test]
fn naive_retries_multiply_the_peak_load() {
    let (rate, runs) = runs();
    let naive = get(&runs, "naive").summary.peak_load / rate;
    let none = get(&runs, "no-retry").summary.peak_load / rate;
    // Five attempts per call in a total outage: the peak is close to 5× the offered load
    // (tolerance: at least 4×), against about 1× without retries (Poisson noise: below 1.3×).
    assert!(naive >= 4.0, "naive peak factor {naive}");
    assert!(none < 1.3, "no-retry peak factor {none}");
}

#[test]
fn retry_budgets_bound_the_amplification() {
    let (rate, runs) = runs();
    let naive = get(&runs, "naive").summary.amplification();
    for name in ["naive+ratio-budget", "naive+throttle"] {
        let s = &get(&runs, name).summary;
        // Finagle's 20 % budget: at most about 1.2 attempts per call over the run (tolerance
        // 1.25); gRPC throttling stops retrying within a few failures.
        assert!(s.amplification() <= 1.25, "{name}: {}", s.amplification());
        assert!(s.amplification() * 1.8 < naive, "{name} vs naive {naive}");
    }
    // The throttle also keeps the peak near the offered load (tolerance 1.3×).
    let throttle = get(&runs, "naive+throttle").summary.peak_load / rate;
    assert!(throttle < 1.3, "throttle peak factor {throttle}");
}

#[test]
fn decorrelated_jitter_spreads_but_does_not_cut_attempts() {
    let (_, runs) = runs();
    let naive = &get(&runs, "naive").summary;
    let dec = &get(&runs, "decorrelated").summary;
    // Same attempt cap: the total stays within 10 % of naive, the peak no higher.
    assert!(dec.amplification() <= naive.amplification() * 1.1);
    assert!(dec.peak_load <= naive.peak_load);
}
