//! libFuzzer entry point of the `window_config` check (`checks/src/window_config.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::window_config::check(data));
