#!/usr/bin/env bash
# Runs every test of every language in the repository, from a clean checkout, installing what it
# needs from the package registries. This is the command the README names and CI runs.
#
# Steps: formatting, clippy (all targets, all features, warnings denied), rustdoc with warnings
# denied, the workspace tests (unit, proptest models, zero-allocation proofs, doctests, the
# generated C header's freshness, the C suite under ASan+UBSan and valgrind), a no-dependency check
# of the no_std core, the proof that the C ABI's code outside its unwinding boundary cannot panic,
# the C packaging (pkg-config and CMake consumers), the C++ and Go bindings,
# the loom models, the benchmarks in test mode (each benchmark runs once, to prove it still works),
# the hot paths' instruction budgets, the freestanding no_std link, short stress, sanitizer and
# fuzzing runs (FUZZ_SECONDS per target, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."

export RUST_BACKTRACE=0 CARGO_TERM_COLOR=never
# CI-sized property tests; raise locally with PROPTEST_CASES=10000 for a soak.
export PROPTEST_CASES="${PROPTEST_CASES:-256}"
# loom: preemption bound 2 explores every interleaving with at most two preemptions (the bound
# crossbeam and tokio use); raise it locally for a deeper search.
LOOM_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"

step() { printf '\n==> %s\n' "$*"; }

# Every test runner's output is also kept here, to print one total at the end.
mkdir -p target
log="$PWD/target/test-all.log"
: >"$log"
run_tests() { "$@" 2>&1 | tee -a "$log"; }

step "toolchain components"
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done

step "system tools (C compiler, valgrind, CMake, Ninja, pkg-config)"
# Debian package for each tool the C tests need; installed only when missing.
declare -A debian_package=([cc]=gcc [c++]=g++ [valgrind]=valgrind [cmake]=cmake [ninja]=ninja-build
    [pkg-config]=pkgconf [nm]=binutils [go]=golang-go)
missing=()
for tool in "${!debian_package[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${debian_package[$tool]}")
done
# GoogleTest is a library, not a command: look for its CMake package.
if ! ls /usr/lib/*/cmake/GTest/GTestConfig.cmake /usr/lib/cmake/GTest/GTestConfig.cmake >/dev/null 2>&1; then
    missing+=(libgtest-dev)
fi
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

step "atomics come only from core/src/sync.rs"
if grep -rnE 'core::sync::atomic|portable_atomic::|loom::' core/src --include='*.rs' | grep -v '^core/src/sync.rs:'; then
    echo "FAIL: only core/src/sync.rs may name an atomic implementation" >&2
    exit 1
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets --all-features -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

step "cargo test (unit, proptest, no-alloc, doctests; PROPTEST_CASES=$PROPTEST_CASES)"
run_tests cargo test --workspace --all-features

step "core without default features (no_std, no alloc)"
cargo build -p portcullis --no-default-features
if cargo tree -p portcullis -e normal --no-default-features --prefix none | tail -n +2 | grep . >/dev/null; then
    echo "FAIL: the core has a normal dependency without features; it must have none" >&2
    exit 1
fi

step "C packaging: pkg-config and CMake consumers of an installed libportcullis"
scripts/test-c-packaging.sh

step "the C ABI's code outside its unwinding boundary cannot panic (no-panic, release)"
scripts/no-panic-check.sh

step "binding status lists match the C header"
python3 scripts/gen-statuses.py --check

step "C++ wrapper: GoogleTest through CMake (-Wall -Wextra -Wpedantic -Werror)"
cargo build -p portcullis-ffi
cmake -S bindings/cpp -B target/cpp -G Ninja -DPORTCULLIS_LIB_DIR="$PWD/target/debug" >/dev/null
cmake --build target/cpp
(cd target/cpp && run_tests ctest --output-on-failure)

step "Go binding: gofmt, go vet, go test -race (cgo over the static library)"
scripts/build-go-lib.sh --debug
(
    cd bindings/go
    unformatted=$(gofmt -l .)
    if [[ -n "$unformatted" ]]; then echo "FAIL: gofmt needed: $unformatted" >&2; exit 1; fi
    CGO_ENABLED=1 go vet ./...
    CGO_ENABLED=1 run_tests go test -race -count=1 -v ./...
)

step "loom models (LOOM_MAX_PREEMPTIONS=$LOOM_PREEMPTIONS)"
RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS="$LOOM_PREEMPTIONS" CARGO_TARGET_DIR=target/loom \
    run_tests cargo test -p portcullis --release --test 'loom_*'

step "benchmarks in test mode: criterion, hot paths, C and Go benchmarks, each once"
run_tests scripts/bench.sh --quick

step "instructions per operation of the hot paths, against benches/instructions.txt (callgrind)"
scripts/check-instructions.sh

step "no_std proof: a freestanding link, symbol checks, a bare-metal build"
scripts/nostd-check.sh

step "stress: every primitive under contention, Rust and C (1 s each)"
run_tests scripts/stress.sh 1 2

step "sanitizers: ASan on the Rust tests, TSan on the stress runs (where rust-src is present)"
run_tests scripts/sanitizers.sh 1

step "fuzzing: corpus replay, then ${FUZZ_SECONDS:=20} s per target under libFuzzer + ASan"
run_tests scripts/fuzz.sh "$FUZZ_SECONDS"

# cargo: "test result: ok. N passed; M failed"; ctest: "100% tests passed, M tests failed out of N".
passed=$(grep -oE '^test result: [a-z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -oE '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
ctest_total=$(grep -oE 'tests failed out of [0-9]+' "$log" | awk '{s += $5} END {print s + 0}')
ctest_failed=$(grep -oE '[0-9]+ tests failed out of' "$log" | awk '{s += $1} END {print s + 0}')
go_passed=$(grep -cE '^--- PASS: ' "$log" || true)
go_failed=$(grep -cE '^--- FAIL: ' "$log" || true)
passed=$((passed + ctest_total - ctest_failed + go_passed))
failed=$((failed + ctest_failed + go_failed))
step "all steps passed"
echo "tests: $passed passed, $failed failed"
