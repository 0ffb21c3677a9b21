-- ----------------------------------------------------------------------
-- Function: pgq_ext.upgrade_schema(0)
--
--      Brings the tables of an existing installation up to date: tables of
--      pgq_ext versions before subconsumers (keyed by consumer_id only) get
--      the column subconsumer_id ('' for the rows they hold) and the
--      primary key that includes it.  Safe to run any number of times.
--
-- Returns:
--      the number of tables changed (0 when everything is up to date)
-- ----------------------------------------------------------------------
create or replace function pgq_ext.upgrade_schema()
returns int4 as $$
declare
    tbl     text;
    pkey    text;
    keycols text;
    cnt     int4 := 0;
begin
    foreach tbl in array array['completed_tick', 'completed_batch',
                               'completed_event', 'partial_batch']
    loop
        continue when pg_catalog.to_regclass('pgq_ext.' || tbl) is null;
        continue when exists (
            select 1 from pg_catalog.pg_attribute a
             where a.attrelid = pg_catalog.to_regclass('pgq_ext.' || tbl)
               and a.attname = 'subconsumer_id' and not a.attisdropped);

        execute pg_catalog.format(
            'alter table pgq_ext.%I add column subconsumer_id text not null default %L',
            tbl, '');
        execute pg_catalog.format(
            'alter table pgq_ext.%I alter column subconsumer_id drop default', tbl);

        keycols := case tbl when 'completed_event'
                            then 'consumer_id, subconsumer_id, batch_id, event_id'
                            else 'consumer_id, subconsumer_id' end;
        select c.conname into pkey
          from pg_catalog.pg_constraint c
         where c.conrelid = pg_catalog.to_regclass('pgq_ext.' || tbl)
           and c.contype = 'p';
        if found then
            execute pg_catalog.format('alter table pgq_ext.%I drop constraint %I', tbl, pkey);
        end if;
        execute pg_catalog.format('alter table pgq_ext.%I add constraint %I primary key (%s)',
                                  tbl, tbl || '_pkey', keycols);
        cnt := cnt + 1;
    end loop;
    return cnt;
end;
$$ language plpgsql;
