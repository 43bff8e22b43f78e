//! libFuzzer entry point of the `health_ops` check (`checks/src/health_ops.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::health_ops::check(data));
