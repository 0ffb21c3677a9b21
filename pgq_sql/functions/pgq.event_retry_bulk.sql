-- ----------------------------------------------------------------------
-- Function: pgq.event_retry_bulk(3)                           (pgqpp)
--
--      Schedules many events of a batch for delivery again, in one
--      statement (one scan of the batch however many events).
--
-- Parameters:
--      x_batch_id      - the batch
--      x_event_ids     - ids of events of that batch
--      x_retry_time    - when to deliver them again
--
-- Returns:
--      the number of events added (already queued ones are skipped)
--
-- Errors:
--      'event_retry_bulk: batch <id> not found',
--      'event_retry_bulk: <n> of <m> events are not in batch <id>'
-- ----------------------------------------------------------------------
create or replace function pgq.event_retry_bulk(
    x_batch_id bigint, x_event_ids bigint[], x_retry_time timestamptz)
returns integer as $$
declare
    r       record;
    wanted  integer;
begin
    if x_batch_id is null or x_event_ids is null or x_retry_time is null then
        raise exception 'event_retry_bulk: batch id, event ids and retry time must not be NULL';
    end if;
    if (select f.sub_id from pgq._find_batch(x_batch_id, false) f) is null then
        raise exception 'event_retry_bulk: batch % not found', x_batch_id;
    end if;
    if array_position(x_event_ids, null) is not null then
        raise exception 'event_retry_bulk: event ids must not be NULL';
    end if;
    select count(distinct id) into wanted from unnest(x_event_ids) id;
    if wanted = 0 then
        return 0;
    end if;

    select * into r from pgq._retry_batch_events(x_batch_id, x_event_ids, x_retry_time);
    if r.matched < wanted then
        raise exception 'event_retry_bulk: % of % events are not in batch %',
                        wanted - r.matched, wanted, x_batch_id;
    end if;
    return r.inserted;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.event_retry_bulk(3)                           (pgqpp)
--
--      event_retry_bulk with a delay in seconds.
-- ----------------------------------------------------------------------
create or replace function pgq.event_retry_bulk(
    x_batch_id bigint, x_event_ids bigint[], x_retry_seconds integer)
returns integer as $$
begin
    return pgq.event_retry_bulk(x_batch_id, x_event_ids,
                                current_timestamp + make_interval(secs => x_retry_seconds));
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
