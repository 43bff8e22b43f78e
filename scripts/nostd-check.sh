#!/usr/bin/env bash
# Proves that the core (`portcullis` without features) needs neither `std` nor `alloc`, and that
# no lock-based atomic fallback is linked:
#
# 1. builds and runs ci/nostd-link, a freestanding `#![no_std] #![no_main]` program with its own
#    panic handler and `panic = "abort"`, linked with only libc's startup code; any `std` in the
#    core's graph fails the build (a second `panic_impl`), any `alloc` fails it too (no
#    `#[global_allocator]`); the same with the `portable-atomic` feature;
# 2. `nm`: no `std::`/`alloc::` symbol in the program, no undefined `std::`/`alloc::`/
#    `__rust_alloc` reference in the core's rlib, and no `portable_atomic::imp::fallback` (a global
#    lock table) anywhere;
# 3. if `rustup target add` works here, a real build of the core for `aarch64-unknown-none` (a
#    bare-metal target with 64-bit atomics), with and without `portable-atomic`; otherwise a
#    `SKIP:` line.
#
#   scripts/nostd-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
target="${CARGO_TARGET_DIR:-$PWD/target}"
bare=aarch64-unknown-none
fail() { echo "FAIL: $*"; exit 1; }
# rlibs_of DIR TARGET [cargo args...]: builds the core (release, no LTO) and prints the rlib files
# of the core and of portable-atomic that this build produced.
rlibs_of() {
    local dir=$1 triple=$2
    shift 2
    CARGO_TARGET_DIR="$dir" cargo build -p portcullis --release ${triple:+--target "$triple"} "$@" \
        --message-format=json | grep -o '"filenames":\["[^"]*\.rlib"' | sed 's/.*\["//; s/"$//' |
        grep -E '/lib(portcullis|portable_atomic)(-[0-9a-f]+)?\.rlib$'
}
command -v nm >/dev/null || { apt-get update -qq && apt-get install -y -qq binutils; }

for features in "" "portable-atomic"; do
    dir="$target/nostd-link${features:+-$features}"
    echo "==> freestanding link${features:+ (features: $features)}"
    CARGO_TARGET_DIR="$dir" cargo build --release --manifest-path ci/nostd-link/Cargo.toml \
        ${features:+--features "$features"} ||
        fail "the core does not link without std and alloc${features:+ (features: $features)}"
    exe="$dir/release/portcullis-nostd-link"
    "$exe" || fail "the freestanding program exited with status $?"
    echo "ok: $(stat -c %s "$exe")-byte freestanding program ran and exited 0"
    if nm -C "$exe" | grep -E ' (std|alloc)::|portable_atomic::imp::fallback'; then
        fail "std, alloc or a lock-based atomic fallback is linked into $exe"
    fi
    # The core's own object code, built without LTO (an LTO rlib holds only bitcode, which nm
    # cannot read): every reference it makes to another crate is an undefined symbol here.
    for rlib in $(rlibs_of "$dir-rlib" "" ${features:+--features "$features"}); do
        if nm -C --undefined-only "$rlib" 2>/dev/null | grep -E ' (std|alloc)::|__rust_alloc|__rust_dealloc'; then
            fail "$(basename "$rlib") refers to std or alloc"
        fi
        if nm -C "$rlib" 2>/dev/null | grep -E 'portable_atomic::imp::fallback'; then
            fail "$(basename "$rlib") contains portable-atomic's lock-based fallback"
        fi
        n=$(nm -C --undefined-only "$rlib" 2>/dev/null | grep -c ' U ' || true)
        [[ $(basename "$rlib") != libportcullis* ]] || ((n > 0)) || fail "nm reads no symbol from $(basename "$rlib"): the check would be vacuous"
    done
    echo "ok: nm finds no std::, alloc::, __rust_alloc or portable_atomic::imp::fallback"
done

echo "==> bare-metal build ($bare)"
if ! rustup target list --installed 2>/dev/null | grep -x "$bare" >/dev/null && ! rustup target add "$bare" >/dev/null 2>&1; then
    echo "SKIP: $bare build (rustup cannot install the target here)"
    exit 0
fi
for features in "" "portable-atomic"; do
    rlibs=$(rlibs_of "$target" "$bare" ${features:+--features "$features"}) ||
        fail "the core does not build for $bare${features:+ (features: $features)}"
    [[ -n $rlibs ]] || fail "no rlib reported for $bare"
    # shellcheck disable=SC2086 # one path per word
    if nm -C $rlibs 2>/dev/null | grep -E 'portable_atomic::imp::fallback'; then
        fail "portable-atomic's lock-based fallback is built for $bare"
    fi
    echo "ok: core builds for $bare${features:+ with $features}, no fallback"
done
echo "nostd-check: passed"
