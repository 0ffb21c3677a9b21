/// @file sql.hpp
/// The SQL pgqctl runs itself, beyond core's admin API: catalog probes, the rotation and
/// blocker queries of `status`, tick lookups of `rewind` and `tail`, dead letters.
/// Intervals come back as microseconds (int8), times as microseconds since the epoch.
#pragma once

namespace pgqctl::sql {

// ---- catalog probes -------------------------------------------------------------------
inline constexpr const char* has_pgq_schema =
    "select to_regproc('pgq.version') is not null";

/// What is installed: the pgq extension's version (NULL: no extension), whether schema pgq
/// has C functions (the real PgQ), and the versions of pgq, pgq_ext and pgq_coop (NULL when
/// absent). The version functions are called only when they exist.
inline constexpr const char* installed_state = R"(
select (select extversion from pg_extension where extname = 'pgq') as pgq_extension,
       exists (select 1 from pg_proc p
                 join pg_namespace n on n.oid = p.pronamespace
                 join pg_language l on l.oid = p.prolang
                where n.nspname = 'pgq' and l.lanname = 'c') as pgq_has_c,
       to_regproc('pgq.version') is not null as has_pgq,
       to_regproc('pgq_ext.version') is not null as has_ext,
       to_regproc('pgq_coop.version') is not null as has_coop)";

inline constexpr const char* pgq_version = "select pgq.version()";
inline constexpr const char* pgq_ext_version = "select pgq_ext.version()";
inline constexpr const char* pgq_coop_version = "select pgq_coop.version()";

inline constexpr const char* dead_letters_available =
    "select to_regproc('pgq.dead_letter_list') is not null";

// ---- queues ---------------------------------------------------------------------------
/// The queue's row of pgq.queue as JSON (every column, whatever this pgq version has).
inline constexpr const char* queue_row =
    "select to_jsonb(q) from pgq.queue q where q.queue_name = $1";

inline constexpr const char* queue_consumers =
    "select c.co_name from pgq.subscription s"
    "  join pgq.consumer c on c.co_id = s.sub_consumer"
    "  join pgq.queue q on q.queue_id = s.sub_queue"
    " where q.queue_name = $1 order by c.co_name";

// ---- ticks ----------------------------------------------------------------------------
/// $1 text: a timestamp, or an interval relative to now when $2 is true.
inline constexpr const char* resolve_time_abs =
    "select (extract(epoch from $1::timestamptz) * 1000000)::int8";
inline constexpr const char* resolve_time_rel =
    "select (extract(epoch from now() + $1::interval) * 1000000)::int8";

/// The newest tick of queue $1 at or before time $2 (microseconds since the epoch).
inline constexpr const char* tick_at_or_before = R"(
select t.tick_id, (extract(epoch from t.tick_time) * 1000000)::int8
  from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
 where q.queue_name = $1 and t.tick_time <= to_timestamp($2::float8 / 1000000)
 order by t.tick_id desc limit 1)";

/// Tick $2 of queue $1.
inline constexpr const char* tick_by_id = R"(
select t.tick_id, (extract(epoch from t.tick_time) * 1000000)::int8
  from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
 where q.queue_name = $1 and t.tick_id = $2)";

/// The oldest and newest kept ticks of queue $1 (id, time), and the events between the
/// tick $2 (may be NULL) and the newest.
inline constexpr const char* tick_range = R"(
select min(t.tick_id), (extract(epoch from min(t.tick_time)) * 1000000)::int8,
       max(t.tick_id), (extract(epoch from max(t.tick_time)) * 1000000)::int8,
       max(t.tick_event_seq) - min(t.tick_event_seq) filter (where t.tick_id = $2::int8)
  from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
 where q.queue_name = $1)";

// ---- tail -----------------------------------------------------------------------------
/// Queue $1's id and the parent of its event tables ("pgq.event_3").
inline constexpr const char* queue_event_parent =
    "select queue_id, queue_data_pfx from pgq.queue where queue_name = $1";

/// Ticks of queue $1 newer than tick $2, oldest first (at most 100 per round).
inline constexpr const char* ticks_after = R"(
select tick_id from pgq.tick
 where tick_queue = $1 and tick_id > $2 order by tick_id limit 100)";

inline constexpr const char* newest_tick =
    "select max(tick_id) from pgq.tick where tick_queue = $1";

/// Events between tick $2 (exclusive) and tick $3 (inclusive) of queue $1, as a batch
/// between them would have them, without any consumer: committed after the first tick's
/// snapshot and visible in the second's. Retry copies (ev_owner set) are not new events.
/// %s is the quoted event table parent.
inline constexpr const char* events_between = R"(
with a as (select tick_snapshot s from pgq.tick where tick_queue = $1 and tick_id = $2),
     b as (select tick_snapshot s from pgq.tick where tick_queue = $1 and tick_id = $3)
select ev.ev_id, (extract(epoch from ev.ev_time) * 1000000)::int8, ev.ev_txid, ev.ev_retry,
       ev.ev_type, ev.ev_data, ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4
  from %s ev, a, b
 where ev.ev_txid >= txid_snapshot_xmin(a.s) and ev.ev_txid <= txid_snapshot_xmax(b.s)
   and txid_visible_in_snapshot(ev.ev_txid, b.s)
   and not txid_visible_in_snapshot(ev.ev_txid, a.s)
   and ev.ev_owner is null
 order by ev.ev_id)";

// ---- status ---------------------------------------------------------------------------
/// The first statement of status' transaction: one snapshot for every query.
inline constexpr const char* snapshot_transaction =
    "set transaction isolation level repeatable read, read only";

