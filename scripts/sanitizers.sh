#!/usr/bin/env bash
# Sanitizers beyond the ASan+UBSan and valgrind runs of the C suite (`cargo test -p
# portcullis-ffi` already does those):
#
# 1. AddressSanitizer on the Rust tests of the core and the FFI crate's unit tests (stable rustc
#    with RUSTC_BOOTSTRAP=1; no rust-src needed).
# 2. ThreadSanitizer on the Rust stress tests (core/tests/stress.rs), with std rebuilt
#    instrumented (`-Zbuild-std`, needs the rust-src component).
# 3. ThreadSanitizer on the multi-threaded C stress program (ffi/tests/c_stress/stress.c) linked
#    with an instrumented Rust static library and Rust's own TSan runtime (GCC's libtsan lacks
#    symbols that LLVM's instrumentation needs), plus a planted data race that TSan must report.
#
# TSan with an uninstrumented Rust library reports false races (it cannot see the Rust side's
# atomics), so without rust-src the TSan steps print `SKIP: ThreadSanitizer (<reason>)`.
#
#   scripts/sanitizers.sh [stress-seconds]    (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0 CARGO_TERM_COLOR=never
secs="${1:-2}"
host="$(rustc -vV | sed -n 's/^host: //p')"
target="${CARGO_TARGET_DIR:-$PWD/target}"
fail() { echo "FAIL: $*"; exit 1; }

echo "==> AddressSanitizer: Rust tests of the core and the FFI crate's unit tests"
# --target keeps build scripts and proc macros uninstrumented; -Cunsafe-allow-abi-mismatch lets
# the instrumented crates link the uninstrumented precompiled std.
RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=address -Cunsafe-allow-abi-mismatch=sanitizer" \
    CARGO_TARGET_DIR="$target/sanitize-address" \
    cargo test --target "$host" -p portcullis --tests
RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=address -Cunsafe-allow-abi-mismatch=sanitizer" \
    CARGO_TARGET_DIR="$target/sanitize-address" \
    cargo test --target "$host" -p portcullis-ffi --lib

tsan_rt="$(rustc --print sysroot)/lib/rustlib/$host/lib/librustc-stable_rt.tsan.a"
if [[ $host != x86_64-unknown-linux-gnu && $host != aarch64-unknown-linux-gnu ]]; then
    echo "SKIP: ThreadSanitizer (no Rust TSan runtime for $host)"
    exit 0
fi
if ! rustup component list --installed 2>/dev/null | grep '^rust-src' >/dev/null &&
    ! rustup component add rust-src >/dev/null 2>&1; then
    echo "SKIP: ThreadSanitizer (the rust-src component cannot be installed, and TSan without an instrumented std reports false races)"
    exit 0
fi
if [[ ! -f $tsan_rt ]]; then
    echo "SKIP: ThreadSanitizer ($tsan_rt is missing from this toolchain)"
    exit 0
fi
tsan_flags="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer"
tsan_dir="$target/sanitize-thread"

echo "==> ThreadSanitizer: Rust stress tests (${secs}s each), std instrumented"
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$tsan_flags" CARGO_TARGET_DIR="$tsan_dir" PCL_STRESS_SECS="$secs" \
    PCL_STRESS_ITERS=200000 TSAN_OPTIONS="halt_on_error=1" \
    cargo test -Zbuild-std --target "$host" -p portcullis --release --test stress -- --ignored --test-threads=1

echo "==> ThreadSanitizer: C stress program with the instrumented Rust static library"
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$tsan_flags" CARGO_TARGET_DIR="$tsan_dir" \
    cargo build -Zbuild-std --target "$host" -p portcullis-ffi --release
lib="$tsan_dir/$host/release/libportcullis_ffi.a"
out="$tsan_dir/c-stress"
mkdir -p "$out"
build_c() { # build_c OUTPUT [cflags...]
    local exe=$1
    shift
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -pthread -fsanitize=thread "$@" -Iinclude \
        -c ffi/tests/c_stress/stress.c -o "$exe.o"
    # Link with the runtime Rust's instrumentation expects, not GCC's libtsan.
    cc -pthread "$exe.o" "$lib" -Wl,--whole-archive "$tsan_rt" -Wl,--no-whole-archive \
        -lpthread -ldl -lm -lrt -lstdc++ -o "$exe"
}
build_c "$out/stress-tsan"
PCL_STRESS_MS=$((secs * 1000)) PCL_STRESS_ITERS=300000 TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
    "$out/stress-tsan" || fail "ThreadSanitizer: the C stress program failed (exit $?)"

echo "==> ThreadSanitizer: positive control (a planted data race must be reported)"
build_c "$out/stress-tsan-race" -DPCL_STRESS_PLANTED_RACE
if PCL_STRESS_MS=200 TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$out/stress-tsan-race" \
    >"$out/race.log" 2>&1; then
    cat "$out/race.log"
    fail "ThreadSanitizer did not report the planted race: it is not watching"
fi
grep -q 'WARNING: ThreadSanitizer: data race' "$out/race.log" ||
    { cat "$out/race.log"; fail "the planted-race run failed without a TSan report"; }
echo "ok: the planted race was reported ($(grep -c 'WARNING: ThreadSanitizer' "$out/race.log") report)"
echo "sanitizers: passed"
