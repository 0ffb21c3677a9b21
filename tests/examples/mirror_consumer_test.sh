#!/usr/bin/env bash
# mirror_consumer_test.sh BINARY ours|pgq: the consumer runtime's example daemon
# (examples/consumer/mirror_consumer.cpp) as a process against a fresh database:
#   1. bad settings exit non-zero at once with one clear line (no retry loop);
#   2. a big single batch ($MIRROR_BIG_EVENTS, default 200000) drained at-least-once with
#      bounded memory (peak RSS, VmHWM, under $MIRROR_MAX_RSS_KB, default 100 MiB);
#   3. local exactly-once under kill -9: the daemon is killed at random moments mid-stream
#      and restarted, then its backends are terminated twice (it reconnects); at the end
#      the target table holds every event exactly once;
#   4. SIGTERM mid-stream: exit 0 after the current batch; a restart finishes the rest;
#      the stats line, /metrics and SIGHUP are checked on the big batch's daemon;
#   5. remote exactly-once into a second database (pgq_ext) under kill -9, as in 3.
set -euo pipefail
binary=${1:?usage: mirror_consumer_test.sh BINARY ours|pgq}
kind=${2:?}
# shellcheck source=tests/harness/lib.sh
source "$PGQPP_SOURCE_DIR/tests/harness/lib.sh"
pgqpp_load_env