/// Per queue $1 (NULL: all): rotation state, and the rotation blockers' raw facts: the
/// slowest consumer's last tick and its snapshot xmin, the newest tick's xmin, step1/step2;
/// the size of the event tables (what grows while rotation is blocked); the database's next
/// txid (below the newest tick's xmin: restored into another cluster).
inline constexpr const char* rotation_state = R"(
select q.queue_name, q.queue_cur_table, q.queue_ntables,
       (extract(epoch from q.queue_rotation_period) * 1000000)::int8,
       (extract(epoch from now() - q.queue_switch_time) * 1000000)::int8,
       q.queue_switch_step1, q.queue_switch_step2,
       q.queue_switch_time + q.queue_rotation_period < now() as due,
       slow.co_name, slow.sub_last_tick, txid_snapshot_xmin(slow.tick_snapshot),
       (extract(epoch from now() - slow.tick_time) * 1000000)::int8,
       (select txid_snapshot_xmin(t.tick_snapshot) from pgq.tick t
         where t.tick_queue = q.queue_id order by t.tick_id desc limit 1),
       (select (extract(epoch from now() - t.tick_time) * 1000000)::int8 from pgq.tick t
         where t.tick_queue = q.queue_id order by t.tick_id desc limit 1),
       (select coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::int8 from pg_inherits i
         where i.inhparent = to_regclass(q.queue_data_pfx)),
       q.queue_data_pfx || '_' || (q.queue_cur_table + 1) % q.queue_ntables,
       txid_snapshot_xmax(txid_current_snapshot())
  from pgq.queue q
  left join lateral (
        select c.co_name, s.sub_last_tick, t.tick_snapshot, t.tick_time
          from pgq.subscription s
          join pgq.consumer c on c.co_id = s.sub_consumer
          join pgq.tick t on t.tick_queue = s.sub_queue and t.tick_id = s.sub_last_tick
         where s.sub_queue = q.queue_id
         order by s.sub_last_tick limit 1) slow on true
 where $1::text is null or q.queue_name = $1
 order by q.queue_name)";

/// Other sessions holding a lock on a table ($1: the next event table, which step 1 of the
/// rotation truncates; pgqpp's rotation skips while it is locked, PgQ's waits).
/// The columns of old_transactions (xid NULL), then the lock mode.
inline constexpr const char* table_lockers = R"(
select l.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''),
       coalesce(a.state, ''), coalesce(a.datname, ''),
       coalesce((extract(epoch from now() - a.xact_start) * 1000000)::int8, 0),
       null::int8, left(coalesce(a.query, ''), 200), l.mode
  from pg_locks l
  left join pg_stat_activity a on a.pid = l.pid
 where l.locktype = 'relation' and l.granted and l.pid <> pg_backend_pid()
   and l.database = (select oid from pg_database where datname = current_database())
   and l.relation = to_regclass($1)
 order by a.xact_start, l.pid)";

/// Whether pgq._old_snapshot_pids (pgqpp's, not PgQ's) is there for us to call.
inline constexpr const char* can_list_old_snapshots =
    "select coalesce(has_function_privilege("
    "to_regprocedure('pgq._old_snapshot_pids(bigint)'), 'execute'), false)";

/// The sessions rotation step 2 of a queue waits for ($1: its queue_switch_step1).
inline constexpr const char* old_snapshot_pids = "select pgq._old_snapshot_pids($1)";

/// Sessions whose transaction holds back the snapshot xmin (they have an xid), oldest
/// first, with their 64-bit xid (the current epoch's next xid minus age()), and sessions
/// idle in transaction or running for long. Our own backend is left out.
inline constexpr const char* old_transactions = R"(
select a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''),
       coalesce(a.state, ''), coalesce(a.datname, ''),
       (extract(epoch from now() - a.xact_start) * 1000000)::int8,
       case when a.backend_xid is not null
            then txid_snapshot_xmax(txid_current_snapshot()) - age(a.backend_xid) end,
       left(coalesce(a.query, ''), 200)
  from pg_stat_activity a
 where a.pid <> pg_backend_pid() and a.xact_start is not null
   and (a.backend_xid is not null or a.backend_xmin is not null)
 order by a.xact_start)";

}  // namespace pgqctl::sql

namespace pgqctl::sql {

// ---- dead letters (pgqpp's pgq.dead_letter_*) -----------------------------------------
inline constexpr const char* dead_letter_list = R"(
select dl_id, queue_name, consumer_name, (extract(epoch from dl_time) * 1000000)::int8,
       dl_reason, dl_batch_id, ev_id, (extract(epoch from ev_time) * 1000000)::int8, ev_retry,
       ev_type, ev_data
  from pgq.dead_letter_list($1, $2, $3, $4))";

inline constexpr const char* dead_letter_show = R"(
select dl_id, queue_name, consumer_name, (extract(epoch from dl_time) * 1000000)::int8,
       dl_reason, dl_batch_id, ev_id, (extract(epoch from ev_time) * 1000000)::int8, ev_txid,
       ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
  from pgq.dead_letter_show($1))";

/// The ids of every dead letter of queue $1 / consumer $2 (NULL: any), oldest first.
inline constexpr const char* dead_letter_ids =
    "select dl_id from pgq.dead_letter_list($1, $2, null) order by dl_id";

inline constexpr const char* dead_letter_requeue =
    "select pgq.dead_letter_requeue($1::bigint[], $2::timestamptz)";
inline constexpr const char* dead_letter_purge_ids =
    "select pgq.dead_letter_purge($1::bigint[])";
inline constexpr const char* dead_letter_purge_older =
    "select pgq.dead_letter_purge($1::text, $2::interval)";

}  // namespace pgqctl::sql
