#!/usr/bin/env bash
# Re-running the plain install script over a live queue keeps everything.
#
#   plain_reinstall_test.sh
#
# In a database copied from tmpl_ours (our pgq installed with psql -f pgq_install.sql): two
# queues with non-default settings, three consumers (one with an open batch, one behind with
# ticked-but-unread events), an event in the retry queue, committed-but-unticked events, and
# a producer transaction that is still open while the script runs (its psql reads from a
# FIFO, so it commits only when the test says so). Then
# build/pgq_sql/pgq_install.sql is run twice. Checked: the pgq tables, events and sequences
# are exactly as before, pgq.version() is unchanged, the open batch is still the consumer's
# batch, and every consumer then gets every committed event exactly once (the retried one
# once more with ev_retry = 1), including those of the transaction that was open during the
# reinstall and events inserted afterwards.
# Needs the ctest fixture pg_cluster (PGQPP_TEST_CLUSTER) and PGQPP_BUILD_DIR.
set -Eeuo pipefail
trap 'echo "FAIL [install.plain_reinstall]: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
source "$here/../harness/lib.sh"
pgqpp_load_env
unset PGOPTIONS
export PGTZ=UTC PGCLIENTENCODING=UTF8 PGAPPNAME="pgqpp:install.plain_reinstall"

install_sql="${PGQPP_BUILD_DIR:?PGQPP_BUILD_DIR is not set (run the test through ctest)}/pgq_sql/pgq_install.sql"
db=$(pgqpp_db_name install_plain_reinstall)
tmp=""
producer_pid=""

log() { printf '[plain_reinstall] %s\n' "$*"; }
fail() {
    echo "FAIL [install.plain_reinstall]: $*" >&2
    exit 1
}

cleanup() {
    local status=$?
    exec 3>&- 2>/dev/null || true
    if [[ -n "$producer_pid" ]]; then
        kill "$producer_pid" 2>/dev/null || true
        wait "$producer_pid" 2>/dev/null || true
    fi
    pgqpp_drop_db "$db" >/dev/null 2>&1 || true
    [[ -n "$tmp" ]] && rm -rf -- "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -f "$install_sql" ]] || fail "$install_sql not found (build the pgq_sql target first)"
tmp=$(mktemp -d /tmp/pgqpp-reinstall.XXXXXX)

sql() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}

pgqpp_new_db "$db" tmpl_ours

# sent: committed events (written in the producer's transaction); recv: what each consumer
# got (written in the transaction that finishes the batch).
sql >/dev/null <<'SQL'
create table public.sent (queue text, ev_id bigint, ev_data text, primary key (queue, ev_id));
create table public.recv (consumer text, batch_id bigint, ord bigint, ev_id bigint,
                          ev_retry int4, ev_data text, primary key (consumer, batch_id, ord));
create table public.subscribed (consumer text primary key, queue text);
insert into public.subscribed values ('c1', 'rq1'), ('c2', 'rq1'), ('c3', 'rq2');

select pgq.create_queue('rq1');
select pgq.create_queue('rq2');
-- every pgq.ticker(q) call ticks; and settings that a reinstall must not reset
select pgq.set_queue_config(q, 'ticker_max_lag', '0') from unnest(array['rq1', 'rq2']) q;
select pgq.set_queue_config(q, 'ticker_idle_period', '0') from unnest(array['rq1', 'rq2']) q;
select pgq.set_queue_config('rq1', 'rotation_period', '7 hours');
select pgq.set_queue_config('rq2', 'ticker_max_count', '123');
select pgq.register_consumer(queue, consumer) from public.subscribed;
SQL

# produce QUEUE PHASE COUNT [rollback]
produce() {
    local end=commit
    [[ "${4:-}" == rollback ]] && end=rollback
    sql -v q="$1" -v phase="$2" -v n="$3" >/dev/null <<SQL
begin;
insert into public.sent
select :'q', pgq.insert_event(:'q', 'ev', :'phase' || '-' || i, :'phase', null, 'x3', null),
       :'phase' || '-' || i
  from generate_series(1, :n) i;
$end;
SQL
}

tick() {
    sql -v q="$1" >/dev/null <<'SQL'
select pgq.ticker(:'q');
SQL
}

# finish CONSUMER BATCH: records the batch's events and finishes it, in one transaction;
# the first time it sees an event of phase 'retry-me' it retries it (due at once).
finish() {
    sql -v c="$1" -v b="$2" >/dev/null <<'SQL'
begin;
insert into public.recv (consumer, batch_id, ord, ev_id, ev_retry, ev_data)
select :'c', :b, e.ord, e.ev_id, e.ev_retry, e.ev_data
  from pgq.get_batch_events(:b) with ordinality
       as e(ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, e1, e2, e3, e4, ord);
select pgq.event_retry(:b, ev_id, 0)
  from public.recv where consumer = :'c' and batch_id = :b and ev_data like 'retry-me-%' and ev_retry is null;
select pgq.finish_batch(:b);
commit;
SQL
}

