//! The C ABI of portcullis (`libportcullis`).
//!
//! Built as a `cdylib`, a `staticlib` and an `rlib` (so Rust tests and fuzz targets can call the
//! exported functions). The exported surface grows with each primitive; every export is named
//! `pcl_<object>_<verb>`.

/// The library version as `major * 10000 + minor * 100 + patch`, for comparison with the header's
/// `PCL_VERSION_NUMBER`.
///
/// Thread-safe; never fails.
#[unsafe(no_mangle)]
pub extern "C" fn pcl_version_number() -> u32 {
    version_number(
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    )
}

/// `major * 10000 + minor * 100 + patch` from the three decimal strings Cargo provides.
fn version_number(major: &str, minor: &str, patch: &str) -> u32 {
    let p = |s: &str| s.parse::<u32>().unwrap_or(0);
    p(major) * 10_000 + p(minor) * 100 + p(patch)
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_number_matches_cargo() {
        assert_eq!(super::version_number("1", "2", "3"), 10_203);
        assert_eq!(super::pcl_version_number(), 100); // 0.1.0
    }
}
