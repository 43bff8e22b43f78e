//! Replays every checked-in corpus file (`fuzz/corpus/<target>/*`) through its check, so the
//! seeds and every minimised crash input added there stay green on a plain `cargo test`.
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no corpus files", dir.display());
    for f in &files {
        let data = std::fs::read(f).expect("corpus file");
        println!("{target}: {} ({} bytes)", f.display(), data.len());
        check(&data);
    }
}

#[test]
fn window_ops_corpus() {
    replay("window_ops", portcullis_fuzz_checks::window_ops::check);
}

#[test]
fn window_config_corpus() {
    replay("window_config", portcullis_fuzz_checks::window_config::check);
}

#[test]
fn deadline_headers_corpus() {
    replay("deadline_headers", portcullis_fuzz_checks::deadline_headers::check);
}

#[test]
fn histogram_ops_corpus() {
    replay("histogram_ops", portcullis_fuzz_checks::histogram_ops::check);
}

#[test]
fn health_ops_corpus() {
    replay("health_ops", portcullis_fuzz_checks::health_ops::check);
}

#[test]
fn breaker_ops_corpus() {
    replay("breaker_ops", portcullis_fuzz_checks::breaker_ops::check);
}

#[test]
fn limiter_ops_corpus() {
    replay("limiter_ops", portcullis_fuzz_checks::limiter_ops::check);
}

#[test]
fn bulkhead_ops_corpus() {
    replay("bulkhead_ops", portcullis_fuzz_checks::bulkhead_ops::check);
}

#[test]
fn config_bytes_corpus() {
    replay("config_bytes", portcullis_fuzz_checks::config_bytes::check);
}

#[test]
fn sim_scenario_corpus() {
    replay("sim_scenario", portcullis_fuzz_checks::sim_scenario::check);
}
