-- ----------------------------------------------------------------------
-- Function: pgq.maint_retry_events(0)
--
--      Moves up to 10 due events from the retry queue back into their
--      queues (for their owner only).  Callers repeat until it returns 0.
--
--      PgQ serialised movers with a table lock that also waited on
--      (auto)vacuum of pgq.retry_queue; here concurrent movers take
--      disjoint rows (SKIP LOCKED) and never wait for each other.
--
-- Returns:
--      the number of events moved
-- ----------------------------------------------------------------------
create or replace function pgq.maint_retry_events()
returns integer as $$
declare
    ev      record;
    moved   integer := 0;
begin
    for ev in
        select q.queue_name, rq.ev_id, rq.ev_time, rq.ev_owner, rq.ev_retry,
               rq.ev_type, rq.ev_data, rq.ev_extra1, rq.ev_extra2,
               rq.ev_extra3, rq.ev_extra4
          from pgq.retry_queue rq
          join pgq.queue q on q.queue_id = rq.ev_queue
         where rq.ev_retry_after <= current_timestamp
         order by rq.ev_retry_after
         limit 10
           for update of rq skip locked
    loop
        perform pgq.insert_event_raw(ev.queue_name, ev.ev_id, ev.ev_time,
                                     ev.ev_owner, ev.ev_retry, ev.ev_type, ev.ev_data,
                                     ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4);
        delete from pgq.retry_queue
         where ev_owner = ev.ev_owner and ev_id = ev.ev_id;
        moved := moved + 1;
    end loop;
    return moved;
end;
$$ language plpgsql;
