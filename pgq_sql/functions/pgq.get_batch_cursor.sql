-- ----------------------------------------------------------------------
-- Function: pgq.get_batch_cursor(4)
--
--      Opens a cursor over a batch's events and returns the first
--      i_quick_limit rows; fetch the rest with FETCH n FROM <cursor> and
--      CLOSE it.  The cursor lives until the end of the transaction.
--
-- Parameters:
--      i_batch_id      - the batch
--      i_cursor_name   - name for the cursor
--      i_quick_limit   - rows to return right away (<= 0: none)
--      i_extra_where   - optional SQL condition on the event columns; it is
--                        SQL text by design (consumer-side filter) and runs
--                        with the caller's privileges
--
-- Returns:
--      nothing if the batch, cursor name or limit is NULL
-- ----------------------------------------------------------------------
create or replace function pgq.get_batch_cursor(
    in i_batch_id bigint, in i_cursor_name text,
    in i_quick_limit int4, in i_extra_where text,
    out ev_id bigint, out ev_time timestamptz, out ev_txid bigint,
    out ev_retry int4, out ev_type text, out ev_data text,
    out ev_extra1 text, out ev_extra2 text, out ev_extra3 text, out ev_extra4 text)
returns setof record as $$
declare
    batch_sql text;
begin
    if i_batch_id is null or i_cursor_name is null or i_quick_limit is null then
        return;
    end if;

    batch_sql := pgq.batch_event_sql(i_batch_id);
    if i_extra_where is not null then
        batch_sql := 'select * from ('
                  || left(batch_sql, -length(' order by 1'))
                  || ') _evs where ' || i_extra_where
                  || ' order by 1';
    end if;

    execute 'declare ' || quote_ident(i_cursor_name)
         || ' no scroll cursor for ' || batch_sql;

    if i_quick_limit <= 0 then
        return;
    end if;
    return query execute 'fetch ' || i_quick_limit
                      || ' from ' || quote_ident(i_cursor_name);
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq.get_batch_cursor(3)
--
--      get_batch_cursor without a filter.
-- ----------------------------------------------------------------------
create or replace function pgq.get_batch_cursor(
    in i_batch_id bigint, in i_cursor_name text, in i_quick_limit int4,
    out ev_id bigint, out ev_time timestamptz, out ev_txid bigint,
    out ev_retry int4, out ev_type text, out ev_data text,
    out ev_extra1 text, out ev_extra2 text, out ev_extra3 text, out ev_extra4 text)
returns setof record as $$
begin
    return query
        select * from pgq.get_batch_cursor(i_batch_id, i_cursor_name, i_quick_limit, null);
end;
$$ language plpgsql strict;
