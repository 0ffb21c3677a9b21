-- ----------------------------------------------------------------------
-- Function: pgq.tune_storage(1)
--
--      Storage settings for event tables: they are append-only and emptied
--      by TRUNCATE, so pages are packed full and autovacuum is pointless.
-- ----------------------------------------------------------------------
create or replace function pgq.tune_storage(i_queue_name text)
returns integer as $$
declare
    q   record;
    i   integer;
begin
    select queue_ntables, queue_data_pfx into q
      from pgq.queue
     where queue_name = i_queue_name;
    if not found then
        return 0;
    end if;
    for i in 0 .. q.queue_ntables - 1 loop
        execute 'alter table ' || pgq.quote_fqname(q.queue_data_pfx || '_' || i)
             || ' set (fillfactor = 100, autovacuum_enabled = off,'
             || ' toast.autovacuum_enabled = off)';
    end loop;
    return 1;
end;
$$ language plpgsql strict;
