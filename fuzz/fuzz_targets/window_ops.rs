//! libFuzzer entry point of the `window_ops` check (`checks/src/window_ops.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::window_ops::check(data));