next_batch() {
    sql -v c="$1" <<'SQL'
select pgq.next_batch(queue, consumer) from public.subscribed where consumer = :'c';
SQL
}

# consume_all CONSUMER: takes and finishes batches until none is left (no tick).
consume_all() {
    local batch n=0
    while :; do
        batch=$(next_batch "$1")
        [[ -n "$batch" ]] || break
        finish "$1" "$batch"
        n=$((n + 1))
        ((n < 1000)) || fail "consume_all $1: more than 1000 batches"
    done
}

# ---------------------------------------------------------------------------------------
# A live state.
# ---------------------------------------------------------------------------------------
produce rq1 p1 10
produce rq1 p1-rolled-back 3 rollback
produce rq2 p1 5
tick rq1
tick rq2
consume_all c1
consume_all c3
produce rq1 retry-me 1
produce rq1 p2 4
tick rq1
consume_all c1                          # retries retry-me (now in pgq.retry_queue)
produce rq1 p3-open-batch 6
tick rq1
open_batch=$(next_batch c1)             # c1: an open batch across the reinstall
[[ -n "$open_batch" ]] || fail "no batch for c1 after a tick"
produce rq2 p3-ticked-unread 3
tick rq2                                 # c3: ticked, not read
produce rq1 p4-unticked 2               # committed, not ticked
produce rq2 p4-unticked 2
# c2 has read nothing at all.

retry_rows=$(sql -c "select count(*) from pgq.retry_queue")
[[ "$retry_rows" == 1 ]] || fail "setup: expected 1 row in pgq.retry_queue, found $retry_rows"

# Everything a reinstall must keep.
snapshot() {
    sql <<'SQL'
select 'version', pgq.version();
select 'queue', to_jsonb(q) from pgq.queue q order by queue_id;
select 'consumer', to_jsonb(c) from pgq.consumer c order by co_id;
select 'subscription', to_jsonb(s) from pgq.subscription s order by sub_id;
select 'tick', to_jsonb(t) from pgq.tick t order by tick_queue, tick_id;
select 'retry_queue', to_jsonb(r) from pgq.retry_queue r order by ev_id;
select 'event', tableoid::regclass, to_jsonb(e) from pgq.event_template e order by tableoid::regclass::text, ev_id;
-- (not pgq._trg_ddl_seq: a DDL counter of the trigger cache, not data; any DDL moves it)
select 'seq ' || c.relname, pgq.seq_getval('pgq.' || c.relname)
  from pg_class c where c.relnamespace = 'pgq'::regnamespace and c.relkind = 'S'
   and c.relname <> '_trg_ddl_seq' order by 1;
-- ACL entries sorted: a REVOKE + GRANT may reorder them without changing anything
select 'acl ' || c.relname, (select array_agg(a::text order by a::text) from unnest(c.relacl) a)
  from pg_class c
 where c.relnamespace = 'pgq'::regnamespace and c.relkind in ('r', 'S') order by 1;
select 'queue_info', queue_name, queue_ntables, queue_cur_table, queue_rotation_period,
       queue_ticker_max_count, queue_ticker_max_lag, last_tick_id
  from pgq.get_queue_info() order by 2;
select 'consumer_info', queue_name, consumer_name, last_tick, current_batch, next_tick, pending_events
  from pgq.get_consumer_info() order by 2, 3;
SQL
}
snapshot >"$tmp/before.txt"

# A producer transaction that stays open while the install script runs: psql reads its
# statements from a FIFO, so the test decides when it commits.
mkfifo "$tmp/producer.fifo"
PGAPPNAME=pgqpp:reinstall-producer psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
    <"$tmp/producer.fifo" >"$tmp/producer.out" 2>&1 &
producer_pid=$!
exec 3>"$tmp/producer.fifo"
cat >&3 <<'SQL'
begin;
insert into public.sent
select 'rq1', pgq.insert_event('rq1', 'ev', 'p5-open-during-install-' || i, 'p5', null, 'x3', null),
       'p5-open-during-install-' || i
  from generate_series(1, 5) i;
SQL
producer_waiting() {
    [[ "$(sql <<'SQL'
select count(*) from pg_stat_activity
 where application_name = 'pgqpp:reinstall-producer' and state = 'idle in transaction'
   and query like 'insert into public.sent%';
SQL
    )" == 1 ]]
}
deadline=$((SECONDS + 30))
until producer_waiting; do
    kill -0 "$producer_pid" 2>/dev/null || { cat "$tmp/producer.out" >&2; fail "the producer psql exited early"; }
    ((SECONDS < deadline)) || fail "the producer transaction did not get to 'idle in transaction' within 30 s"
    sleep 0.1
done

# ---------------------------------------------------------------------------------------
# Reinstall, twice.
# ---------------------------------------------------------------------------------------
for round in 1 2; do
    # lock_timeout: a lock the open producer transaction holds must not hang the test.
    if ! PGOPTIONS="-c client_min_messages=warning -c lock_timeout=30s" \
        psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$install_sql" >"$tmp/install.$round.log" 2>&1; then
        cat "$tmp/install.$round.log" >&2
        fail "reinstall round $round: psql -f $install_sql failed (a lock timeout means the install
waits for a lock that an open producer transaction holds)"
    fi
