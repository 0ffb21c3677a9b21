-- ----------------------------------------------------------------------
-- Function: pgq.maint_tables_to_vacuum(0)
--
--      The busy metadata tables the maintenance daemon should VACUUM when
--      autovacuum is off (with autovacuum on: none).
-- ----------------------------------------------------------------------
create or replace function pgq.maint_tables_to_vacuum()
returns setof text as $$
declare
    tbl text;
begin
    if current_setting('autovacuum') = 'on' then
        return;
    end if;
    foreach tbl in array array[
        'pgq.subscription', 'pgq.consumer', 'pgq.queue', 'pgq.tick', 'pgq.retry_queue',
        'pgq_ext.completed_tick', 'pgq_ext.completed_batch',
        'pgq_ext.completed_event', 'pgq_ext.partial_batch',
        'pgq_node.local_state', 'londiste.seq_info', 'txid.epoch', 'londiste.completed']
    loop
        if pg_catalog.to_regclass(tbl) is not null then
            return next tbl;
        end if;
    end loop;
    -- pgqpp: light batches are deleted by pgq.maint_clean_batches
    if exists (select 1 from pgq.batch) then
        return next 'pgq.batch';
    end if;
end;
$$ language plpgsql;
