//! Gives the shared library the SONAME it is installed under (`libportcullis.so.<major>`), so
//! programs linked against an installed copy keep working across compatible upgrades. With the
//! `no-panic-check` feature, links it with `-z defs`, so that an undefined symbol fails the
//! build: this is what turns a `#[no_panic]` function that could panic into a build error (see
//! `src/boundary.rs`).

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".to_owned());
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "android" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libportcullis.so.{major}");
        if std::env::var_os("CARGO_FEATURE_NO_PANIC_CHECK").is_some() {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-z,defs");
        }
    }
}
