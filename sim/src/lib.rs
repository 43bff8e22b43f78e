//! The portcullis simulator: a seeded discrete-event simulation that drives the real
//! `portcullis` primitives on a virtual clock.
//!
//! See `docs/simulator.md` for the scenario format, the measurements and the reproductions.

pub mod cascade;
pub mod engine;
pub mod model;
pub mod report;
pub mod repro;
pub mod scenario;
pub mod sizing;

use engine::{Run, Scenario};
use portcullis::ConfigError;

/// Runs every strategy of `scenario` with `seed` (each on the same dependency draws' seed).
///
/// # Errors
///
/// The first strategy whose policies the core rejects.
pub fn run_scenario(scenario: &Scenario, seed: u64) -> Result<Vec<Run>, ConfigError> {
    scenario.strategies.iter().map(|s| engine::run(scenario, s, seed)).collect()
}