done
producer_waiting || fail "the producer transaction did not stay open during the reinstall"
echo 'commit;' >&3
exec 3>&-
if ! wait "$producer_pid"; then
    producer_pid=""
    cat "$tmp/producer.out" >&2
    fail "the producer transaction that was open during the reinstall failed"
fi
producer_pid=""
log "ran $install_sql twice over the live queue (a producer transaction open meanwhile)"

snapshot >"$tmp/after.txt"
# The open producer committed 5 events into rq1 meanwhile: compare without them.
sql >/dev/null <<'SQL'
delete from public.sent where ev_data like 'p5-%';
SQL
grep -v 'p5-open-during-install' "$tmp/after.txt" | grep -v '^seq event_1_id_seq|' >"$tmp/after.cmp"
grep -v '^seq event_1_id_seq|' "$tmp/before.txt" >"$tmp/before.cmp"
if ! diff -u "$tmp/before.cmp" "$tmp/after.cmp" >"$tmp/snapshot.diff"; then
    cat "$tmp/snapshot.diff" >&2
    fail "the reinstall changed pgq's data (diff above: - before, + after; p5 events excluded)"
fi
# Put the p5 events back into sent: they were committed and must be delivered.
sql >/dev/null <<'SQL'
insert into public.sent
select 'rq1', ev_id, ev_data from pgq.event_template
 where ev_data like 'p5-open-during-install-%';
SQL
got=$(sql -c "select count(*) from public.sent where ev_data like 'p5-%'")
[[ "$got" == 5 ]] || fail "the producer transaction open during the reinstall committed $got events, expected 5"
log "queues, consumers, ticks, retry queue, events, sequences and grants unchanged"

# ---------------------------------------------------------------------------------------
# The consumers continue.
# ---------------------------------------------------------------------------------------
again=$(next_batch c1)
[[ "$again" == "$open_batch" ]] || fail "after the reinstall next_batch(c1) returned '$again', expected the open batch $open_batch"
finish c1 "$open_batch"
moved=$(sql -c "select pgq.maint_retry_events()")
[[ "$moved" == 1 ]] || fail "maint_retry_events() moved $moved events, expected the 1 retried event"
produce rq1 p6-after 7
produce rq1 p6-rolled-back 2 rollback
produce rq2 p6-after 3
tick rq1
tick rq2
for c in c1 c2 c3; do
    consume_all "$c"
done

problems=$(sql <<'SQL'
with expected as (
    select b.consumer, s.ev_id, s.ev_data from public.subscribed b join public.sent s using (queue)
)
select 'missing for ' || e.consumer || ': ' || e.ev_data from expected e
 where not exists (select 1 from public.recv r
                    where r.consumer = e.consumer and r.ev_id = e.ev_id and r.ev_retry is null)
union all
select 'not sent, got by ' || r.consumer || ': ' || r.ev_id || ' ' || coalesce(r.ev_data, 'NULL')
  from public.recv r
 where not exists (select 1 from expected e where e.consumer = r.consumer and e.ev_id = r.ev_id)
union all
select consumer || ' got ' || ev_data || ' ' || count(*) || ' times (ev_retry '
       || coalesce(ev_retry::text, 'NULL') || ')'
  from public.recv group by consumer, ev_id, ev_data, ev_retry having count(*) > 1
union all
select 'changed for ' || r.consumer || ': ' || r.ev_id from public.recv r
  join expected e on e.consumer = r.consumer and e.ev_id = r.ev_id
 where r.ev_data is distinct from e.ev_data
union all
select 'unexpected retry: ' || consumer || ' ' || ev_data from public.recv
 where ev_retry is not null and not (consumer = 'c1' and ev_data like 'retry-me-%' and ev_retry = 1)
union all
select 'the retried event did not come back to c1'
 where not exists (select 1 from public.recv where consumer = 'c1' and ev_retry = 1)
union all
select 'order in batch ' || batch_id || ' of ' || consumer from (
    select consumer, batch_id, ev_id,
           lag(ev_id) over (partition by consumer, batch_id order by ord) as prev
      from public.recv) x
 where prev >= ev_id;
SQL
)
[[ -z "$problems" ]] || fail "after the reinstall the consumers did not get every event exactly once:
$problems"
summary=$(sql -c "select string_agg(consumer || ':' || n, ' ' order by consumer) from (select consumer, count(*) n from public.recv group by 1) x")
log "OK: every consumer got every committed event exactly once across two reinstalls ($summary)"
