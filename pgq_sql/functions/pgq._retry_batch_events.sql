-- ----------------------------------------------------------------------
-- Function: pgq._retry_batch_events(3)
--
--      Copies events of a batch into the retry queue of the batch's
--      consumer.  Shared by event_retry (one event) and event_retry_bulk.
--
--      PgQ's event_retry re-ran the whole batch query for every retried
--      event: O(batch) per call.  Here the first call in a transaction scans
--      the batch once, filtered by the wanted ids; from the second call on
--      for the same batch in the same transaction, the batch is copied once
--      into a session temp table (rows vanish at commit) and each further
--      retry is an index lookup.  Retrying k events therefore costs at most
--      two scans of the batch, not k.
--
--      This function is SECURITY DEFINER and pg_temp belongs to the caller's
--      session: the cache table is used only if it is this function's owner's
--      own plain table (no triggers, rules or policies), never an object the
--      caller put there; its rows are always looked up by batch id, the
--      session setting only says whether they are there already.  A table
--      with duplicate ev_ids (explicit ids) is fine: the cache key is not
--      unique.  Note: a transaction that used the cache cannot be PREPAREd
--      (two-phase commit does not allow temp tables).
--
-- Parameters:
--      i_batch_id      - the batch
--      i_event_ids     - ids of events of that batch
--      i_retry_after   - when to deliver them again
--
-- Returns:
--      matched  - how many of the ids are events of the batch
--      inserted - how many were added (the others were already queued)
-- ----------------------------------------------------------------------
create or replace function pgq._retry_batch_events(
    in i_batch_id bigint, in i_event_ids bigint[], in i_retry_after timestamptz,
    out matched integer, out inserted integer)
as $$
declare
    sub         record;
    batch_key   constant text := 'pgq.retry_cache_batch';
    seen_key    constant text := 'pgq.retry_seen_batch';
    source_sql  text;
    cache       regclass;
    use_cache   boolean;
    filled      boolean := false;
begin
    matched := 0;
    inserted := 0;
    select f.sub_id, f.queue_id as sub_queue into sub
      from pgq._find_batch(i_batch_id, false) f;
    if sub.sub_id is null then
        return;
    end if;

    -- cache the batch when it is retried from more than once in this transaction
    use_cache := current_setting(batch_key, true) = i_batch_id::text
                 or current_setting(seen_key, true) = i_batch_id::text
                 or coalesce(cardinality(i_event_ids), 0) > 1;
    if use_cache then
        cache := pg_catalog.to_regclass('pg_temp.pgq_retry_cache');
        if cache is null then
            create temp table pgq_retry_cache (
                batch_id bigint not null, ev_id bigint, ev_time timestamptz,
                ev_retry int4, ev_type text, ev_data text, ev_extra1 text,
                ev_extra2 text, ev_extra3 text, ev_extra4 text
            ) on commit delete rows;
            create index on pg_temp.pgq_retry_cache (batch_id, ev_id);
        elsif not exists (select 1 from pg_catalog.pg_class c
                           where c.oid = cache and c.relkind = 'r'
                             and c.relowner = (select r.oid from pg_catalog.pg_roles r
                                                where r.rolname = current_user)
                             and not c.relhastriggers and not c.relhasrules
                             and not c.relrowsecurity)
        then
            -- The caller's session has put something else under that name
            -- (say a table with a trigger, which would run with this
            -- function's privileges): do without the cache.
            use_cache := false;
        else
            -- a hint only: the rows are looked up by batch id anyway
            filled := current_setting(batch_key, true) = i_batch_id::text;
        end if;
    end if;

    if use_cache then
        if not filled then
            delete from pg_temp.pgq_retry_cache;
            execute 'insert into pg_temp.pgq_retry_cache'
                 || ' select $1, ev_id, ev_time, ev_retry, ev_type, ev_data,'
                 || ' ev_extra1, ev_extra2, ev_extra3, ev_extra4'
                 || ' from (' || pgq.batch_event_sql(i_batch_id) || ') b'
              using i_batch_id;
            perform set_config(batch_key, i_batch_id::text, true);
        end if;
        source_sql := 'select * from pg_temp.pgq_retry_cache c where c.batch_id = '
                   || i_batch_id;
    else
        perform set_config(seen_key, i_batch_id::text, true);
        source_sql := pgq.batch_event_sql(i_batch_id);
    end if;

    execute 'with ev as (select * from (' || source_sql || ') b where b.ev_id = any ($1)),'
         || ' ins as (insert into pgq.retry_queue (ev_retry_after, ev_queue, ev_id,'
         || '   ev_time, ev_txid, ev_owner, ev_retry, ev_type, ev_data,'
         || '   ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
         || '  select distinct on (ev.ev_id) $2, $3, ev.ev_id, ev.ev_time, NULL::bigint, $4,'
         || '   coalesce(ev.ev_retry, 0) + 1, ev.ev_type, ev.ev_data,'
         || '   ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4'
         || '   from ev'
         || '  on conflict do nothing returning 1)'
         || ' select (select count(distinct ev_id) from ev), (select count(*) from ins)'
       into matched, inserted
      using i_event_ids, i_retry_after, sub.sub_queue, sub.sub_id;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
