-- ----------------------------------------------------------------------
-- Function: pgq.batch_retry(2)
--
--      Schedules every event of the batch (not already waiting in the
--      retry queue) for delivery again in i_retry_seconds.
--
-- Returns:
--      the number of events scheduled
--
-- Errors:
--      'batch_retry: batch <id> not found'
--
-- Difference from PgQ (intentional): an id the batch holds twice (explicit
-- ids) is retried once; PgQ fails on the retry queue's key.
-- ----------------------------------------------------------------------
create or replace function pgq.batch_retry(i_batch_id bigint, i_retry_seconds integer)
returns integer as $$
declare
    s       record;
    n       integer;
begin
    select f.queue_id as sub_queue, f.sub_id into s
      from pgq._find_batch(i_batch_id, false) f;
    if s.sub_id is null then
        raise exception 'batch_retry: batch % not found', i_batch_id;
    end if;

    insert into pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time,
                                 ev_txid, ev_owner, ev_retry, ev_type, ev_data,
                                 ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    select distinct on (b.ev_id)
           current_timestamp + make_interval(secs => i_retry_seconds),
           s.sub_queue, b.ev_id, b.ev_time, null::bigint, s.sub_id,
           coalesce(b.ev_retry, 0) + 1, b.ev_type, b.ev_data,
           b.ev_extra1, b.ev_extra2, b.ev_extra3, b.ev_extra4
      from pgq.get_batch_events(i_batch_id) b
     where not exists (select 1 from pgq.retry_queue rq
                        where rq.ev_owner = s.sub_id
                          and rq.ev_id = b.ev_id)
     order by b.ev_id;
    get diagnostics n = row_count;
    return n;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
