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
    sig     text;
    gen     text;
    t       text;
    data    text;
    odata   text;
    js      json;
begin
    if pg_catalog.current_setting('session_replication_role') = 'local' then
        return case when TG_OP = 'DELETE' then OLD else NEW end;
    end if;
    if TG_LEVEL <> 'ROW' and TG_OP <> 'TRUNCATE' then
        raise exception 'pgq Ins/Upd/Del trigger must be fired FOR EACH ROW';
    end if;

    -- the cached description of this trigger and its table (see
    -- pgq._trigger_support.sql): rebuilt when the trigger or the table
    -- changed; the table is looked at only when DDL ran since the last look
    sig := TG_NAME || E'\x01' || coalesce(pg_catalog.array_to_string(TG_ARGV, E'\x01'), '');
    key := 'pgq.trg_' || TG_RELID::text || '_' || (pg_catalog.hashtext(sig) & 2147483647)::text;
    c := nullif(pg_catalog.current_setting(key, true), '')::text[];
    gen := coalesce(pg_catalog.pg_sequence_last_value('pgq._trg_ddl_seq'::regclass), 0)::text;
    if c is null or c[1] <> sig or c[8] <> 'j' then
        c := pgq._trg_refresh('j', TG_RELID, sig, key, TG_ARGV, TG_OP = 'TRUNCATE');
    elsif c[11] <> gen or c[12] <> 'e' then
        if c[2] <> pgq._trg_stamp(TG_RELID, c[9]) then
            c := pgq._trg_refresh('j', TG_RELID, sig, key, TG_ARGV, TG_OP = 'TRUNCATE');
        elsif c[11] <> gen then
            c[11] := gen;
            perform pg_catalog.set_config(key, c::text, false);
        end if;
    end if;

    if pg_catalog.strpos(c[4], 'S') > 0 and TG_WHEN = 'AFTER' then
        raise exception 'SKIP does not work in AFTER trigger.';
    end if;
    if pg_catalog.strpos(c[4], 'D') > 0 then
        raise exception 'Table ''%.%'' to queue ''%'': change not allowed (%)',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, c[3], TG_OP;
    end if;

    if TG_OP = 'TRUNCATE' then
        perform pgq.insert_event(c[3], '{"op":"TRUNCATE","table":'
                                 || pg_catalog.to_json(array[TG_TABLE_SCHEMA, TG_TABLE_NAME])::text
                                 || ',"pkey":' || c[6] || '}', '{}', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
                                 null, null, null);
        return null;
    elsif pg_catalog.strpos(c[4], 'W') = 0 and pg_catalog.strpos(c[4], 'E') = 0
          and pg_catalog.strpos(c[4], 'M') = 0 then
        if pg_catalog.strpos(c[4], 'J') > 0 then
            js := pg_catalog.row_to_json(case when TG_OP = 'DELETE' then OLD else NEW end);
        end if;
        if TG_OP = 'INSERT' then
            data := pgq._trg_fast('j', c[7], NEW::text, js);
            if data is not null then
                perform pgq.insert_event(c[3], '{"op":"INSERT","table":'
                                         || pg_catalog.to_json(array[TG_TABLE_SCHEMA, TG_TABLE_NAME])::text
                                         || ',"pkey":' || c[6] || '}', data,
                                         TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, null, null, null);
                return case when pg_catalog.strpos(c[4], 'S') > 0 then null else NEW end;
            end if;
        elsif TG_OP = 'DELETE' then
            data := pgq._trg_fast('j', c[7], OLD::text, js);
            if data is not null and c[6] <> '[]' then
                perform pgq.insert_event(c[3], '{"op":"DELETE","table":'
                                         || pg_catalog.to_json(array[TG_TABLE_SCHEMA, TG_TABLE_NAME])::text
                                         || ',"pkey":' || c[6] || '}', data,
                                         TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, null, null, null);
                return case when pg_catalog.strpos(c[4], 'S') > 0 then null else OLD end;
            end if;
        else
            data := pgq._trg_fast('j', c[7], NEW::text, js);
            if pg_catalog.strpos(c[4], 'B') > 0 then
                if js is not null then
                    js := pg_catalog.row_to_json(OLD);
                end if;
                odata := pgq._trg_fast('j', c[7], OLD::text, js);
            end if;
        end if;
    end if;
    perform pgq._trg_event('j', TG_OP, key, TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW, OLD, data, odata);
    return case when pg_catalog.strpos(c[4], 'S') > 0 then null
                when TG_OP = 'DELETE' then OLD else NEW end;
end;
$$ language plpgsql;
