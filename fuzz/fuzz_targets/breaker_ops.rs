//! libFuzzer entry point of the `breaker_ops` check (`checks/src/breaker_ops.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::breaker_ops::check(data));
