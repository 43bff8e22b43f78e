//! libFuzzer entry point of the `histogram_ops` check (`checks/src/histogram_ops.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::histogram_ops::check(data));
