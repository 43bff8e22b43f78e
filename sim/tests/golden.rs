//! Golden results: the summary CSV of every built-in scenario, the cascade and the reproductions,
//! at its default seed, must match the file checked in under `sim/golden/`, so a change of semantics in the
//! core shows up in review as a changed number. Regenerate with
//! `PCL_BLESS=1 cargo test -p portcullis-sim --test golden` and review the diff.

use std::path::PathBuf;

use portcullis_sim::{cascade, report, repro, run_scenario, scenario, sizing};

fn golden(name: &str, actual: &str) -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden").join(format!("{name}.csv"));
    if std::env::var_os("PCL_BLESS").is_some() {
        std::fs::write(&path, actual).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let expected =
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{name}: the results changed (rerun with PCL_BLESS=1 and review the diff)\n--- golden\n{expected}--- now\n{actual}"
        ))
    }
}

fn scenario_csv(name: &str, seed: Option<u64>) -> String {
    let s = scenario::built_in(name).unwrap();
    let runs = run_scenario(&s, seed.unwrap_or(s.seed)).unwrap();
    report::summary_csv(&s, &runs)
}

#[test]
fn built_in_scenarios_match_their_golden_summaries() {
    let failures: Vec<String> = scenario::BUILT_IN
        .iter()
        .filter_map(|(name, _)| golden(name, &scenario_csv(name, None)).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reproductions_match_their_golden_summaries() {
    let table = repro::contention_table(repro::CONTENTION_CLIENTS, repro::CONTENTION_RUNS, 1);
    golden("brooker-contention", &repro::contention_csv(repro::CONTENTION_CLIENTS, &table))
        .unwrap();
    let plain = repro::fan_out(repro::FAN_OUT_REQUESTS, repro::FAN_OUT, false, 1);
    let hedged = repro::fan_out(repro::FAN_OUT_REQUESTS, repro::FAN_OUT, true, 1);
    golden("tail-at-scale", &repro::fan_out_csv(&[&plain, &hedged])).unwrap();
    golden("bulkhead-sizing", &sizing::example_csv(1).1).unwrap();
}

#[test]
fn the_cascade_matches_its_golden_summary_and_replays() {
    let c = cascade::built_in().unwrap();
    let runs = cascade::run_all(&c, c.seed).unwrap();
    golden("cascade", &cascade::summary_csv(&c, &runs)).unwrap();
    let again = cascade::run_all(&c, c.seed).unwrap();
    assert_eq!(cascade::series_csv(&c, &runs), cascade::series_csv(&c, &again));
    assert_eq!(cascade::success_svg(&c, &runs), cascade::success_svg(&c, &again));
    let other = cascade::run_all(&c, c.seed + 1).unwrap();
    assert_ne!(cascade::summary_csv(&c, &runs), cascade::summary_csv(&c, &other));
}

#[test]
fn same_seed_gives_byte_identical_csv() {
    for (name, _) in scenario::BUILT_IN {
        let s = scenario::built_in(name).unwrap();
        let a = run_scenario(&s, 42).unwrap();
        let b = run_scenario(&s, 42).unwrap();
        assert_eq!(report::summary_csv(&s, &a), report::summary_csv(&s, &b), "{name}");
        assert_eq!(report::series_csv(&s, &a), report::series_csv(&s, &b), "{name}");
        assert_eq!(report::load_svg(&s, &a), report::load_svg(&s, &b), "{name}");
    }
    // And a different seed gives different draws.
    assert_ne!(scenario_csv("sudden-outage", Some(42)), scenario_csv("sudden-outage", Some(43)));
}
