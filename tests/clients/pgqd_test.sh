#!/usr/bin/env bash
# Stock pgqd (Debian's /usr/bin/pgqd, run as a black box) against a pgq schema.
#
#   pgqd_test.sh ours|pgq|ours_light
#
# ours = a database copied from tmpl_ours (our plain-SQL install), pgq = one copied from
# tmpl_pgq (the real PgQ 3.5 C extension), so a failure can be compared with the original;
# ours_light = from tmpl_ours_light (every queue with the option light_batches).
# pgqd ticks, rotates and flushes the retry queue; the test plays the consumer in SQL:
#   1. pgqd accepts the schema ("pgq version ok", never "bad pgq version") and ticks advance;
#   2. an event tagged with pgq.event_retry(batch, ev_id, 0) comes back in a later batch with
#      ev_retry = 1 (pgqd's retry connection ran maint_retry_events);
#   3. after the queue's rotation_period (10 s), queue_cur_table has moved and
#      queue_switch_step2 is set again (pgqd ran step1 and, in a later transaction, step2);
#   4. the consumer got every committed event exactly once, none of the rolled-back ones.
# Every wait polls with a deadline. Needs the ctest fixture pg_cluster (PGQPP_TEST_CLUSTER).
set -Eeuo pipefail
trap 'echo "FAIL [clients.pgqd]: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

target=${1:-}
case "$target" in
ours | pgq | ours_light) ;;
*)
    echo "usage: pgqd_test.sh ours|pgq|ours_light" >&2
    exit 2
    ;;
esac

# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../harness/lib.sh"
pgqpp_load_env
unset PGOPTIONS
export PGTZ=UTC PGCLIENTENCODING=UTF8 PGAPPNAME="pgqpp:clients.pgqd"

PGQD=${PGQPP_PGQD:-/usr/bin/pgqd}
QUEUE=pgqd_queue
CONSUMER=pgqd_consumer
db=$(pgqpp_db_name clients_pgqd "$target")
tmp=""
pgqd_pid=""
watchdog_pid=""

log() { printf '[pgqd_test %s] %s\n' "$target" "$*"; }

