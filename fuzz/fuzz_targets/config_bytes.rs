//! libFuzzer entry point of the `config_bytes` check (`checks/src/config_bytes.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::config_bytes::check(data));
