#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests.
#
#   pg_cluster.sh start DIR   initdb + start; writes DIR/env (PGHOST, PGPORT, PGUSER, PGDATABASE)
#   pg_cluster.sh stop DIR    stop the server and remove DIR (safe to repeat)
#   pg_cluster.sh sweep BASE  stop the clusters BASE/run-<pid> whose process <pid> is gone
#
# With PGQPP_CLUSTER_OWNER=<pid>, start also leaves a watcher behind that stops the cluster
# (and removes DIR) once process <pid> is gone: a test killed with SIGKILL (a ctest timeout)
# cannot run its own stop, and its server would otherwise keep running.
#
# Layout: DIR/data, DIR/server.log, the unix socket in DIR, DIR/state (what stop must undo).
# The socket goes to a short mktemp dir when DIR is too long for a socket path (~107 bytes),
# and data+log too when the server user cannot write DIR (e.g. a build tree under /root).
# As root, everything that touches the data dir runs as the `postgres` OS user.
set -euo pipefail

PG_BIN=${PGQPP_PG_BIN:-/usr/lib/postgresql/15/bin}
MARKER=.pgqpp-cluster     # only directories carrying it are ever removed

die() {
    echo "pg_cluster.sh: $*" >&2
    exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Runs a command as the server's OS user, from a directory that user can enter.
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

give_to_pg() {
    if is_root; then chown postgres: "$@"; fi
}

abs_dir() {
    [[ -n "${1:-}" ]] || die "usage: pg_cluster.sh start|stop DIR"
    local dir
    dir=$(realpath -m -- "$1")
    [[ "$dir" != "/" ]] || die "refusing to use / as the cluster directory"
    [[ "$dir" != *"'"* ]] || die "the cluster directory must not contain a single quote: $dir"
    printf '%s\n' "$dir"
}

make_tmp_dir() {
    local tmp
    tmp=$(mktemp -d /tmp/pgqpp.XXXXXX)
    chmod 755 "$tmp"
    give_to_pg "$tmp"
    printf '%s\n' "$tmp"
}

# A port nobody listens on, in a range below Linux's ephemeral ports.
pick_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "found no free TCP port"
}

postmaster_pid() {
    local pidfile="$1/postmaster.pid"
    [[ -f "$pidfile" ]] && head -n 1 "$pidfile"
}

# True if <pid> is the postmaster of data directory <data> (it runs inside it), so that a
# stale pid file whose pid was reused never makes us signal someone else's process.
is_our_postmaster() {
    local pid="$1" data="$2"
    [[ -n "$pid" && "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$(realpath -m -- "$data")" ]]
}

stop_server() {
    local data="$1" pid=""
    # A server being started right now may not have written its pid file yet.
    for _ in 1 2 3 4 5; do
        pid=$(postmaster_pid "$data" || true)
        [[ -z "$pid" ]] || break
        sleep 0.2
    done
    is_our_postmaster "$pid" "$data" || return 0
    if ! as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1; then
        as_pg "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    fi
    if is_our_postmaster "$pid" "$data"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for _ in $(seq 1 50); do
        is_our_postmaster "$pid" "$data" || return 0
        sleep 0.1
    done
    die "postgres (pid $pid) did not exit"
}

cmd_stop() {
    local dir data_dir="" tmp_dirs=""
    dir=$(abs_dir "${1:-}")
    [[ -e "$dir" ]] || return 0
    if [[ ! -f "$dir/$MARKER" ]]; then
        # An empty directory (e.g. fresh from mktemp -d) holds nothing to lose.
        [[ -d "$dir" && -z "$(ls -A "$dir")" ]] ||
            die "refusing to remove $dir: it is not a pgqpp test cluster"
        rmdir "$dir"
        return 0
    fi
    if [[ -f "$dir/state" ]]; then
        # shellcheck source=/dev/null
        source "$dir/state"
    fi
    data_dir=${data_dir:-$dir/data}
    if [[ -d "$data_dir" ]]; then
        stop_server "$data_dir"
    fi
    local tmp
    for tmp in $tmp_dirs; do
        [[ "$tmp" == /tmp/pgqpp.* ]] && rm -rf -- "$tmp"
    done
    rm -rf -- "$dir"
}

write_config() {
    local data="$1" port="$2" sock="$3"
    cat >"$data/pgqpp.conf" <<EOF
# Written by pgqpp's tests/harness/pg_cluster.sh: a disposable test server.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
max_connections = 300
shared_buffers = 256MB
max_prepared_transactions = 10
fsync = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
lc_messages = 'C'
timezone = 'UTC'
datestyle = 'iso, mdy'
EOF
    give_to_pg "$data/pgqpp.conf"
}

