#!/usr/bin/env bash
# Installs the Debian 12 packages signald needs to build, test and run, if
# any is missing. Sourced or run by scripts/test, scripts/run, scripts/bench.
# Usage: scripts/deps.sh [build|test|run|bench|all]   (default: all)
set -euo pipefail

want=${1:-all}
build_pkgs=(build-essential cmake pkg-config clang clang-format
    libwebsockets-dev libwebsockets-evlib-uv libhiredis-dev libmsgpack-dev
    libjwt-dev libjansson-dev libuv1-dev libssl-dev libcmocka-dev)
run_pkgs=(redis-server redis-tools curl haproxy)
test_pkgs=(python3 python3-websockets python3-redis python3-jwt python3-pytest
    python3-pytest-asyncio python3-pytest-timeout
    valgrind chromium coturn nodejs
    libfaketime python3-prometheus-client python3-yaml python3-jsonschema
    docker-compose yamllint)
# scripts/bench: redis-benchmark (redis-tools), gnuplot for the latency plot,
# python3 to gather the results.
bench_pkgs=(gnuplot-nox python3)

case "$want" in
build) pkgs=("${build_pkgs[@]}") ;;
run) pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
bench) pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}" "${bench_pkgs[@]}") ;;
test) pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}") ;;
all) pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
*)
    echo "usage: $0 [build|test|run|bench|all]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs comes without npm, NodeSource's nodejs bundles it (and
# conflicts with Debian's npm package): ask for npm only when there is none.
if [ "$want" = test ] || [ "$want" = all ]; then
    command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
