-- ----------------------------------------------------------------------
-- Function: pgq.get_consumer_info(2)
--
--      Position and lag of consumers (NULL arguments: all), ordered by
--      queue and consumer.  Cooperative subconsumers show as 'main.sub'.
--
-- Returns:
--      lag            - age of the consumer's last finished tick
--      last_seen      - time since it last opened or finished a batch
--      pending_events - events after its position (a hint from sequences)
--      current_batch  - the open batch, also a light one (pgq._find_batch)
-- ----------------------------------------------------------------------
create or replace function pgq.get_consumer_info(
    in i_queue_name text, in i_consumer_name text,
    out queue_name text, out consumer_name text, out lag interval,
    out last_seen interval, out last_tick bigint, out current_batch bigint,
    out next_tick bigint, out pending_events bigint)
returns setof record as $$
begin
    return query
        select q.queue_name, c.co_name,
               current_timestamp - t.tick_time,
               current_timestamp - s.sub_active,
               s.sub_last_tick, coalesce(s.sub_batch, pgq._light_batch_id(s)), s.sub_next_tick,
               newest.tick_event_seq - t.tick_event_seq
          from pgq.subscription s
          join pgq.queue q on q.queue_id = s.sub_queue
          join pgq.consumer c on c.co_id = s.sub_consumer
          left join pgq.tick t on t.tick_queue = s.sub_queue and t.tick_id = s.sub_last_tick
          left join lateral (
                select nt.tick_event_seq from pgq.tick nt
                 where nt.tick_queue = s.sub_queue
                 order by nt.tick_queue desc, nt.tick_id desc
                 limit 1) newest on true
         where (i_queue_name is null or q.queue_name = i_queue_name)
           and (i_consumer_name is null or c.co_name = i_consumer_name)
         order by 1, 2;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- Function: pgq.get_consumer_info(1) - consumers of one queue (NULL: all)
create or replace function pgq.get_consumer_info(
    in i_queue_name text,
    out queue_name text, out consumer_name text, out lag interval,
    out last_seen interval, out last_tick bigint, out current_batch bigint,
    out next_tick bigint, out pending_events bigint)
returns setof record as $$
begin
    return query select * from pgq.get_consumer_info(i_queue_name, null);
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- Function: pgq.get_consumer_info(0) - every consumer of every queue
create or replace function pgq.get_consumer_info(
    out queue_name text, out consumer_name text, out lag interval,
    out last_seen interval, out last_tick bigint, out current_batch bigint,
    out next_tick bigint, out pending_events bigint)
returns setof record as $$
begin
    return query select * from pgq.get_consumer_info(null, null);
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
