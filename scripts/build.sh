#!/usr/bin/env bash
# Configures and builds one signald build tree.
# Usage: scripts/build.sh [release|asan]   -> build/ or build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
case "$kind" in
release) dir=build flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
asan) dir=build-asan flags=(-DCMAKE_BUILD_TYPE=Debug -DSIGNALD_SANITIZE=ON) ;;
*)
    echo "usage: $0 [release|asan]" >&2
    exit 2
    ;;
esac
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
# Progress lines are noise; warnings and errors are not.
cmake --build "$dir" -j"$(nproc)" > >(grep -v '^\[' || true) 2>&1
