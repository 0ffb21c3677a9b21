-- ----------------------------------------------------------------------
-- Function: pgq.insert_event(3)
--
--      Inserts an event into a queue, in the caller's transaction.
--
-- Returns:
--      the event id
-- ----------------------------------------------------------------------
create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text)
returns bigint as $$
begin
    return pgq.insert_event(queue_name, ev_type, ev_data, null, null, null, null);
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq.insert_event(7)
--
--      Inserts an event with extra fields.  Every trigger goes through this
--      function by name, so overriding it changes them all (as in PgQ).
--
-- Returns:
--      the event id
-- ----------------------------------------------------------------------
create or replace function pgq.insert_event(
    queue_name text, ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint as $$
begin
    return pgq.insert_event_raw(queue_name, null, now(), null, null,
                                ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4);
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
