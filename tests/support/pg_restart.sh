#!/usr/bin/env bash
# pg_restart.sh DIR: crash-restarts the test cluster in DIR (made by
# tests/harness/pg_cluster.sh start DIR): `pg_ctl restart -m immediate`, as the server's OS
# user when run as root. Every connection breaks; what was not flushed is lost; the server
# runs crash recovery and accepts connections again on the same port and socket.
#
# Only for private clusters of a single test: the shared cluster of a ctest run serves
# other tests at the same time.
set -euo pipefail

dir=${1:?usage: pg_restart.sh DIR}
PG_BIN=${PGQPP_PG_BIN:-/usr/lib/postgresql/15/bin}
[[ -f "$dir/.pgqpp-cluster" && -f "$dir/state" ]] || {
    echo "pg_restart.sh: $dir is not a pgqpp test cluster" >&2
    exit 1
}
data_dir=""
# shellcheck source=/dev/null
source "$dir/state"
data_dir=${data_dir:-$dir/data}
log="$(dirname "$data_dir")/server.log"

run() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}
# -l: the new server must not inherit our stdout (ctest would wait for it to close).
run "$PG_BIN/pg_ctl" -D "$data_dir" -l "$log" -m immediate -w -t 60 -s restart >/dev/null
