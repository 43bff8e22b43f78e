//! libFuzzer entry point of the `bulkhead_ops` check (`checks/src/bulkhead_ops.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::bulkhead_ops::check(data));
