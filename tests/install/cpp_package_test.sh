#!/usr/bin/env bash
# cpp_package_test.sh BUILD_DIR: installs the C++ libraries (component pgqpp_cpp) into a
# temporary prefix, then builds and runs a small outside project against them, once with
# CMake's find_package(pgqpp) and once with pkg-config. No database needed.
set -euo pipefail
build=${1:?usage: cpp_package_test.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/pgqpp-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

echo "== cmake --install $build --component pgqpp_cpp --prefix $prefix"
cmake --install "$build" --component pgqpp_cpp --prefix "$prefix" >"$work/install.log"
# Only the C++ package: nothing of the SQL extension may land outside the prefix.
grep -q "pgqppConfig.cmake" "$work/install.log"
if grep -v "$prefix" "$work/install.log" | grep -q "^-- \(Installing\|Up-to-date\)"; then
    echo "installed outside the prefix:" >&2
    grep -v "$prefix" "$work/install.log" >&2
    exit 1
fi
test -f "$prefix/include/pgqpp/async_producer.hpp"

echo "== find_package(pgqpp)"
cmake -S "$here/outside" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j 2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/outside"

echo "== pkg-config pgqpp"
pc_dir=$(dirname "$(find "$prefix" -name pgqpp.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc_dir"
pkg-config --exists --print-errors pgqpp
g++ -std=c++17 "$here/outside/main.cpp" -o "$work/outside_pc" $(pkg-config --cflags --libs pgqpp)
"$work/outside_pc"
echo "cpp_package_test: OK"