stop_pgqd() {
    [[ -n "$pgqd_pid" ]] || return 0
    local pid=$pgqd_pid
    pgqd_pid=""
    kill -INT "$pid" 2>/dev/null || true          # pgqd: SIGINT = graceful stop
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

show_pgqd_log() {
    if [[ -n "$tmp" && -s "$tmp/pgqd.log" ]]; then
        echo "---- last lines of the pgqd log ($tmp/pgqd.log) ----" >&2
        tail -n 40 "$tmp/pgqd.log" >&2
        echo "----" >&2
    fi
    if [[ -n "$tmp" && -s "$tmp/pgqd.out" ]]; then
        echo "---- pgqd stdout/stderr ----" >&2
        tail -n 20 "$tmp/pgqd.out" >&2
        echo "----" >&2
    fi
}

cleanup() {
    local status=$?
    if [[ -n "$watchdog_pid" ]]; then
        kill "$watchdog_pid" 2>/dev/null || true
        wait "$watchdog_pid" 2>/dev/null || true
    fi
    stop_pgqd
    if ((status != 0)); then
        show_pgqd_log
    fi
    pgqpp_drop_db "$db" >/dev/null 2>&1 || true
    [[ -n "$tmp" ]] && rm -rf -- "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL [clients.pgqd/$target]: $*" >&2
    exit 1
}

sql() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_until() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            fail "timed out after ${timeout}s waiting for: $what"
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------
# Setup: database, queue, bookkeeping tables, pgqd config.
# ---------------------------------------------------------------------------------------
pgqpp_new_db "$db" "tmpl_$target"
tmp=$(mktemp -d /tmp/pgqpp-pgqd.XXXXXX)

sql -v q="$QUEUE" >/dev/null <<'SQL'
select pgq.create_queue(:'q');
select pgq.set_queue_config(:'q', 'rotation_period', '10 seconds');
select pgq.set_queue_config(:'q', 'ticker_max_lag', '0.3 seconds');
select pgq.set_queue_config(:'q', 'ticker_idle_period', '1 second');
-- sent: what committed producers inserted; recv: what the consumer got, batch by batch
-- (written in the same transaction as finish_batch, so it is exactly what was consumed).
create table sent (ev_id bigint primary key, ev_type text, ev_data text);
create table recv (batch_id bigint, ord bigint, ev_id bigint, ev_retry int4,
                   ev_type text, ev_data text, primary key (batch_id, ord));
SQL

version=$(sql -c 'select pgq.version()')
[[ "$version" == 3.* ]] || fail "pgq.version() returned '$version' (pgqd needs '3.x')"

cat >"$tmp/pgqd.ini" <<EOF
[pgqd]
logfile = $tmp/pgqd.log
pidfile = $tmp/pgqd.pid
base_connstr = host='$PGHOST' port=$PGPORT user='$PGUSER'
initial_database = postgres
database_list = $db
syslog = 0
check_period = 1
ticker_period = 0.2
maint_period = 2
retry_period = 1
stats_period = 5
EOF

tick0=$(sql -c "select last_tick_id from pgq.get_queue_info('$QUEUE')")
cur_table0=$(sql -c "select queue_cur_table from pgq.get_queue_info('$QUEUE')")

log "starting $PGQD on database $db (pgq.version() = $version)"
"$PGQD" -v "$tmp/pgqd.ini" >"$tmp/pgqd.out" 2>&1 &
pgqd_pid=$!
# Should this script be killed before its trap runs, this watchdog still stops pgqd.
(
    trap '' INT
    while kill -0 $$ 2>/dev/null; do sleep 1; done
    kill -INT "$pgqd_pid" 2>/dev/null
    sleep 5
    kill -KILL "$pgqd_pid" 2>/dev/null
) </dev/null >/dev/null 2>&1 &
watchdog_pid=$!

# ---------------------------------------------------------------------------------------
# 1. Version check passes and ticks advance.
# ---------------------------------------------------------------------------------------
pgqd_alive() {
    kill -0 "$pgqd_pid" 2>/dev/null || fail "pgqd exited early"
}
version_ok() {
    pgqd_alive
    grep -q "pgq version ok" "$tmp/pgqd.log" 2>/dev/null
}
wait_until 20 "pgqd to log '$db: pgq version ok'" version_ok
if grep -q "bad pgq version" "$tmp/pgqd.log"; then
    fail "pgqd logged 'bad pgq version': $(grep 'bad pgq version' "$tmp/pgqd.log" | head -n 1)"
fi

last_tick() { sql -c "select last_tick_id from pgq.get_queue_info('$QUEUE')"; }
ticks_advanced() {
    pgqd_alive
    (($(last_tick) >= tick0 + 3))
}
wait_until 20 "pgqd to make 3 ticks (last_tick_id was $tick0)" ticks_advanced
log "ticks advance: last_tick_id $tick0 -> $(last_tick)"

# ---------------------------------------------------------------------------------------
# 2. Retry: register, consume until the event tagged 'retry-me' comes, retry it with
#    event_retry(batch, ev_id, 0), and wait until it is delivered again with ev_retry = 1.
# ---------------------------------------------------------------------------------------
sql -c "select pgq.register_consumer('$QUEUE', '$CONSUMER')" >/dev/null

# insert_events TYPE COUNT [rollback]: one producer transaction.
insert_events() {
    local end=commit
    [[ "${3:-}" == rollback ]] && end=rollback
    sql -v q="$QUEUE" -v t="$1" -v n="$2" <<SQL
begin;
insert into sent
select pgq.insert_event(:'q', :'t', :'t' || '-' || i), :'t', :'t' || '-' || i
  from generate_series(1, :n) i;
$end;
SQL
}

# consume_one: takes the next batch if there is one; records its events in recv, retries
# each not yet retried 'retry-me' event, finishes the batch, all in one transaction.
# Returns 1 if no batch was available.
consume_one() {
    local batch
    batch=$(sql -c "select pgq.next_batch('$QUEUE', '$CONSUMER')")
    [[ -n "$batch" ]] || return 1
    sql -v b="$batch" <<'SQL' >/dev/null
begin;
-- ord: the position in which get_batch_events returned the event
insert into recv (batch_id, ord, ev_id, ev_retry, ev_type, ev_data)
select :b, e.ord, e.ev_id, e.ev_retry, e.ev_type, e.ev_data
  from pgq.get_batch_events(:b) with ordinality as e(ev_id, ev_time, ev_txid, ev_retry, ev_type,
                                                     ev_data, e1, e2, e3, e4, ord);
select pgq.event_retry(:b, ev_id, 0)
  from recv where batch_id = :b and ev_type = 'retry-me' and ev_retry is null;
select pgq.finish_batch(:b);
commit;
SQL
}

drain() {
    while consume_one; do :; done
}

insert_events plain 5
insert_events retry-me 1
insert_events plain 5
insert_events rolled-back 3 rollback

retry_ev_id=$(sql -c "select ev_id from sent where ev_type = 'retry-me'")
retried_back() {
    pgqd_alive
    drain
    [[ "$(sql -c "select count(*) from recv where ev_id = $retry_ev_id and ev_retry = 1")" == 1 ]]
}
first_seen() {
    pgqd_alive
    drain
    [[ "$(sql -c "select count(*) from recv where ev_id = $retry_ev_id and ev_retry is null")" == 1 ]]
}
wait_until 20 "the consumer to receive event $retry_ev_id (type retry-me) a first time" first_seen
log "event $retry_ev_id retried with pgq.event_retry(batch, $retry_ev_id, 0)"
wait_until 30 "event $retry_ev_id to come back with ev_retry = 1 (pgqd retry_period = 1 s)" retried_back
first_batch=$(sql -c "select batch_id from recv where ev_id = $retry_ev_id and ev_retry is null")
again_batch=$(sql -c "select batch_id from recv where ev_id = $retry_ev_id and ev_retry = 1")
((again_batch > first_batch)) || fail "the retried event came back in batch $again_batch, not after $first_batch"
same=$(sql -c "
    select count(*) from recv r join sent s using (ev_id)
     where r.ev_id = $retry_ev_id and r.ev_retry = 1
       and r.ev_type is not distinct from s.ev_type and r.ev_data is not distinct from s.ev_data")
[[ "$same" == 1 ]] || fail "the retried event came back with different type/data"
left=$(sql -c "select count(*) from pgq.retry_queue")
[[ "$left" == 0 ]] || fail "pgq.retry_queue still has $left rows after the event came back"
log "retried event came back in batch $again_batch with ev_retry = 1"

# ---------------------------------------------------------------------------------------
# 3. Rotation: events in the current table, then wait past rotation_period (10 s) until
#    pgqd's maint has run step1 (queue_cur_table moves) and step2 (switch_step2 set).
# ---------------------------------------------------------------------------------------
insert_events before-rotation 50
rotated() {
    pgqd_alive
    drain
    local row
    row=$(sql -c "
        select queue_cur_table <> $cur_table0 and queue_switch_step2 is not null
          from pgq.queue where queue_name = '$QUEUE'")
    [[ "$row" == t ]]
}
wait_until 45 "queue_cur_table to move from $cur_table0 and queue_switch_step2 to be set (rotation_period 10 s, maint_period 2 s)" rotated
log "rotated: queue_cur_table $cur_table0 -> $(sql -c "select queue_cur_table from pgq.queue where queue_name = '$QUEUE'")"

# After the rotation, new events go to the new table and are still delivered.
insert_events after-rotation 50
insert_events rolled-back 2 rollback
all_received() {
    pgqd_alive
    drain
    [[ "$(sql -c "select count(*) from sent s where not exists (select 1 from recv r where r.ev_id = s.ev_id)")" == 0 ]]
}
wait_until 20 "the consumer to receive every committed event" all_received

# ---------------------------------------------------------------------------------------
# 4. Exactly once, nothing rolled back, nothing foreign; ids ascending within each batch.
# ---------------------------------------------------------------------------------------
problems=$(sql <<'SQL'
select 'missing: ' || s.ev_id from sent s
 where not exists (select 1 from recv r where r.ev_id = s.ev_id and r.ev_retry is null)
union all
select 'delivered ' || count(*) || ' times: ' || ev_id from recv
 group by ev_id, ev_retry having count(*) > 1
union all
select 'not sent: ' || r.ev_id || ' (' || coalesce(r.ev_type, 'NULL') || ')' from recv r
 where not exists (select 1 from sent s where s.ev_id = r.ev_id)
union all
select 'changed: ' || r.ev_id from recv r join sent s using (ev_id)
 where r.ev_type is distinct from s.ev_type or r.ev_data is distinct from s.ev_data
union all
select 'unexpected retry: ' || ev_id from recv
 where ev_retry is not null and ev_type <> 'retry-me'
union all
select 'order in batch ' || batch_id from (
    select batch_id, ev_id, lag(ev_id) over (partition by batch_id order by ord) as prev from recv) x
 where prev >= ev_id
SQL
)
[[ -z "$problems" ]] || fail "consumer saw wrong events:
$problems"

if grep -q "bad pgq version" "$tmp/pgqd.log"; then
    fail "pgqd logged 'bad pgq version'"
fi
if grep -Eqi "ERROR|FATAL" "$tmp/pgqd.log"; then
    fail "pgqd logged errors:
$(grep -Ei 'ERROR|FATAL' "$tmp/pgqd.log" | head -n 10)"
fi
pgqd_alive
n_sent=$(sql -c "select count(*) from sent")
log "OK: $n_sent events delivered exactly once, retry and rotation done by pgqd"
