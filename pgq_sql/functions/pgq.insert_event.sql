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
--      SECURITY DEFINER: writers need no privileges on the event tables.
--
--      Generated together with pgq.insert_event_raw (same checks, same
--      errors, ev_time = now()): see pgq_sql/functions/pgq.insert_event_raw.sql.
--
-- Returns:
--      the event id
-- ----------------------------------------------------------------------
