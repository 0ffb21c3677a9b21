-- ----------------------------------------------------------------------
-- Function: pgq._insert_event_bulk_sql(7)                     (pgqpp)
--
--      The checks shared by insert_event_bulk and insert_event_bulk_ids
--      (arrays, queue, disabled insert, per-transaction limit, which it
--      also counts) and the INSERT statement for them to run with the
--      arrays as $1..$6.
--
-- Returns:
--      the statement, or NULL when there are no events
-- ----------------------------------------------------------------------
create or replace function pgq._insert_event_bulk_sql(
    queue_name text, ev_type text[], ev_data text[],
    ev_extra1 text[], ev_extra2 text[], ev_extra3 text[], ev_extra4 text[])
returns text as $$
#variable_conflict use_variable
declare
    q           record;
    n           integer;
    arr_name    text;
    arr         text[];
    count_key   text;
    tx_count    bigint;
begin
    if queue_name is null then
        raise exception 'Queue name must not be NULL';
    end if;
    if ev_data is null then
        raise exception 'insert_event_bulk: ev_data must not be NULL';
    end if;
    if array_ndims(ev_data) > 1 then
        raise exception 'insert_event_bulk: ev_data must be a one-dimensional array';
    end if;
    n := cardinality(ev_data);
    foreach arr_name in array array['ev_type', 'ev_extra1', 'ev_extra2', 'ev_extra3', 'ev_extra4'] loop
        arr := case arr_name
                    when 'ev_type' then ev_type
                    when 'ev_extra1' then ev_extra1
                    when 'ev_extra2' then ev_extra2
                    when 'ev_extra3' then ev_extra3
                    else ev_extra4 end;
        if array_ndims(arr) > 1 then
            raise exception 'insert_event_bulk: % must be a one-dimensional array', arr_name;
        end if;
        if arr is not null and cardinality(arr) <> n then
            raise exception 'insert_event_bulk: % has % elements, ev_data has %',
                            arr_name, cardinality(arr), n;
        end if;
    end loop;

    select qt.queue_id, qt.queue_data_pfx, qt.queue_cur_table, qt.queue_event_seq,
           qt.queue_disable_insert, qt.queue_per_tx_limit
      into q
      from pgq.queue qt
     where qt.queue_name = _insert_event_bulk_sql.queue_name;
    if not found then
        raise exception 'No such queue';
    end if;
    if q.queue_disable_insert
       and current_setting('session_replication_role') <> 'replica'
    then
        raise exception 'Insert into queue disallowed';
    end if;
    if n = 0 then
        return null;
    end if;

    if q.queue_per_tx_limit is not null then
        count_key := 'pgq.tx_event_count_' || q.queue_id;
        tx_count := coalesce(nullif(current_setting(count_key, true), ''), '0')::bigint + n;
        if tx_count > q.queue_per_tx_limit then
            raise exception 'Queue ''%'' allows max % events from one TX',
                            queue_name, q.queue_per_tx_limit;
        end if;
        perform set_config(count_key, tx_count::text, true);
    end if;

    -- unnest returns the rows in array order, and nextval() is called in
    -- that order: ids follow the arrays
    return 'insert into ' || pgq.quote_fqname(q.queue_data_pfx || '_' || q.queue_cur_table)
        || ' (ev_id, ev_time, ev_type, ev_data,'
        || ' ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
        || ' select nextval(' || pg_catalog.quote_literal(q.queue_event_seq) || '::regclass),'
        || ' now(), e.t, e.d, e.x1, e.x2, e.x3, e.x4'
        || ' from unnest($1, $2, $3, $4, $5, $6) as e(t, d, x1, x2, x3, x4)';
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq.insert_event_bulk(7)                          (pgqpp)
--
--      Inserts many events with one statement, in the caller's
--      transaction: element i of each array makes event i.  Much faster
--      than one insert_event() call per event.
--
-- Parameters:
--      queue_name  - the queue
--      ev_type     - types (NULL array: all NULL)
--      ev_data     - payloads; its length is the number of events
--      ev_extra1..4 - optional, NULL array: all NULL
--
-- Returns:
--      the number of events inserted (their ids follow the order given)
--
-- Errors:
--      those of pgq.insert_event_raw, and
--      'insert_event_bulk: ev_data must not be NULL',
--      'insert_event_bulk: <array> has <n> elements, ev_data has <m>',
--      'insert_event_bulk: <array> must be a one-dimensional array'
-- ----------------------------------------------------------------------
create or replace function pgq.insert_event_bulk(
    queue_name text, ev_type text[], ev_data text[],
    ev_extra1 text[] default null, ev_extra2 text[] default null,
    ev_extra3 text[] default null, ev_extra4 text[] default null)
returns bigint as $$
declare
    insert_sql  text;
    inserted    bigint;
begin
    insert_sql := pgq._insert_event_bulk_sql(queue_name, ev_type, ev_data,
                                             ev_extra1, ev_extra2, ev_extra3, ev_extra4);
    if insert_sql is null then
        return 0;
    end if;
    execute insert_sql using ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4;
    get diagnostics inserted = row_count;
    return inserted;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.insert_event_bulk_ids(7)                      (pgqpp)
--
--      insert_event_bulk that returns the new events' ids, in array order
--      (for producers that report each event's id, like the C++
--      async_producer).
-- ----------------------------------------------------------------------
create or replace function pgq.insert_event_bulk_ids(
    queue_name text, ev_type text[], ev_data text[],
    ev_extra1 text[] default null, ev_extra2 text[] default null,
    ev_extra3 text[] default null, ev_extra4 text[] default null)
returns setof bigint as $$
declare
    insert_sql  text;
begin
    insert_sql := pgq._insert_event_bulk_sql(queue_name, ev_type, ev_data,
                                             ev_extra1, ev_extra2, ev_extra3, ev_extra4);
    if insert_sql is null then
        return;
    end if;
    return query execute insert_sql || ' returning ev_id'
        using ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
