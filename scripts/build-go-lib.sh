#!/usr/bin/env bash
# Builds the static C library and puts it where the Go package's #cgo lines look for it
# (bindings/go/lib/libportcullis.a). Usage: scripts/build-go-lib.sh [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
if [[ "${1:-}" == "--debug" ]]; then profile=debug; fi
if [[ "$profile" == release ]]; then cargo build --release -p portcullis-ffi; else cargo build -p portcullis-ffi; fi
mkdir -p bindings/go/lib
cp "${CARGO_TARGET_DIR:-target}/$profile/libportcullis_ffi.a" bindings/go/lib/libportcullis.a
echo "bindings/go/lib/libportcullis.a ($profile)"
