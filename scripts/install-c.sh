#!/usr/bin/env bash
# Builds libportcullis and installs it for C and C++ users:
#   PREFIX/include/portcullis.h
#   PREFIX/lib/libportcullis.a, libportcullis.so.X.Y.Z (+ .so.X and .so links)
#   PREFIX/lib/pkgconfig/portcullis.pc
#   PREFIX/lib/cmake/portcullis/portcullisConfig.cmake (+ ConfigVersion)
#
# Usage: scripts/install-c.sh PREFIX [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${1:?usage: scripts/install-c.sh PREFIX [--debug]}"
profile=release
if [[ "${2:-}" == "--debug" ]]; then profile=debug; fi

if [[ "$profile" == release ]]; then
    cargo build --release -p portcullis-ffi
else
    cargo build -p portcullis-ffi
fi
target="${CARGO_TARGET_DIR:-target}/$profile"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
minor=$(echo "$version" | cut -d. -f2)

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/portcullis"
prefix=$(cd "$prefix" && pwd)
install -m 0644 include/portcullis.h "$prefix/include/portcullis.h"
install -m 0644 "$target/libportcullis_ffi.a" "$prefix/lib/libportcullis.a"
install -m 0755 "$target/libportcullis_ffi.so" "$prefix/lib/libportcullis.so.$version"
ln -sf "libportcullis.so.$version" "$prefix/lib/libportcullis.so.$major"
ln -sf "libportcullis.so.$major" "$prefix/lib/libportcullis.so"

subst() {
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" \
        -e "s|@MINOR@|$minor|g" "$1" >"$2"
}
subst ffi/pkg/portcullis.pc.in "$prefix/lib/pkgconfig/portcullis.pc"
subst ffi/pkg/portcullisConfig.cmake.in "$prefix/lib/cmake/portcullis/portcullisConfig.cmake"
subst ffi/pkg/portcullisConfigVersion.cmake.in \
    "$prefix/lib/cmake/portcullis/portcullisConfigVersion.cmake"
echo "installed portcullis $version into $prefix"
