#!/usr/bin/env bash
# Proves that the C ABI code run outside its unwinding boundary cannot panic.
#
# Functions of ffi/ marked `#[cfg_attr(all(feature = "no-panic-check", not(debug_assertions)),
# no_panic::no_panic)]` run before `boundary` (ffi/src/boundary.rs) to keep its frame off their
# hot path. This builds the release shared library with that feature: each marked function gets a
# guard whose unwinding path calls an undefined symbol, and the library is linked with `-z defs`,
# so the link fails, naming the function, if the optimised code of any of them can still panic.
# It then checks that the guards were compiled (the check is not vacuous) and lists them.
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${CARGO_TARGET_DIR:-target}/no-panic-check"
cargo build --quiet --release -p portcullis-ffi --features no-panic-check --target-dir "$dir"
guards=$(nm -C "$dir/release/libportcullis_ffi.a" 2>/dev/null \
    | sed -n 's/^[0-9a-f]* T <\(.*\)::__NoPanic as core::ops::drop::Drop>::drop$/\1/p' | sort -u)
if [[ -z "$guards" ]]; then
    echo "FAIL: no #[no_panic] guard was compiled: the check proved nothing" >&2
    exit 1
fi
echo "proven not to panic (release build, linked with -z defs):"
sed 's/^/  /' <<<"$guards"
