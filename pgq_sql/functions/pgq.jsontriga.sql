-- ----------------------------------------------------------------------
-- Function: pgq.jsontriga()
--
--      Like pgq.logutriga(), but with JSON:
--
-- Event:
--      ev_type     '{"op":"INSERT","table":["schema","table"],"pkey":["id"]}'
--                  (op INSERT/UPDATE/DELETE/TRUNCATE)
--      ev_data     '{"id":1,"txt":"a","ok":true,"at":"2009-09-19T11:59:48.599+00:00"}':
--                  int2/4/8 as numbers, bool, NULL as null, date/timestamp/
--                  timestamptz as ISO strings, everything else as a string of
--                  its text form; '{}' for TRUNCATE
--      ev_extra1   'schema.table'
--      ev_extra2   with 'backup': the old row of an UPDATE, JSON
-- ----------------------------------------------------------------------
create or replace function pgq.jsontriga()
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
    -- the usual case in as few steps as possible (see pgq.logutriga)
    if TG_OP = 'INSERT' and TG_LEVEL = 'ROW'
       and pg_catalog.current_setting('session_replication_role') <> 'local' then
        c := nullif(pg_catalog.current_setting('pgq.trg_' || TG_RELID::text || '_'
                    || (pg_catalog.hashtext(TG_NAME) & 2147483647)::text, true), '')::text[];
        if c[10] = 'F' and c[12] = 'e' and c[8] = 'j'
           and c[11] = coalesce(pg_catalog.pg_sequence_last_value('pgq._trg_ddl_seq'::regclass), 0)::text
           and pg_catalog.split_part(c[1], E'\x01', 1) = TG_NAME
        then
            t := pg_catalog.row_to_json(NEW)::text;
            t := pgq._trg_json_data(c[7], c[5]::integer, t);
            -- a quoted number that was NULL or NaN: take the long way
            if t is not null and (pg_catalog.strpos(c[4], 'q') = 0
                                  or (pg_catalog.strpos(t, ':"null"') = 0 and pg_catalog.strpos(t, '""') = 0)) then
                ev_id := pgq.insert_event(c[3], '{"op":"INSERT' || c[14], t, c[13], null, null, null);
                return NEW;
            end if;
        end if;
    end if;

    key := 'pgq.trg_' || TG_RELID::text || '_' || (pg_catalog.hashtext(TG_NAME) & 2147483647)::text;
    c := pgq._trg_entry('j', key, TG_RELID, TG_NAME, TG_ARGV, TG_OP, TG_LEVEL, TG_WHEN,
                        TG_TABLE_SCHEMA, TG_TABLE_NAME);
    if c is null then   -- session_replication_role = local
        return case when TG_OP = 'DELETE' then OLD else NEW end;
    end if;

    if TG_OP = 'TRUNCATE' then
        ev_id := pgq.insert_event(c[3], '{"op":"TRUNCATE","table":'
                                 || pg_catalog.to_json(array[TG_TABLE_SCHEMA, TG_TABLE_NAME])::text
                                 || ',"pkey":' || c[6] || '}', '{}', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
                                 null, null, null);
        return null;
    elsif pg_catalog.strpos(c[4], 'W') = 0 and pg_catalog.strpos(c[4], 'E') = 0
          and pg_catalog.strpos(c[4], 'M') = 0 then
        null;   -- UPDATE and DELETE take the values one by one
    end if;
    perform pgq._trg_event('j', TG_OP, key, TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW, OLD, data, odata);
    return case when pg_catalog.strpos(c[4], 'S') > 0 then null
                when TG_OP = 'DELETE' then OLD else NEW end;
end;
$$ language plpgsql;
