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
    t       text;
    ev_id   bigint;
    data    text;
    odata   text;
    js      json;
begin
    key := 'pgq.trg_' || TG_RELID::text || '_' || (pg_catalog.hashtext(TG_NAME) & 2147483647)::text;
    c := pgq._trg_entry('s', key, TG_RELID, TG_NAME, TG_ARGV, TG_OP, TG_LEVEL, TG_WHEN,
                        TG_TABLE_SCHEMA, TG_TABLE_NAME);
    if c is null then   -- session_replication_role = local
        return case when TG_OP = 'DELETE' then OLD else NEW end;
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
