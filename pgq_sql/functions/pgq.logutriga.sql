-- ----------------------------------------------------------------------
-- Function: pgq.logutriga()
--
--      Row trigger: queues every INSERT, UPDATE and DELETE of the table as
--      an event with urlencoded row data; statement trigger on TRUNCATE.
--      Arguments: the queue name, then any of SKIP, ignore=c1,c2, pkey=c1,c2,
--      backup, deny, when=EXPR, ev_type=/ev_data=/ev_extra1..4=EXPR.
--
-- Event:
--      ev_type     'I:pk1,pk2' / 'U:pk1,pk2' / 'D:pk1,pk2'; 'R' for TRUNCATE
--      ev_data     'col1=val1&col2&col3=val3' (NULL: the name alone; space as
--                  '+', other bytes outside [0-9A-Za-z_.-] as %xx)
--      ev_extra1   'schema.table'
--      ev_extra2   with 'backup': the old row of an UPDATE, urlencoded
--
-- Errors (texts as PgQ's C trigger):
--      see docs/change-capture.md
-- ----------------------------------------------------------------------
create or replace function pgq.logutriga()
returns trigger as $$
declare
    c       text[];
    key     text;
    t       text;
    ev_id   bigint;
    data    text;
    odata   text;
    js      json;
begin
    -- the usual case in as few steps as possible (PL/pgSQL prepares each
    -- expression anew in every transaction): an INSERT, a cache entry for
    -- this trigger, no DDL since it was checked (then neither the trigger
    -- nor the table can have changed: see pgq._trg_ddl_seq)
    if TG_OP = 'INSERT' and TG_LEVEL = 'ROW'
       and pg_catalog.current_setting('session_replication_role') <> 'local' then
        c := nullif(pg_catalog.current_setting('pgq.trg_' || TG_RELID::text || '_'
                    || (pg_catalog.hashtext(TG_NAME) & 2147483647)::text, true), '')::text[];
        if c[10] = 'F' and c[12] = 'e' and c[8] = 'l'
           and c[11] = coalesce(pg_catalog.pg_sequence_last_value('pgq._trg_ddl_seq'::regclass), 0)::text
           and pg_catalog.split_part(c[1], E'\x01', 1) = TG_NAME
        then
            t := NEW::text;
            t := pgq._trg_logu_data(c[7], t);
            if t is not null then
                ev_id := pgq.insert_event(c[3], 'I:' || c[6], t, c[13], null, null, null);
                return NEW;
            end if;
        end if;
    end if;

    key := 'pgq.trg_' || TG_RELID::text || '_' || (pg_catalog.hashtext(TG_NAME) & 2147483647)::text;
    c := pgq._trg_entry('l', key, TG_RELID, TG_NAME, TG_ARGV, TG_OP, TG_LEVEL, TG_WHEN,
                        TG_TABLE_SCHEMA, TG_TABLE_NAME);
    if c is null then   -- session_replication_role = local
        return case when TG_OP = 'DELETE' then OLD else NEW end;
    end if;

    if TG_OP = 'TRUNCATE' then
        ev_id := pgq.insert_event(c[3], 'R', '', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, null, null, null);
        return null;
    elsif pg_catalog.strpos(c[4], 'W') = 0 and pg_catalog.strpos(c[4], 'E') = 0
          and pg_catalog.strpos(c[4], 'M') = 0 then
        if TG_OP = 'INSERT' then
            t := NEW::text;
            data := coalesce(pgq._trg_logu_data(c[7], t), pgq._trg_fast('l', c[7], t, null));
            if data is not null then
                ev_id := pgq.insert_event(c[3], 'I:' || c[6], data,
                                         TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, null, null, null);
                return case when pg_catalog.strpos(c[4], 'S') > 0 then null else NEW end;
            end if;
        elsif TG_OP = 'DELETE' then
            t := OLD::text;
            data := coalesce(pgq._trg_logu_data(c[7], t), pgq._trg_fast('l', c[7], t, null));
            if data is not null and c[6] <> '' then
                ev_id := pgq.insert_event(c[3], 'D:' || c[6], data,
                                         TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, null, null, null);
                return case when pg_catalog.strpos(c[4], 'S') > 0 then null else OLD end;
            end if;
        else
            t := NEW::text;
            data := coalesce(pgq._trg_logu_data(c[7], t), pgq._trg_fast('l', c[7], t, null));
            if pg_catalog.strpos(c[4], 'B') > 0 then
                t := OLD::text;
                odata := coalesce(pgq._trg_logu_data(c[7], t), pgq._trg_fast('l', c[7], t, null));
            end if;
        end if;
    end if;
    perform pgq._trg_event('l', TG_OP, key, TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW, OLD, data, odata);
    return case when pg_catalog.strpos(c[4], 'S') > 0 then null
                when TG_OP = 'DELETE' then OLD else NEW end;
end;
$$ language plpgsql;