big=${MIRROR_BIG_EVENTS:-200000}
max_rss_kb=${MIRROR_MAX_RSS_KB:-102400}
db=$(pgqpp_db_name "example_mirror_consumer_$kind" "$$")
target_db=$(pgqpp_db_name "example_mirror_target_$kind" "$$")
work=$(mktemp -d)
daemon_pid=
cleanup() {
    if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    pgqpp_drop_db "$db" || true
    pgqpp_drop_db "$target_db" || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "---- daemon output:" >&2
    tail -30 "$work/out.log" >&2 || true
    exit 1
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

pgqpp_new_db "$db" "tmpl_$kind"
conn="host='$PGHOST' port='$PGPORT' user='$PGUSER' dbname='$db'"
for q in big local term remote; do
    sql "select pgq.create_queue('$q')" >/dev/null
    sql "select pgq.set_queue_config('$q', 'ticker_max_lag', '0')" >/dev/null
    sql "select pgq.set_queue_config('$q', 'ticker_idle_period', '0')" >/dev/null
done
sql "create table sink (ev_id bigint, ev_data text)"   # no key: duplicates must show

# produce QUEUE N PER_TX: N events in transactions of PER_TX, a tick after each transaction
# when TICK_EACH=1 (many batches), else one tick at the end (one batch).
produce() {
    local q=$1 n=$2 per=$3 i
    for ((i = 0; i < n; i += per)); do
        sql "select count(pgq.insert_event('$q', 't', g::text)) from generate_series($i, least($n, $i + $per) - 1) g" >/dev/null
        if [[ ${TICK_EACH:-0} == 1 ]]; then sql "select pgq.ticker('$q')" >/dev/null; fi
    done
    sql "select pgq.ticker('$q')" >/dev/null
}
# done_with QUEUE CONSUMER: the consumer has finished every batch up to the last tick.
done_with() {
    [[ $(sql "select (select last_tick from pgq.get_consumer_info('$1', '$2')) =
                     (select last_tick_id from pgq.get_queue_info('$1'))") == t ]]
}
start() {  # start ARGS...: the daemon in the background
    "$binary" --db "$conn" --poll-period 200ms --stats-period 1s "$@" >>"$work/out.log" 2>&1 &
    daemon_pid=$!
}
wait_done() {  # wait_done QUEUE CONSUMER SECONDS
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        if done_with "$1" "$2"; then return 0; fi
        kill -0 "$daemon_pid" 2>/dev/null || fail "daemon died while draining $1"
        sleep 0.1
    done
    fail "$1 not drained within $3 s"
}
stop() {  # SIGTERM, expect exit 0
    kill -TERM "$daemon_pid"
    local rc=0
    wait "$daemon_pid" || rc=$?
    daemon_pid=
    [[ $rc -eq 0 ]] || fail "exit status $rc after SIGTERM, expected 0"
}

# ---- 1. bad settings ----------------------------------------------------------------
rc=0; timeout 20 "$binary" --db "$conn" --queue big --consumer c --target sink --bogus 1 >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || { cat "$work/bad.log"; fail "unknown option: exit $rc, expected 2"; }
grep -q "bogus" "$work/bad.log" || fail "unknown option not named"
rc=0; timeout 20 "$binary" --db "$conn" --queue nosuch --consumer c --target sink >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || { cat "$work/bad.log"; fail "missing queue: exit $rc, expected 1"; }
grep -q "nosuch" "$work/bad.log" || { cat "$work/bad.log"; fail "missing queue not named"; }
rc=0; timeout 20 "$binary" --db "host=127.0.0.1 nosuchkey=1" --queue big --consumer c --target sink >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -ne 0 && $rc -ne 124 ]] || { cat "$work/bad.log"; fail "bad connection string: exit $rc"; }
rc=0; timeout 20 "$binary" --db "$conn" --queue big --consumer c --delivery sometimes >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || { cat "$work/bad.log"; fail "bad delivery mode: exit $rc, expected 1"; }
rc=0; timeout 20 "$binary" --db "$conn" --queue big --consumer c --delivery at_least_once --output "$work/x.out" --fetch-connections 3 >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || { cat "$work/bad.log"; fail "fetch_connections 3: exit $rc, expected 1"; }
grep -q "fetch_connections must be 1 or 2" "$work/bad.log" || { cat "$work/bad.log"; fail "fetch_connections 3 not named"; }
echo "ok: bad settings"

# ---- 2. one big batch, bounded memory -------------------------------------------------
sql "select pgq.register_consumer('big', 'c')" >/dev/null
t0=$(date +%s.%N)
produce big "$big" 50000
t1=$(date +%s.%N)
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# in two parts at once (the second on another connection, read by a thread): still in order
start --queue big --consumer c --delivery at_least_once --output "$work/big.out" --fetch-size 1000 --fetch-connections 2 --metrics-port "$port"
wait_done big c 120
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$daemon_pid/status")
t2=$(date +%s.%N)
metrics=$(/usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=10).read().decode())")
for m in pgqpp_consumer_events_total pgqpp_consumer_batches_total pgqpp_consumer_retries_total \
         pgqpp_consumer_errors_total pgqpp_consumer_lag_seconds pgqpp_consumer_lag_events; do
    grep -q "^$m " <<<"$metrics" || fail "/metrics has no $m"
done
[[ $(awk '$1 == "pgqpp_consumer_events_total" {print $2}' <<<"$metrics") == "$big" ]] ||
    fail "/metrics: events_total is not $big: $(grep events_total <<<"$metrics")"
kill -HUP "$daemon_pid"
for _ in $(seq 100); do grep -q "configuration reloaded" "$work/out.log" && break; sleep 0.1; done
grep -q "configuration reloaded" "$work/out.log" || fail "no reload after SIGHUP"
for _ in $(seq 30); do grep -q "{events: " "$work/out.log" && break; sleep 0.1; done
grep -q "{events: " "$work/out.log" || fail "no stats line"
grep -q "lag_events: " "$work/out.log" || fail "no lag_events in the stats line (pending_events)"
stop
lines=$(wc -l <"$work/big.out")
[[ $lines -eq $big ]] || fail "big batch: $lines lines, expected $big"
[[ $(sort -u "$work/big.out" | wc -l) -eq $big ]] || fail "big batch: duplicate lines"
cut -d' ' -f1 "$work/big.out" | sort -n -c || fail "big batch: events out of ev_id order"
[[ $hwm -lt $max_rss_kb ]] || fail "big batch: peak RSS ${hwm} kB >= ${max_rss_kb} kB"
echo "ok: $big events in one batch: produced in $(echo "$t1 - $t0" | bc) s, drained in $(echo "$t2 - $t1" | bc) s, peak RSS ${hwm} kB"

# ---- 2b. fetch_connections changed by SIGHUP ---------------------------------------------
# The daemon's connections carry an application_name of their own: a second cursor
# connection shows up for the first big batch after fetch_connections = 2 is reloaded, a bad
# value is refused (the old setting kept), and it goes away again with 1.
sql "select pgq.register_consumer('big', 'h')" >/dev/null
ini="$work/hup.ini"
printf '[mirror_consumer]\nfetch_connections = 1\n' >"$ini"
backends() {
    sql "select count(*) from pg_stat_activity where application_name = 'hup_test'"
}
answers() { grep -c "configuration reloaded\|reload failed" "$work/out.log" || true; }
hup() {  # hup LINE: rewrite the file, SIGHUP, wait for the daemon's answer
    printf '[mirror_consumer]\n%s\n' "$1" >"$ini"
    kill -HUP "$daemon_pid"
    local i
    for i in $(seq 100); do
        (( $(answers) > reloads )) && break
        sleep 0.1
    done
    reloads=$(answers)
}
reloads=$(answers)
"$binary" --config "$ini" --db "$conn application_name=hup_test" --poll-period 200ms \
    --queue big --consumer h --delivery at_least_once --output "$work/hup.out" --fetch-size 1000 \
    >>"$work/out.log" 2>&1 &
daemon_pid=$!
produce big 5000 5000
wait_done big h 60
one=$(backends)
hup "fetch_connections = 2"
produce big 5000 5000
wait_done big h 60
[[ $(backends) -eq $((one + 1)) ]] || fail "fetch_connections 2 by SIGHUP: $(backends) connections, expected $((one + 1))"
hup "fetch_connections = 3"
grep -q "reload failed.*fetch_connections must be 1 or 2" "$work/out.log" || fail "fetch_connections 3 by SIGHUP not refused"
[[ $(backends) -eq $((one + 1)) ]] || fail "a refused reload changed the connections"
hup "fetch_connections = 1"
for _ in $(seq 50); do [[ $(backends) -eq $one ]] && break; sleep 0.1; done
[[ $(backends) -eq $one ]] || fail "fetch_connections 1 by SIGHUP: $(backends) connections, expected $one"
stop
[[ $(wc -l <"$work/hup.out") -eq 10000 ]] || fail "SIGHUP run: $(wc -l <"$work/hup.out") events, expected 10000"
cut -d' ' -f1 "$work/hup.out" | sort -n -c || fail "SIGHUP run: events out of ev_id order"
echo "ok: fetch_connections reloaded by SIGHUP ($one connections, $((one + 1)) with 2)"

# ---- 3. local exactly-once under kill -9 ------------------------------------------------
n_local=20000
sql "select pgq.register_consumer('local', 'c')" >/dev/null
TICK_EACH=1 produce local "$n_local" 1000
for round in $(seq 8); do
    start --queue local --consumer c --target sink --fetch-size 100 --event-delay 200us
    sleep "0.$((RANDOM % 6 + 2))"
    kill -KILL "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=
done
before=$(sql "select count(*) from sink")
echo "rows after the kills: $before of $n_local"
[[ $before -lt $n_local ]] || fail "the kills came after the end: make the workload bigger"
# Then its backends terminated mid-stream, twice: it reconnects with backoff, the batch
# that was cut is rolled back and done again.
start --queue local --consumer c --target sink --event-delay 200us
for _ in 1 2; do
    sleep 0.4
    sql "select count(pg_terminate_backend(pid)) from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid()
           and application_name <> 'psql'" >/dev/null
done
for _ in $(seq 100); do grep -q "lost the database" "$work/out.log" && break; sleep 0.1; done
grep -q "lost the database" "$work/out.log" || fail "no reconnect after pg_terminate_backend"
wait_done local c 60
stop
read -r total distinct <<<"$(sql "select count(*), count(distinct ev_id) from sink" | tr '|' ' ')"
[[ $total -eq $n_local && $distinct -eq $n_local ]] ||
    fail "local exactly-once: $total rows, $distinct distinct, expected $n_local"
echo "ok: local exactly-once, 8 kills and 2 terminated backends: $total rows, each once"

# ---- 4. SIGTERM mid-stream --------------------------------------------------------------
n_term=30000
sql "select pgq.register_consumer('term', 'c')" >/dev/null
TICK_EACH=1 produce term "$n_term" 1000
start --queue term --consumer c --delivery at_least_once --output "$work/term.out" --fetch-size 100 --event-delay 100us
sleep 0.5
stop
stopped_at=$(wc -l <"$work/term.out")
[[ $stopped_at -lt $n_term ]] || fail "SIGTERM came after the end: make the workload bigger"
echo "stopped at $stopped_at of $n_term events"
start --queue term --consumer c --delivery at_least_once --output "$work/term.out"
wait_done term c 60
stop
[[ $(sort -u "$work/term.out" | wc -l) -eq $n_term ]] || fail "SIGTERM: not every event delivered"
# at-least-once: a batch stopped by SIGTERM is finished before exit, so no duplicates either.
[[ $(wc -l <"$work/term.out") -eq $n_term ]] || fail "SIGTERM: a batch was delivered twice"
echo "ok: SIGTERM mid-stream, restart delivered the rest"

# ---- 5. remote exactly-once under kill -9 -----------------------------------------------
pgqpp_new_db "$target_db" tmpl_ours   # our pgq_ext, whatever the queue's pgq
tconn="host='$PGHOST' port='$PGPORT' user='$PGUSER' dbname='$target_db'"
psql -X -q -d "$target_db" -c "create table sink (ev_id bigint, ev_data text)" >/dev/null
rc=0; timeout 20 "$binary" --db "$conn" --queue remote --consumer c --target sink --delivery remote >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] && grep -q target_db "$work/bad.log" || { cat "$work/bad.log"; fail "remote without target_db: exit $rc"; }
n_remote=20000
sql "select pgq.register_consumer('remote', 'c')" >/dev/null
TICK_EACH=1 produce remote "$n_remote" 1000
for round in $(seq 8); do
    start --queue remote --consumer c --target sink --delivery remote --target-db "$tconn" --fetch-size 100 --event-delay 200us
    sleep "0.$((RANDOM % 6 + 2))"
    kill -KILL "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=
done
before=$(psql -X -q -At -d "$target_db" -c "select count(*) from sink")
echo "target rows after the kills: $before of $n_remote"
[[ $before -lt $n_remote ]] || fail "the kills came after the end: make the workload bigger"
start --queue remote --consumer c --target sink --delivery remote --target-db "$tconn"
wait_done remote c 60
stop
read -r total distinct <<<"$(psql -X -q -At -d "$target_db" -c "select count(*), count(distinct ev_id) from sink" | tr '|' ' ')"
[[ $total -eq $n_remote && $distinct -eq $n_remote ]] ||
    fail "remote exactly-once: $total rows, $distinct distinct, expected $n_remote"
echo "ok: remote exactly-once, 8 kills: $total rows, each once"
echo "1 passed, 0 failed"
