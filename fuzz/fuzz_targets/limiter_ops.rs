//! libFuzzer entry point of the `limiter_ops` check (`checks/src/limiter_ops.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::limiter_ops::check(data));
