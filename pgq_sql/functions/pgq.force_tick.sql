-- ----------------------------------------------------------------------
-- Function: pgq.force_tick(1)
--
--      Makes the next pgq.ticker() call tick this queue, by moving the
--      event sequence far enough ahead to look like "many new events".
--      Does not tick itself.
--
-- Returns:
--      the current last tick id of the queue, also for a paused or
--      external-ticker queue (whose sequence is left alone, as in PgQ);
--      NULL for an unknown queue
-- ----------------------------------------------------------------------
create or replace function pgq.force_tick(i_queue_name text)
returns bigint as $$
declare
    q       record;
    last_id bigint;
begin
    select queue_id, queue_event_seq, queue_ticker_max_count,
           queue_external_ticker, queue_ticker_paused
      into q
      from pgq.queue
     where queue_name = i_queue_name;
    if not found then
        return null;
    end if;

    if not q.queue_external_ticker and not q.queue_ticker_paused then
        perform setval(q.queue_event_seq::regclass,
                       nextval(q.queue_event_seq::regclass) + q.queue_ticker_max_count * 2 + 1000);
    end if;

    select tick_id into last_id
      from pgq.tick
     where tick_queue = q.queue_id
     order by tick_queue desc, tick_id desc
     limit 1;
    return last_id;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
