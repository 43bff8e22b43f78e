#!/usr/bin/env bash
# Installs libportcullis into a scratch prefix and builds a consumer three ways: pkg-config
# (shared), pkg-config --static, and CMake find_package (shared and static). Each must run.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${CARGO_TARGET_DIR:-target}/c-prefix"
work="${CARGO_TARGET_DIR:-target}/c-consumer"
rm -rf "$prefix" "$work"
scripts/install-c.sh "$prefix" --debug
prefix=$(cd "$prefix" && pwd)
mkdir -p "$work"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
src=ffi/tests/consumer/consumer.c
cc -std=c11 -Wall -Wextra -Wpedantic -Werror $(pkg-config --cflags portcullis) "$src" \
    $(pkg-config --libs portcullis) -o "$work/pc_shared"
LD_LIBRARY_PATH="$prefix/lib" "$work/pc_shared"
if ! LD_LIBRARY_PATH="$prefix/lib" ldd "$work/pc_shared" | grep "libportcullis.so.0 => $prefix/lib/" >/dev/null; then
    echo "FAIL: the shared consumer does not load libportcullis.so.0 from the prefix" >&2; exit 1
fi
cc -std=c11 -Wall -Wextra -Wpedantic -Werror $(pkg-config --cflags portcullis) "$src" \
    -Wl,-Bstatic $(pkg-config --libs-only-L portcullis) -lportcullis -Wl,-Bdynamic \
    $(pkg-config --static --libs-only-l portcullis | sed 's/-lportcullis//') -o "$work/pc_static"
"$work/pc_static"
if ldd "$work/pc_static" | grep libportcullis >/dev/null; then
    echo "FAIL: the static consumer links libportcullis dynamically" >&2; exit 1
fi

cmake -S ffi/tests/consumer -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$work/cmake/consumer_shared"
"$work/cmake/consumer_static"
echo "C packaging: pkg-config (shared, static) and CMake (shared, static) consumers ran"
