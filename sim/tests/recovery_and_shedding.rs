//! The slow-recovery, overload-throttle and cascade scenarios: what `docs/simulator.md` says they
//! show, asserted at their default seed with stated tolerances.

use portcullis_sim::cascade;
use portcullis_sim::engine::{Run, Scenario};
use portcullis_sim::{run_scenario, scenario};

fn runs(name: &str) -> (Scenario, Vec<Run>) {
    let s = scenario::built_in(name).unwrap();
    let runs = run_scenario(&s, s.seed).unwrap();
    (s, runs)
}

fn get<'a>(runs: &'a [Run], name: &str) -> &'a Run {
    runs.iter().find(|r| r.strategy == name).unwrap()
}

/// Attempts sent and calls succeeded in the buckets of `[from, to)` seconds.
fn window(s: &Scenario, r: &Run, from: f64, to: f64) -> (u64, u64) {
    let width = portcullis_sim::model::to_secs(s.bucket);
    let mut attempts = 0;
    let mut ok = 0;
    for (i, b) in r.buckets.iter().enumerate() {
        let t = width * f64::from(u32::try_from(i).unwrap());
        if t >= from && t < to {
            attempts += b.load();
            ok += b.succeeded;
        }
    }
    (attempts, ok)
}

#[test]
fn a_recovery_ramp_sends_a_warming_dependency_fewer_failing_attempts() {
    let (s, runs) = runs("slow-recovery");
    let plain = get(&runs, "breaker");
    let (sent, ok) = window(&s, plain, 30.0, 60.0);
    let plain_failed = sent - ok;
    for name in ["breaker+linear-ramp", "breaker+exp-ramp"] {
        let ramped = get(&runs, name);
        let (sent_r, ok_r) = window(&s, ramped, 30.0, 60.0);
        // At least 4× fewer attempts that the cold dependency fails, and no relapse trip.
        assert!(4 * (sent_r - ok_r) <= plain_failed, "{name}: {} vs {plain_failed}", sent_r - ok_r);
        assert!(ramped.summary.trips < plain.summary.trips, "{name}");
        // The price: the ramp admits less than the dependency could already serve, so fewer calls
        // succeed while it warms up (by less than 25 %).
        assert!(ok_r < ok && 4 * ok_r > 3 * ok, "{name}: {ok_r} vs {ok}");
    }
}

#[test]
fn client_side_throttling_keeps_goodput_where_a_breaker_oscillates() {
    let (s, runs) = runs("overload-throttle");
    let [none, breaker, throttle] =
        ["none", "breaker", "throttle"].map(|n| window(&s, get(&runs, n), 10.0, 50.0));
    // Goodput during the overload: the throttle serves at least 1.5× what sending everything
    // does (refusals eat the backend's capacity), and 2× what the oscillating breaker does.
    assert!(2 * throttle.1 >= 3 * none.1, "{throttle:?} vs {none:?}");
    assert!(throttle.1 >= 2 * breaker.1, "{throttle:?} vs {breaker:?}");
    // It sends the backend at most two thirds of the offered load (about K × what it accepts).
    assert!(3 * throttle.0 <= 2 * none.0, "{throttle:?} vs {none:?}");
    assert_eq!(get(&runs, "throttle").summary.trips, 0);
}

#[test]
fn breakers_stop_the_cascade_and_coordination_changes_what_the_middle_sheds() {
    let c = cascade::built_in().unwrap();
    let runs = cascade::run_all(&c, c.seed).unwrap();
    let get = |n: &str| &runs.iter().find(|r| r.strategy == n).unwrap().summary;
    let none = get("no breakers");
    // Without breakers the api's workers stay busy for most of the outage, and even calls that
    // never reach fraud fail.
    assert!(none.saturated[0] > 15.0, "{:?}", none.saturated);
    assert!(none.outage_success(0).unwrap() < 0.8);
    // Breakers on the inner hops fail fraud's calls fast: the api is saturated for seconds, not
    // the whole outage, and every call that does not need payments succeeds.
    for name in ["inner hops", "inner hops 1 s", "coord strict", "coord re-probe"] {
        let s = get(name);
        assert!(s.saturated[0] < 5.0, "{name}: {:?}", s.saturated);
        assert!(s.outage_success(0).unwrap() > 0.99, "{name}");
    }
    // A breaker at the clients' edge judges the api as a whole and sheds the calls it could
    // serve.
    assert!(get("every hop").outage_success(0).unwrap() < 0.5);
    let inner = get("inner hops").outage_success(1).unwrap();
    // A stricter profile for payments' callers while fraud is down sheds the payments calls that
    // did not need fraud: fewer than half of those the independent breakers kept.
    assert!(2.0 * get("coord strict").outage_success(1).unwrap() < inner);
    // Re-probing sooner while fraud is down keeps more of them than the independent breakers, and
    // probes fraud less often than giving every breaker the short open period.
    let reprobe = get("coord re-probe");
    assert!(reprobe.outage_success(1).unwrap() > inner);
    assert!(reprobe.trips[2] < get("inner hops 1 s").trips[2]);
}
