-- ----------------------------------------------------------------------
-- Function: pgq.sqltriga()
--
--      Like pgq.logutriga(), but the event data is an SQL fragment:
--
-- Event:
--      ev_type     'I' / 'U' / 'D'; 'R' for TRUNCATE
--      ev_data     INSERT: '(col1,col2) values (''1'',null)'
--                  UPDATE: 'col2=''x'' where pk=''1''' (only changed columns)
--                  DELETE: 'pk=''1'' and pk2=''2'''
--      ev_extra1   'schema.table'
--      ev_extra2   with 'backup': the old row of an UPDATE, urlencoded
-- ----------------------------------------------------------------------
create or replace function pgq.sqltriga()
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
    if c is null or c[1] <> sig or c[8] <> 's' then
        c := pgq._trg_refresh('s', TG_RELID, sig, key, TG_ARGV, TG_OP = 'TRUNCATE',
                             TG_TABLE_SCHEMA, TG_TABLE_NAME);
    elsif c[11] <> gen or c[12] <> 'e' then
        if c[2] <> pgq._trg_stamp(TG_RELID, c[9]) then
            c := pgq._trg_refresh('s', TG_RELID, sig, key, TG_ARGV, TG_OP = 'TRUNCATE',
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
        ev_id := pgq.insert_event(c[3], 'R', '', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, null, null, null);
        return null;
    elsif pg_catalog.strpos(c[4], 'W') = 0 and pg_catalog.strpos(c[4], 'E') = 0
          and pg_catalog.strpos(c[4], 'M') = 0 then
        null;   -- the SQL fragments are built value by value
    end if;
    perform pgq._trg_event('s', TG_OP, key, TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW, OLD, data, odata);
    return case when pg_catalog.strpos(c[4], 'S') > 0 then null
                when TG_OP = 'DELETE' then OLD else NEW end;
end;
$$ language plpgsql;
