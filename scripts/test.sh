#!/usr/bin/env bash
# THE test command (README, CI): installs dependencies, builds, runs every test with ctest.
# Extra arguments go to ctest, e.g. scripts/test.sh -R sql.compat
#
# ctest's summary is the last thing printed and its status is the exit status. The test
# cluster (build/pgtest/run-<ctest pid>) is stopped on any exit, including Ctrl-C and SIGTERM.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

ctest_pid=""
cleanup() {
    # ctest's cluster is build/pgtest/run-<ctest pid> (tests/CMakeLists.txt)
    if [[ -n "$ctest_pid" ]]; then
        bash tests/harness/pg_cluster.sh stop "$root/build/pgtest/run-$ctest_pid" >/dev/null 2>&1 || true
    fi
    # and any other cluster whose ctest is gone (e.g. if setsid had to fork)
    bash tests/harness/pg_cluster.sh sweep "$root/build/pgtest" >/dev/null 2>&1 || true
}
on_signal() {
    trap - INT TERM HUP
    # ctest runs in its own process group (see below): end all of it, then the cluster.
    if [[ -n "$ctest_pid" ]]; then
        kill -TERM -- "-$ctest_pid" 2>/dev/null || true
        wait "$ctest_pid" 2>/dev/null || true
    fi
    cleanup
    exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

bash scripts/install-deps.sh
bash scripts/build.sh

# In the background and in a session of its own, so that a signal to this script can stop
# ctest and every test it started (the postgres server detaches from it by itself).
setsid ctest --test-dir build --output-on-failure -j2 "$@" &
ctest_pid=$!
status=0
wait "$ctest_pid" || status=$?
exit "$status"
