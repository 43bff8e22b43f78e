//! Builds and runs the C test suite (`tests/c/*.c`) against the static library built by this
//! `cargo test`: the header compiled as C99, C11, C17 and C++17 with every warning an error, the
//! suite under AddressSanitizer and UndefinedBehaviorSanitizer, and the plain suite under
//! valgrind memcheck.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<profile>`: the directory holding `libportcullis_ffi.a`, found from this test binary
/// (`target/<profile>/deps/c_suite-*`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}

/// A library file this `cargo test` built (`libportcullis_ffi.a` or `.so`): `cargo test` writes
/// it to `deps/` and does not copy it to `target/<profile>/` (only `cargo build` does), where an
/// older build may lie.
fn built_lib(file: &str) -> PathBuf {
    let fresh = profile_dir().join("deps").join(file);
    if fresh.exists() { fresh } else { profile_dir().join(file) }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn c_sources() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/c")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    files.sort();
    files
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{stdout}\n{stderr}", out.status);
    stdout
}

/// Compiles the suite with `extra` flags into `name` and returns its path.
fn build_suite(name: &str, extra: &[&str]) -> PathBuf {
    let lib = built_lib("libportcullis_ffi.a");
    assert!(lib.exists(), "{} missing", lib.display());
    let out_dir = profile_dir().join("c-suite");
    std::fs::create_dir_all(&out_dir).expect("create c-suite dir");
    let exe = out_dir.join(name);
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-g"])
        .args(extra)
        .arg("-I")
        .arg(repo().join("include"))
        .args(c_sources())
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe);
    run(&mut cmd);
    exe
}

fn assert_all_passed(output: &str) {
    let line = output.lines().last().unwrap_or_default();
    print!("{output}");
    assert!(line.ends_with(" passed, 0 failed"), "C suite: {line}");
}

#[test]
fn header_compiles_as_c_and_cpp_with_all_warnings() {
    let header = repo().join("include/portcullis.h");
    for std in ["c99", "c11", "c17"] {
        run(Command::new("cc")
            .args([&format!("-std={std}"), "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
            .args(["-fsyntax-only", "-x", "c"])
            .arg(&header));
    }
    run(Command::new("c++")
        .args(["-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .args(["-fsyntax-only", "-x", "c++"])
        .arg(&header));
}

#[test]
fn c_suite_passes_under_asan_and_ubsan() {
    let exe = build_suite(
        "suite-asan",
        &["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"],
    );
    assert_all_passed(&run(&mut Command::new(exe)));
}

#[test]
fn c_suite_is_clean_under_valgrind() {
    let exe = build_suite("suite-plain", &[]);
    if Command::new("valgrind").arg("--version").output().is_err() {
        // Said loudly, never passed silently: scripts/test.sh installs valgrind where it can.
        println!("SKIP: valgrind is not installed; the suite ran without it");
        assert_all_passed(&run(&mut Command::new(exe)));
        return;
    }
    let output = run(Command::new("valgrind")
        .args([
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--quiet",
        ])
        .arg(exe));
    assert_all_passed(&output);
}

#[test]
fn shared_library_exports_only_pcl_symbols() {
    let so = built_lib("libportcullis_ffi.so");
    let out = run(Command::new("nm").args(["-D", "--defined-only"]).arg(&so));
    let symbols: Vec<&str> = out.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
    assert!(symbols.contains(&"pcl_version"), "no pcl_ symbols in {out}");
    let foreign: Vec<&&str> = symbols.iter().filter(|s| !s.starts_with("pcl_")).collect();
    assert!(foreign.is_empty(), "non-pcl_ symbols exported: {foreign:?}");
}

/// The common trap of two Rust static libraries in one program (each carries a copy of std): a
/// plain link must work with no extra flag. (Only `-Wl,--whole-archive` over both would collide;
/// `docs/c-api.md` says so.)
#[test]
fn links_beside_a_second_rust_staticlib() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/second-staticlib/Cargo.toml");
    let second_target = profile_dir().join("second-staticlib");
    run(Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&second_target));
    let exe = profile_dir().join("c-suite").join("two-staticlibs");
    std::fs::create_dir_all(exe.parent().expect("parent")).expect("create c-suite dir");
    run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(repo().join("include"))
        .arg(manifest.with_file_name("main.c"))
        .arg(built_lib("libportcullis_ffi.a"))
        .arg(second_target.join("debug/libsecond_staticlib.a"))
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe));
    let out = run(&mut Command::new(&exe));
    assert!(out.contains("two Rust staticlibs linked and ran"), "{out}");
}
