#!/usr/bin/env bash
# Stress: many threads hammer one shared object of each primitive with invariant checks after
# every operation (core/tests/stress.rs, ignored by default), then the multi-threaded C program
# (ffi/tests/c_stress/stress.c) on one shared count window and time window, plain and under
# ASan+UBSan. Each Rust test and each C run lasts `seconds` (default 5), bounded in iterations too.
#
#   scripts/stress.sh [seconds] [threads]
#
# CI runs it briefly (`scripts/stress.sh 1`); a soak is `scripts/stress.sh 600 8`.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0 CARGO_TERM_COLOR=never
secs="${1:-5}"
threads="${2:-4}"
target="${CARGO_TARGET_DIR:-$PWD/target}"

echo "==> Rust stress: $threads threads, ${secs}s per primitive"
PCL_STRESS_SECS="$secs" PCL_STRESS_THREADS="$threads" PCL_STRESS_ITERS="${PCL_STRESS_ITERS:-50000000}" \
    cargo test -p portcullis --release --test stress -- --ignored --test-threads=1 --nocapture

echo "==> C stress: $threads pthreads, ${secs}s per build"
cargo build -p portcullis-ffi --release
lib="$target/release/libportcullis_ffi.a"
out="$target/release/c-stress"
mkdir -p "$out"
for variant in plain asan; do
    flags=()
    [[ $variant == asan ]] &&
        flags=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror -g -O2 -pthread "${flags[@]}" -Iinclude \
        ffi/tests/c_stress/stress.c "$lib" -lpthread -ldl -lm -o "$out/stress-$variant"
    PCL_STRESS_MS=$((secs * 1000)) PCL_STRESS_THREADS="$threads" PCL_STRESS_ITERS="${PCL_STRESS_ITERS:-50000000}" \
        "$out/stress-$variant"
done
echo "stress: passed"
