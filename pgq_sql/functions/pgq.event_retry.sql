-- ----------------------------------------------------------------------
-- Function: pgq.event_retry(3)
--
--      Schedules one event of the batch to be delivered again to this
--      consumer at x_retry_time.  Cost: see pgq._retry_batch_events (no
--      longer a full batch query per retried event).
--
-- Returns:
--      1, or 0 if the event was already in the retry queue
--
-- Errors:
--      'event not found'
--
-- Difference from PgQ (intentional): if the batch holds the id twice
-- (explicit ids given to insert_event_raw), one of them is retried and 1
-- returned; PgQ hits the retry queue's key and returns 0, retrying none.
-- ----------------------------------------------------------------------
create or replace function pgq.event_retry(
    x_batch_id bigint, x_event_id bigint, x_retry_time timestamptz)
returns integer as $$
declare
    r record;
begin
    select * into r from pgq._retry_batch_events(x_batch_id, array[x_event_id], x_retry_time);
    if r.matched = 0 then
        raise exception 'event not found';
    end if;
    return r.inserted;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.event_retry(3)
--
--      event_retry with a delay in seconds.
-- ----------------------------------------------------------------------
create or replace function pgq.event_retry(
    x_batch_id bigint, x_event_id bigint, x_retry_seconds integer)
returns integer as $$
begin
    return pgq.event_retry(x_batch_id, x_event_id,
                           current_timestamp + make_interval(secs => x_retry_seconds));
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
