//! Helpers shared by the test binaries that compile C programs against `libportcullis_ffi`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<profile>`, found from the running test binary (`target/<profile>/deps/<test>-*`).
pub(crate) fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `cmd`, fails the test with its output unless it succeeds, and returns its stdout.
pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{stdout}\n{stderr}", out.status);
    stdout
}

/// `cargo test` builds this crate only as an `rlib` for its integration tests, so the static and
/// shared libraries in `target/<profile>/` could be older than the code under test, or missing:
/// build them (once per test binary; a no-op when they are fresh) before any C program links
/// them. Returns the path of `libportcullis_ffi.a`; the `.so` lies beside it.
pub(crate) fn static_lib() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let profile = profile_dir();
    BUILT.call_once(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "--lib", "-p", "portcullis-ffi", "--manifest-path"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", profile.parent().expect("target dir"));
        if profile.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        run(&mut cmd);
    });
    let lib = profile.join("libportcullis_ffi.a");
    assert!(lib.exists(), "{} missing", lib.display());
    lib
}
