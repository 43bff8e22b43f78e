#!/usr/bin/env bash
# Fuzzes every target in fuzz/ for the given number of seconds each (default 30), with libFuzzer
# and AddressSanitizer, and fails on the first crash, panic, leak or violated property.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# First the corpora are replayed as a plain test (`fuzz/checks`, any toolchain). Then cargo-fuzz
# (pinned, installed when missing) builds the targets with ASan. cargo-fuzz passes `-Z` flags, so
# on a stable toolchain RUSTC_BOOTSTRAP=1 is set here (not in a nested tool, which cargo would not
# honour); `--sanitizer none` would run on stable without it, but cannot see through `memcmp`.
# When the fuzzer cannot be built, a `SKIP:` line says why and the script exits 0 after the
# corpus replay (never a silent pass).
#
# New inputs go to a scratch corpus under the target directory; the checked-in seeds in
# fuzz/corpus/<target>/ are only read. A crash input is written to fuzz/artifacts/<target>/:
# minimise it (`cargo fuzz tmin`), add it to fuzz/corpus/<target>/ with the fix, and the corpus
# replay keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
shift || true
export RUST_BACKTRACE=0 CARGO_TERM_COLOR=never
CARGO_FUZZ_VERSION=0.13.1
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
mapfile -t all_targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^portcullis-fuzz$')
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

echo "==> corpus replay (plain cargo test)"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" cargo test --manifest-path fuzz/checks/Cargo.toml

echo "==> cargo-fuzz $CARGO_FUZZ_VERSION"
if ! cargo fuzz --version 2>/dev/null | grep "$CARGO_FUZZ_VERSION" >/dev/null; then
    if ! cargo install cargo-fuzz --locked --version "=$CARGO_FUZZ_VERSION"; then
        echo "SKIP: fuzzing (cargo-fuzz $CARGO_FUZZ_VERSION cannot be installed here)"
        exit 0
    fi
fi

echo "==> build (ASan, release with debug assertions and overflow checks)"
if ! RUSTC_BOOTSTRAP=1 cargo fuzz build --target-dir "$target_dir"; then
    echo "SKIP: fuzzing (the libFuzzer targets do not build with this toolchain; see the errors above)"
    exit 0
fi

for t in "${targets[@]}"; do
    work="$target_dir/corpus-work/$t"
    mkdir -p "$work"
    echo "==> fuzz $t for ${seconds}s"
    start=$(date +%s)
    # -timeout: a single input running for 10 s is a finding (a hang); -rss_limit_mb: a leak is.
    if ! RUSTC_BOOTSTRAP=1 cargo fuzz run --target-dir "$target_dir" "$t" "$work" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
        tee "$target_dir/$t.log" | grep -E '^#[0-9]+ +(INITED|DONE)|^(==|SUMMARY|thread )|panicked|stat::number_of_executed_units'; then
        :
    fi
    if ! grep -q 'DONE' "$target_dir/$t.log"; then
        echo "FAIL: fuzz target $t: a crash, a violated property or a build error (log: $target_dir/$t.log; a crash input is in fuzz/artifacts/$t/)"
        tail -40 "$target_dir/$t.log"
        exit 1
    fi
    echo "ok: $t ran $(($(date +%s) - start))s without a finding"
done
echo "fuzz: ${#targets[@]} targets x ${seconds}s passed"
