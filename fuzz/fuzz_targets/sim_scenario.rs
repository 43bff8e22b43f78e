//! libFuzzer entry point of the `sim_scenario` check (`checks/src/sim_scenario.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::sim_scenario::check(data));
