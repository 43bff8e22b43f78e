//! Gives the shared library the SONAME it is installed under (`libportcullis.so.<major>`), so
//! programs linked against an installed copy keep working across compatible upgrades.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".to_owned());
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "android" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libportcullis.so.{major}");
    }
}
