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
    key := 'pgq.trg_' || TG_RELID::text || '_' || (pg_catalog.hashtext(TG_NAME) & 2147483647)::text;
    c := nullif(pg_catalog.current_setting(key, true), '')::text[];
    gen := coalesce(pg_catalog.pg_sequence_last_value('pgq._trg_ddl_seq'::regclass), 0)::text;
    if c is null or c[1] <> sig or c[8] <> 'j' then
        c := pgq._trg_refresh('j', TG_RELID, sig, key, TG_ARGV, TG_OP = 'TRUNCATE',
                             TG_TABLE_SCHEMA, TG_TABLE_NAME);
    elsif c[11] <> gen or c[12] <> 'e' then
        if c[2] <> pgq._trg_stamp(TG_RELID, c[9]) then
            c := pgq._trg_refresh('j', TG_RELID, sig, key, TG_ARGV, TG_OP = 'TRUNCATE',
                             TG_TABLE_SCHEMA, TG_TABLE_NAME);
        elsif c[11] <> gen then
            c := c[1:10] || array[gen, c[12]] || pgq._trg_names(TG_TABLE_SCHEMA, TG_TABLE_NAME, c[6]);
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
