-- ----------------------------------------------------------------------
-- Function: pgq.maint_rotate_tables_step1(1)
--
--      Rotates a queue's event tables when its rotation period has passed
--      and every consumer has moved past the previous rotation: truncates
--      the oldest table and makes it the current one.
--
--      Rotation never waits on a lock: if the queue row or the table to
--      truncate is locked (say by pg_dump), it skips this round, so
--      producers, consumers and the ticker are never queued behind it.
--      The queue row is locked FOR NO KEY UPDATE, which open ticker and
--      consumer transactions do not conflict with (their foreign keys only
--      hold KEY SHARE), but a registration in flight does (it holds FOR
--      SHARE, see register_consumer_at).
--
--      Must be followed by pgq.maint_rotate_tables_step2() in a LATER
--      transaction.
--
-- Returns:
--      0 (always; PgQ's contract)
--
-- Errors:
--      'queue <q> maint failure: step1=<txid>, current=<txid>'
--      'queue <q> maint failure: tick <id> not found'
-- ----------------------------------------------------------------------
create or replace function pgq.maint_rotate_tables_step1(i_queue_name text)
returns integer as $$
declare
    cf              record;
    lowest_tick     bigint;
    lowest_xmin     bigint;
    next_nr         integer;
    tbl             text;
begin
    begin
        select queue_id, queue_ntables, queue_cur_table, queue_data_pfx,
               queue_switch_step1, queue_switch_step2
          into cf
          from pgq.queue
         where queue_name = i_queue_name
           and queue_rotation_period is not null
           and queue_switch_step2 is not null
           and queue_switch_time + queue_rotation_period < current_timestamp
           -- NO KEY UPDATE: the foreign keys of pgq.tick, pgq.subscription
           -- and pgq.retry_queue hold KEY SHARE locks on this row in every
           -- open ticker or consumer (event_retry) transaction; FOR UPDATE
           -- would conflict with those and skip rotation while any is open
           for no key update nowait;
    exception when lock_not_available then
        return 0;
    end;
    if not found then
        return 0;
    end if;

    if txid_current() < cf.queue_switch_step1 then
        raise exception 'queue % maint failure: step1=%, current=%',
                        i_queue_name, cf.queue_switch_step1, txid_current()
              using hint = 'The transaction ids are below the last rotation''s: was the database '
                           'restored into another cluster? Raise that cluster''s txid epoch '
                           '(pg_resetwal -e), see pgqpp''s docs/operations.md.';
    end if;

    -- the slowest consumer must not need the table we would empty
    select min(sub_last_tick) into lowest_tick
      from pgq.subscription
     where sub_queue = cf.queue_id;
    if lowest_tick is not null then
        select txid_snapshot_xmin(tick_snapshot) into lowest_xmin
          from pgq.tick
         where tick_queue = cf.queue_id
           and tick_id = lowest_tick;
        if not found then
            raise exception 'queue % maint failure: tick % not found',
                            i_queue_name, lowest_tick;
        end if;
        if lowest_xmin <= cf.queue_switch_step2 then
            return 0;
        end if;
    end if;

    next_nr := (cf.queue_cur_table + 1) % cf.queue_ntables;
    tbl := pgq.quote_fqname(cf.queue_data_pfx || '_' || next_nr);
    begin
        execute 'lock table ' || tbl || ' in access exclusive mode nowait';
        execute 'truncate ' || tbl;
    exception when lock_not_available then
        return 0;
    end;

    update pgq.queue
       set queue_cur_table = next_nr,
           queue_switch_time = current_timestamp,
           queue_switch_step1 = txid_current(),
           queue_switch_step2 = null
     where queue_id = cf.queue_id;

    -- ticks older than the previous rotation can no longer be batch ends
    delete from pgq.tick
     where tick_queue = cf.queue_id
       and txid_snapshot_xmin(tick_snapshot) < cf.queue_switch_step2;

    return 0;
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq.maint_rotate_tables_step2(0)
--
--      Records a txid after the rotation committed (queue_switch_step2):
--      batches of transactions above it read only the new current table.
--
--      pgqpp: only once no session of the database holds a snapshot that may
--      predate the switch (pgq._old_snapshot_pids); until then the queue is
--      left for a later call (maint_operations keeps listing step 2).  Such
--      a snapshot still shows the old current table, and its transaction
--      may take its txid only now: PgQ records step2 at once, so the events
--      of a REPEATABLE READ producer that started before the switch, or of
--      a COPY into a pgq.current_event_table() read before it, went into the
--      old table with a txid above step2 and no batch read them.  Checking
--      first and taking the txid after makes every such txid lower.  A queue
--      whose step 1 is this very transaction is left too (PgQ's contract: a
--      later transaction; before step 1 commits, every session sees the old
--      table).
--
-- Returns:
--      0 (always; PgQ's contract)
-- ----------------------------------------------------------------------
create or replace function pgq.maint_rotate_tables_step2()
returns integer as $$
declare
    ready   integer[];
    step2   bigint;
begin
    select array_agg(queue_id) into ready
      from pgq.queue
     where queue_switch_step2 is null
       and queue_switch_step1 is distinct from txid_current_if_assigned()
       and not exists (select 1 from pgq._old_snapshot_pids(queue_switch_step1));
    if ready is null then
        return 0;
    end if;
    -- after the check: a new statement, so a new snapshot under READ COMMITTED (xmax: for
    -- a caller whose transaction had its txid already)
    step2 := greatest(txid_current(), txid_snapshot_xmax(txid_current_snapshot()));
    update pgq.queue
       set queue_switch_step2 = step2
     where queue_id = any (ready)
       and queue_switch_step2 is null;
    return 0;
end;
$$ language plpgsql;
