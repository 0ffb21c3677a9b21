-- ----------------------------------------------------------------------
-- Function: pgq._old_snapshot_pids(1)                          (pgqpp)
--
--      The sessions of this database that hold a snapshot which may have
--      been taken before transaction i_txid committed: a snapshot taken
--      before that commit has xmin <= i_txid.  Rotation step 2 waits for
--      them (see pgq.maint_rotate_tables_step2).
--
--      SECURITY DEFINER so that a pgq_admin who is not superuser sees every
--      session's backend_type (hidden from other roles): autovacuum and WAL
--      senders cannot insert events and are not waited for.  A session whose
--      type the owner cannot see either is counted (waiting is the safe side).
--
-- Parameters:
--      i_txid - a txid (pgq.queue.queue_switch_step1)
--
-- Returns:
--      the pids (none: no such session)
-- ----------------------------------------------------------------------
create or replace function pgq._old_snapshot_pids(i_txid bigint)
returns setof integer as $$
    with horizon as (
        -- the next txid: pg_stat_activity shows 32-bit xids, this gives them their epoch
        select txid_snapshot_xmax(txid_current_snapshot()) as next
    ), sessions as (
        -- backend_xmin's distance from next, modulo 2^32 (0 .. 2^32 - 1)
        select a.pid, h.next,
               ((a.backend_xmin::text::bigint - h.next % 4294967296) % 4294967296
                + 4294967296) % 4294967296 as dist
          from pg_stat_activity a, horizon h
         where a.datid = (select d.oid from pg_database d where d.datname = current_database())
           and a.pid <> pg_backend_pid()
           and a.backend_xmin is not null
           and a.backend_type is distinct from 'autovacuum worker'
           and a.backend_type is distinct from 'walsender'
    )
    select s.pid
      from sessions s
     where s.next + case when s.dist >= 2147483648 then s.dist - 4294967296 else s.dist end
           <= i_txid
     order by s.pid;
$$ language sql stable security definer set search_path = pg_catalog, pg_temp;
