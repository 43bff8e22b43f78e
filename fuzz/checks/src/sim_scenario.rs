//! `sim_scenario`: random bytes as a simulator scenario file, through the simulator's public
//! loader `portcullis_sim::scenario::parse` (what `portcullis run FILE` calls), and as a
//! duration through `parse_duration`.
//!
//! Properties: never a panic; an error names the file it was given, a line that exists in the
//! text (when it has one), and a non-empty message, and prints as `file:line: message` (or
//! `file: message`); an unknown key is named in the message and appears in the text; a scenario
//! accepted has at least one strategy, a positive finite call rate, and strategies whose
//! policies the core accepts together (`engine::validate`), so that `run` cannot fail on them.
//!
//! Input: the bytes as UTF-8 (invalid sequences replaced).
use portcullis_sim::engine;
use portcullis_sim::scenario::{parse, parse_duration};

const FILE: &str = "fuzz.toml";

/// Runs one input.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = parse_duration(&text);
    match parse(FILE, &text) {
        Ok(s) => {
            assert!(!s.strategies.is_empty(), "a scenario without strategies was accepted");
            assert!(
                s.workload.rate.is_finite() && s.workload.rate > 0.0
                    || s.workload.rate == f64::INFINITY,
                "call rate {}",
                s.workload.rate
            );
            for st in &s.strategies {
                if let Err(e) = engine::validate(st) {
                    panic!(
                        "strategy {:?} accepted but its policies are refused together: {e}",
                        st.name
                    );
                }
            }
        }
        Err(e) => {
            assert_eq!(e.file, FILE, "the error names the file");
            assert!(!e.message.is_empty(), "an error without a message");
            let lines = text.matches('\n').count() + 1;
            let shown = e.to_string();
            match e.line {
                Some(l) => {
                    assert!((1..=lines).contains(&l), "line {l} of a text of {lines} lines: {e}");
                    assert!(shown.starts_with(&format!("{FILE}:{l}: ")), "{shown}");
                }
                None => assert!(shown.starts_with(&format!("{FILE}: ")), "{shown}"),
            }
            if let Some(rest) = e.message.split("unknown field `").nth(1) {
                let key = rest.split('`').next().unwrap_or_default();
                assert!(!key.is_empty(), "an unknown field without a name: {e}");
                if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    assert!(text.contains(key), "unknown field {key:?} not in the text: {e}");
                }
            }
        }
    }
}