cmd_start() {
    local dir
    dir=$(abs_dir "${1:-}")
    [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL 15 not found in $PG_BIN (run scripts/install-deps.sh)"
    if [[ -n "${PGQPP_CLUSTER_OWNER:-}" ]]; then check_owner "$PGQPP_CLUSTER_OWNER"; fi
    if is_root; then
        id -u postgres >/dev/null 2>&1 ||
            die "running as root needs the 'postgres' OS user (created by the postgresql-common package)"
    fi
    if [[ -e "$dir" && ! -f "$dir/$MARKER" && -n "$(ls -A "$dir")" ]]; then
        die "refusing to use $dir: it exists, is not empty and is not a pgqpp test cluster"
    fi
    cmd_stop "$dir"     # a stale cluster from an interrupted run

    mkdir -p "$dir"
    touch "$dir/$MARKER"
    give_to_pg "$dir"

    local run_dir="$dir" sock_dir tmp_dirs=""
    if ! as_pg test -w "$dir" -a -x "$dir"; then
        run_dir=$(make_tmp_dir)
        tmp_dirs="$run_dir"
    fi
    sock_dir="$run_dir"
    if ((${#sock_dir} > 80)); then   # room for "/.s.PGSQL.NNNNN" within the socket path limit
        sock_dir=$(make_tmp_dir)
        tmp_dirs="$tmp_dirs $sock_dir"
    fi
    local data="$run_dir/data" log="$run_dir/server.log"
    # Recorded before anything starts, so that stop can undo a half-done start.
    printf 'data_dir=%q\ntmp_dirs=%q\n' "$data" "$tmp_dirs" >"$dir/state"
    [[ "$run_dir" == "$dir" ]] || ln -s "$log" "$dir/server.log"

    local locale=C locales
    locales=$(locale -a 2>/dev/null || true)
    if grep -qix 'c.utf-\?8' <<<"$locales"; then locale=C.UTF-8; fi
    if ! as_pg "$PG_BIN/initdb" -D "$data" -A trust -N -E UTF8 --locale="$locale" -U postgres \
        >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    fi
    echo "include = 'pgqpp.conf'" >>"$data/postgresql.conf"

    local port="" attempt
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$(pick_port)
        write_config "$data" "$port" "$sock_dir"
        rm -f "$log"    # so the checks below only see this attempt
        if as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 -s start >/dev/null 2>&1; then
            break
        fi
        # Another process took the port between the check and the bind: try another one.
        if grep -q 'could not bind\|could not create any TCP/IP sockets' "$log" 2>/dev/null &&
            [[ -z "$(postmaster_pid "$data" || true)" ]]; then
            port=""
            continue
        fi
        tail -n 30 "$log" >&2 || true
        cmd_stop "$dir"
        die "the server did not start (attempt $attempt)"
    done
    [[ -n "$port" ]] || { cmd_stop "$dir"; die "no usable port after $attempt attempts"; }

    local deadline=$((SECONDS + 30))
    until "$PG_BIN/psql" -X -q -At -h "$sock_dir" -p "$port" -U postgres -d postgres \
        -c 'select 1' >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            tail -n 30 "$log" >&2 || true
            cmd_stop "$dir"
            die "the server does not accept connections"
        fi
        sleep 0.1
    done

    # Written last and atomically: its presence means the cluster is usable.
    printf "PGHOST='%s'\nPGPORT='%s'\nPGUSER='postgres'\nPGDATABASE='postgres'\n" \
        "$sock_dir" "$port" >"$dir/env.tmp"
    mv "$dir/env.tmp" "$dir/env"
    if [[ -n "${PGQPP_CLUSTER_OWNER:-}" ]]; then start_watcher "$dir" "$PGQPP_CLUSTER_OWNER"; fi
    echo "pg_cluster.sh: PostgreSQL 15 running in $data (socket $sock_dir, port $port)"
}

# Waits for the owner process to end, then stops the cluster in DIR unless the owner did.
cmd_watch() {
    local dir="$1" owner="$2"
    while kill -0 "$owner" 2>/dev/null && [[ -f "$dir/$MARKER" ]]; do
        sleep 1
    done
    if [[ -f "$dir/$MARKER" ]]; then cmd_stop "$dir"; fi
}

check_owner() {
    local owner="$1"
    [[ "$owner" =~ ^[0-9]+$ ]] || die "PGQPP_CLUSTER_OWNER must be a process id, not '$owner'"
    kill -0 "$owner" 2>/dev/null || die "PGQPP_CLUSTER_OWNER: no process $owner"
}

start_watcher() {
    local dir="$1" owner="$2"
    # Detached, with no inherited descriptors: ctest waits for a test's output pipes to close.
    setsid bash "${BASH_SOURCE[0]}" watch "$dir" "$owner" </dev/null >/dev/null 2>&1 &
}

# Stops the clusters under BASE whose ctest run is gone: BASE/run-<pid> with no live <pid>,
# and a cluster left in BASE itself by an older layout.
cmd_sweep() {
    local base run pid
    base=$(abs_dir "${1:-}")
    [[ -d "$base" ]] || return 0
    if [[ -f "$base/$MARKER" ]]; then
        cmd_stop "$base"
        return 0
    fi
    for run in "$base"/run-*; do
        [[ -d "$run" ]] || continue
        pid=${run##*/run-}
        if [[ ! "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
            cmd_stop "$run"
        fi
    done
}

case "${1:-}" in
start) cmd_start "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
sweep) cmd_sweep "${2:-}" ;;
watch) cmd_watch "$(abs_dir "${2:-}")" "${3:?usage: pg_cluster.sh watch DIR OWNER_PID}" ;;
*) die "usage: pg_cluster.sh start|stop|sweep DIR" ;;
esac
