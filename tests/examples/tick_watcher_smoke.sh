#!/usr/bin/env bash
# tick_watcher_smoke.sh BINARY ours|pgq: the runtime's example daemon (examples/runtime/
# tick_watcher.cpp) as a black box against a fresh database of the ctest run's cluster:
# it starts, writes its pidfile, serves /metrics (404 elsewhere), wakes on our ticker's
# NOTIFY (ours) or by its poll timeout (the real PgQ sends none), reloads on SIGHUP, exits 0
# on SIGTERM and removes its pidfile. Bad settings exit at once: 2 for a bad option, 1 for a
# queue that does not exist (not retried).
set -euo pipefail
binary=${1:?usage: tick_watcher_smoke.sh BINARY ours|pgq}
kind=${2:?}
# shellcheck source=tests/harness/lib.sh
source "$PGQPP_SOURCE_DIR/tests/harness/lib.sh"
pgqpp_load_env
python=${PGQPP_PYTHON:-/usr/bin/python3}

db=$(pgqpp_db_name "example_tick_watcher_$kind" "$$")
work=$(mktemp -d)
daemon_pid=
cleanup() {
    if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    pgqpp_drop_db "$db" || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "---- daemon output:" >&2
    cat "$work/out.log" >&2 || true
    exit 1
}

pgqpp_new_db "$db" "tmpl_$kind"
conn="host='$PGHOST' port='$PGPORT' user='$PGUSER' dbname='$db'"
psql -X -q -d "$db" -c "select pgq.create_queue('letters')" >/dev/null

# GET http://127.0.0.1:PORT/PATH -> "STATUS\nBODY" (stdlib only).
http_get() {
    "$python" - "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=10) as r:
        print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print("down")
PY
}

# wait_for DESCRIPTION COMMAND...: polls COMMAND until it succeeds, for at most 60 s.
wait_for() {
    local what=$1
    shift
    for _ in $(seq 600); do
        if "$@"; then return 0; fi
        kill -0 "$daemon_pid" 2>/dev/null || fail "daemon died while waiting for: $what"
        sleep 0.1
    done
    fail "timed out waiting for: $what"
}

metric_at_least() {  # metric_at_least 'name{labels}' N
    local value
    value=$(http_get "$port" /metrics | awk -v m="$1" '$1 == m { print $2 }')
    [[ -n "$value" ]] && "$python" -c "import sys; sys.exit(0 if float('$value') >= $2 else 1)"
}

log_has() { grep -q -- "$1" "$work/out.log"; }

tick() {
    psql -X -q -d "$db" -c "select pgq.force_tick('letters')" >/dev/null
    psql -X -q -d "$db" -c "select pgq.ticker('letters')" >/dev/null
}

# ---- bad settings: one clear line and a non-zero exit, no retry loop --------------------
set +e
"$binary" --db "$conn" --queue letters --no-such-option >"$work/bad.log" 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || { cat "$work/bad.log"; fail "unknown option: exit $rc, expected 2"; }
grep -q "unrecognised option '--no-such-option'" "$work/bad.log" || fail "no clear message"

set +e
timeout 60 "$binary" --db "$conn" --queue no_such_queue >"$work/bad.log" 2>&1
rc=$?
set -e
[[ $rc -eq 1 ]] || { cat "$work/bad.log"; fail "missing queue: exit $rc, expected 1"; }
grep -q "queue 'no_such_queue' does not exist" "$work/bad.log" || fail "no clear message"

# ---- a normal run -------------------------------------------------------------------------
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [[ $kind == ours ]]; then
    poll=10min  # a wake-up can only come from the NOTIFY
else
    poll=200ms  # the real PgQ sends no NOTIFY: the poll finds the tick
fi
"$binary" --db "$conn" --queue letters --metrics-port "$port" --pidfile "$work/tw.pid" \
    --poll-period "$poll" --stats-period 1s >"$work/out.log" 2>&1 &
daemon_pid=$!

wait_for "/metrics answers" metric_at_least 'tick_watcher_last_tick_id' 0
[[ "$(cat "$work/tw.pid")" == "$daemon_pid" ]] || fail "pidfile does not hold the pid"
[[ "$(http_get "$port" /other | head -n 1)" == 404 ]] || fail "/other is not 404"

before=$(psql -X -At -d "$db" -c "select last_tick_id from pgq.get_queue_info('letters')")
tick
after=$(psql -X -At -d "$db" -c "select last_tick_id from pgq.get_queue_info('letters')")
[[ "$after" -gt "$before" ]] || fail "the test's tick did not tick"
if [[ $kind == ours ]]; then
    wait_for "a NOTIFY wake-up" metric_at_least 'tick_watcher_wakeups_total{reason="notified"}' 1
else
    wait_for "a poll wake-up" metric_at_least 'tick_watcher_wakeups_total{reason="timeout"}' 1
fi
wait_for "the new tick in /metrics" metric_at_least 'tick_watcher_last_tick_id' "$after"
wait_for "the tick in the log" log_has "\[letters\] tick $after"
wait_for "a stats line" log_has "\[letters\] {notified: "

kill -HUP "$daemon_pid"
wait_for "the reload" log_has "configuration reloaded"

kill -TERM "$daemon_pid"
set +e
wait "$daemon_pid"
rc=$?
set -e
daemon_pid=
[[ $rc -eq 0 ]] || fail "exit status $rc after SIGTERM, expected 0"
[[ ! -e "$work/tw.pid" ]] || fail "pidfile left behind"
log_has "SIGTERM: stopping" || fail "the stop was not logged"
echo "tick_watcher_smoke ($kind): OK"
