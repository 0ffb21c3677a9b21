#!/usr/bin/env bash
# Configures and builds pgqpp into build/. Extra arguments go to the configure step,
# e.g. scripts/build.sh -DPGQPP_SANITIZE=ON
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$root/build" -j "$(nproc)"
