#!/usr/bin/env bash
# pg_cluster.sh with PGQPP_CLUSTER_OWNER: a cluster whose owner dies without stopping it
# (SIGKILL, e.g. a ctest timeout) is stopped and removed by the watcher start left behind.
#
#   (a) owner SIGKILLed: the postmaster exits and DIR is gone within 20 s;
#   (b) owner stops the cluster itself, then exits: the watcher ends too;
#   (c) a bad owner is refused before anything starts.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cluster_sh="$here/pg_cluster.sh"
top=$(mktemp -d /tmp/pgqpp-owner.XXXXXX)
chmod 755 "$top"
owners=()

cleanup() {
    local pid
    for pid in "${owners[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    bash "$cluster_sh" stop "$top/a" >/dev/null 2>&1 || true
    bash "$cluster_sh" stop "$top/b" >/dev/null 2>&1 || true
    rm -rf "$top"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

new_owner() {
    sleep 600 &
    owners+=($!)
}

postmaster_of() {
    local data_dir
    # shellcheck source=/dev/null
    data_dir=$(source "$1/state" && printf '%s' "$data_dir")
    head -n 1 "$data_dir/postmaster.pid"
}

watchers_of() {
    pgrep -f "pg_cluster.sh watch $1 " || true
}

# (a)
new_owner
owner=${owners[-1]}
PGQPP_CLUSTER_OWNER=$owner bash "$cluster_sh" start "$top/a" >/dev/null
pm=$(postmaster_of "$top/a")
kill -0 "$pm" || fail "(a) no postmaster after start"
[[ -n "$(watchers_of "$top/a")" ]] || fail "(a) no watcher after start"
kill -KILL "$owner"
for _ in $(seq 1 200); do
    if ! kill -0 "$pm" 2>/dev/null && [[ ! -e "$top/a" ]]; then break; fi
    sleep 0.1
done
! kill -0 "$pm" 2>/dev/null || fail "(a) postmaster $pm still running 20 s after its owner died"
[[ ! -e "$top/a" ]] || fail "(a) $top/a still there 20 s after its owner died"
echo "ok: (a) owner killed: postmaster $pm stopped, directory removed"

# (b)
new_owner
owner=${owners[-1]}
PGQPP_CLUSTER_OWNER=$owner bash "$cluster_sh" start "$top/b" >/dev/null
bash "$cluster_sh" stop "$top/b"
for _ in $(seq 1 50); do
    [[ -z "$(watchers_of "$top/b")" ]] && break
    sleep 0.1
done
[[ -z "$(watchers_of "$top/b")" ]] || fail "(b) the watcher still runs after the owner stopped the cluster"
echo "ok: (b) owner stopped the cluster: the watcher ended"

# (c)
for bad in abc 999999999; do
    if out=$(PGQPP_CLUSTER_OWNER=$bad bash "$cluster_sh" start "$top/c" 2>&1); then
        fail "(c) PGQPP_CLUSTER_OWNER=$bad accepted"
    fi
    [[ "$out" == *PGQPP_CLUSTER_OWNER* ]] || fail "(c) the error does not name PGQPP_CLUSTER_OWNER: $out"
    [[ ! -e "$top/c" ]] || fail "(c) PGQPP_CLUSTER_OWNER=$bad: $top/c was created"
done
echo "ok: (c) a bad owner is refused, nothing created"
echo "1 passed, 0 failed"
