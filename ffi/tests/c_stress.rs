//! Builds and runs the multi-threaded C stress program (`tests/c_stress/stress.c`: pthreads on
//! one shared count window and one time window) against the static library built by this
//! `cargo test`, plain and under AddressSanitizer + UndefinedBehaviorSanitizer, for a short
//! bounded run (`PCL_STRESS_MS`, default here 300 ms). ThreadSanitizer needs the Rust library
//! instrumented as well: `scripts/sanitizers.sh` does that.

mod support;

use std::path::Path;
use std::process::Command;

use support::{profile_dir, repo, run, static_lib};

fn build_and_run(name: &str, extra: &[&str]) {
    let lib = static_lib();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_dir = profile_dir().join("c-stress");
    std::fs::create_dir_all(&out_dir).expect("create c-stress dir");
    let exe = out_dir.join(name);
    run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-g", "-O1", "-pthread"])
        .args(extra)
        .arg("-I")
        .arg(repo().join("include"))
        .arg(dir.join("tests/c_stress/stress.c"))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe));
    let ms = std::env::var("PCL_STRESS_MS").unwrap_or_else(|_| "300".to_owned());
    let out = run(Command::new(&exe).env("PCL_STRESS_MS", ms));
    print!("{out}");
    assert!(out.trim_end().ends_with(", 0 failed"), "C stress: {out}");
}

#[test]
fn c_stress_passes() {
    build_and_run("stress-plain", &[]);
}

#[test]
fn c_stress_passes_under_asan_and_ubsan() {
    build_and_run(
        "stress-asan",
        &["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"],
    );
}
