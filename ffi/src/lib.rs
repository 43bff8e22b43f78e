//! The C ABI of portcullis.
//!
//! Built as `libportcullis_ffi.a` (static), `libportcullis_ffi.so` (shared) and an `rlib` (so Rust
//! tests and fuzz targets can call the exported functions). The header `include/portcullis.h` is
//! generated from this crate by cbindgen; `tests/header.rs` fails when the checked-in copy is out
//! of date.
//!
//! Conventions (see `docs/c-api.md`):
//! - every function is `pcl_<object>_<verb>` and returns a [`pcl_status`](status::pcl_status)
//!   when it can fail or refuse; results go to `*_out` parameters, written only on success;
//! - every pointer may be NULL (answered by `PCL_STATUS_NULL_ARGUMENT`), every size is checked,
//!   and no panic unwinds into C (a boundary turns one into `PCL_STATUS_PANIC`);
//! - integers that stand for enumerations (outcomes) are validated on entry;
//! - objects can live on the heap (`_new`/`_free`) or in caller memory (`_init` with `_size()` and
//!   `_align()`); they hold no pointers, so caller memory may be static storage or a mapping
//!   shared between processes.
#![allow(non_camel_case_types, reason = "C naming: pcl_* types as the header spells them")]

pub mod adaptive;
mod boundary;
pub mod breaker;
pub mod bulkhead;
pub mod clock;
pub mod deadline;
pub mod health;
pub mod hedge;
pub mod limiter;
pub mod retry;
pub mod status;
pub mod window;

/// Major version of the library the header was generated from.
pub const PCL_VERSION_MAJOR: u32 = 0;
/// Minor version of the library the header was generated from.
pub const PCL_VERSION_MINOR: u32 = 1;
/// Patch version of the library the header was generated from.
pub const PCL_VERSION_PATCH: u32 = 0;

/// Parses a decimal version component at compile time.
const fn parse(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0u32;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

// The header's literal macros must agree with Cargo's version: a release that forgets to update
// them fails to compile.
const _: () = assert!(PCL_VERSION_MAJOR == parse(env!("CARGO_PKG_VERSION_MAJOR")));
const _: () = assert!(PCL_VERSION_MINOR == parse(env!("CARGO_PKG_VERSION_MINOR")));
const _: () = assert!(PCL_VERSION_PATCH == parse(env!("CARGO_PKG_VERSION_PATCH")));

/// The library's version as `major * 10000 + minor * 100 + patch`: compare it with
/// `PCL_VERSION_MAJOR * 10000 + PCL_VERSION_MINOR * 100 + PCL_VERSION_PATCH` from the header to
/// detect a header/library mismatch.
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_version() -> u32 {
    PCL_VERSION_MAJOR * 10_000 + PCL_VERSION_MINOR * 100 + PCL_VERSION_PATCH
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_matches_cargo() {
        let cargo: Vec<u32> =
            env!("CARGO_PKG_VERSION").split('.').map(|p| p.parse().unwrap()).collect();
        assert_eq!(super::pcl_version(), cargo[0] * 10_000 + cargo[1] * 100 + cargo[2]);
    }
}
