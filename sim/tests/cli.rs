//! The `portcullis` binary: the default run writes its report and plots; `--csv` output is the
//! same bytes for the same seed; a bad scenario file is refused with its file, line and key.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn default_run_writes_tables_csv_and_plots() {
    let out = scratch("default-run");
    let o = bin().arg("--out").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("== retry-storm") && stdout.contains("== tail-at-scale"), "{stdout}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("[7/10] retry-storm"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[10/10] cascade"));
    for f in [
        "summary.csv",
        "sudden-outage/load.svg",
        "sudden-outage/breaker.svg",
        "sudden-outage/series.csv",
        "sudden-outage/transitions.csv",
        "heavy-tail/latency-cdf.svg",
        "brooker-contention.csv",
        "tail-at-scale-cdf.svg",
        "bulkhead-sizing.csv",
        "slow-recovery/load.svg",
        "overload-throttle/load.svg",
        "cascade/success.svg",
        "cascade/busy.svg",
        "cascade/series.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    // A header and one row per strategy of the nine built-in scenarios (the cascade has its own).
    assert_eq!(summary.lines().count(), 1 + 4 + 3 + 3 + 2 + 2 + 4 + 6 + 3 + 3);
    let chain = std::fs::read_to_string(out.join("cascade/summary.csv")).unwrap();
    assert_eq!(chain.lines().count(), 1 + 6);
}

#[test]
fn csv_output_is_byte_identical_for_a_seed() {
    let run = |seed: &str| {
        let out = scratch(&format!("csv-{seed}"));
        let o = bin()
            .args(["--csv", "--quiet", "--no-repro", "--only", "intermittent", "--seed", seed])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success());
        o.stdout
    };
    assert_eq!(run("5"), run("5"));
    assert_ne!(run("5"), run("6"));
}

#[test]
fn bad_scenario_file_names_file_line_and_key() {
    let dir = scratch("bad-file");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "name = \"x\"\nduration = \"10s\"\n[clients]\nrate = 10.0\n[dependency]\n\
         latency = { distribution = \"fixed\", value = \"10ms\" }\n[[strategy]]\nname = \"r\"\n\
         [strategy.retry]\nmaxAttempts = 3\nwaitDurration = \"1s\"\n",
    )
    .unwrap();
    let o = bin().arg("--scenario").arg(&file).arg("--out").arg(&dir).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("{}:11:", file.display())), "{err}");
    assert!(err.contains("waitDurration"), "{err}");
}

#[test]
fn unknown_argument_is_refused() {
    let o = bin().arg("--frobnicate").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}
