-- ----------------------------------------------------------------------
-- Function: pgq.get_batch_info(1)
--
--      Queue, consumer and ticks of an open batch (all NULL if not found),
--      of either kind (see pgq._find_batch).
-- ----------------------------------------------------------------------
create or replace function pgq.get_batch_info(
    in x_batch_id bigint,
    out queue_name text, out consumer_name text,
    out batch_start timestamptz, out batch_end timestamptz,
    out prev_tick_id bigint, out tick_id bigint, out lag interval,
    out seq_start bigint, out seq_end bigint)
as $$
begin
    select q.queue_name, c.co_name, prev.tick_time, cur.tick_time,
           f.prev_tick_id, f.cur_tick_id, current_timestamp - cur.tick_time,
           prev.tick_event_seq, cur.tick_event_seq
      into queue_name, consumer_name, batch_start, batch_end,
           prev_tick_id, tick_id, lag, seq_start, seq_end
      from pgq._find_batch(x_batch_id, false) f
      join pgq.queue q on q.queue_id = f.queue_id
      join pgq.consumer c on c.co_id = f.consumer_id
      join pgq.tick cur on cur.tick_queue = f.queue_id and cur.tick_id = f.cur_tick_id
      join pgq.tick prev on prev.tick_queue = f.queue_id and prev.tick_id = f.prev_tick_id;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
