//! libFuzzer entry point of the `deadline_headers` check (`checks/src/deadline_headers.rs`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz_checks::deadline_headers::check(data));
