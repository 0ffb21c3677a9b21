-- ----------------------------------------------------------------------
-- Function: pgq.upgrade_schema(0)
--
--      Brings tables and roles of an existing installation up to date.
--      Safe to run any number of times.
--
-- Returns:
--      0 (always, as in PgQ: install scripts print it)
-- ----------------------------------------------------------------------
create or replace function pgq.upgrade_schema()
returns int4 as $$
begin
    -- cooperative subconsumers have no last tick while idle
    if exists (select 1 from pg_catalog.pg_attribute
                where attrelid = 'pgq.subscription'::regclass
                  and attname = 'sub_last_tick' and attnotnull)
    then
        alter table pgq.subscription alter column sub_last_tick drop not null;
    end if;

    -- roles are cluster-wide: another database may have made them already,
    -- or be making them right now (hence the exception handler)
    begin
        if not exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_reader') then
            create role pgq_reader;
        end if;
        if not exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_writer') then
            create role pgq_writer;
        end if;
        if not exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_admin') then
            create role pgq_admin in role pgq_reader, pgq_writer;
        end if;
    exception when duplicate_object or unique_violation then
        null;
    end;

    if not exists (select 1 from pg_catalog.pg_attribute
                    where attrelid = 'pgq.queue'::regclass
                      and attname = 'queue_extra_maint' and not attisdropped)
    then
        alter table pgq.queue add column queue_extra_maint text[];
    end if;

    -- pgqpp: pgq.batch of a development version of 3.6 lacked the hint
    if not exists (select 1 from pg_catalog.pg_attribute
                    where attrelid = 'pgq.batch'::regclass
                      and attname = 'batch_sub_ctid' and not attisdropped)
    then
        alter table pgq.batch add column batch_sub_ctid tid;
    end if;

    -- pgqpp: free room on pgq.subscription's pages, so that a consumer's
    -- updates find space next to its row and stay HOT (light batches, see
    -- pgq._find_batch).  Only if nobody chose a fillfactor already, and only
    -- by the table's owner (pgq_admin may run this too).
    if exists (select 1 from pg_catalog.pg_class c
                where c.oid = 'pgq.subscription'::regclass
                  and pg_catalog.pg_has_role(c.relowner, 'usage')
                  and not exists (select 1 from pg_catalog.unnest(c.reloptions) o
                                   where o like 'fillfactor=%'))
    then
        alter table pgq.subscription set (fillfactor = 50);
    end if;

    -- the insert fast path must know every queue (after a restore, say).
    -- Only for a caller who may replace insert_event_raw and insert_event: pgq_admin may run upgrade_schema() too (as in PgQ), and
    -- without the refresh inserts take the generic path, which is correct.
    if pg_catalog.has_function_privilege('pgq._refresh_insert_dispatch(boolean)', 'execute')
       and not exists (select 1 from pg_catalog.pg_proc p
                        where p.pronamespace = 'pgq'::pg_catalog.regnamespace
                          and p.proname in ('insert_event_raw', 'insert_event')
                          and not pg_catalog.pg_has_role(p.proowner, 'usage'))
    then
        perform pgq._refresh_insert_dispatch(true);
    end if;

    return 0;
end;
$$ language plpgsql;
