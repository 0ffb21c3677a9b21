-- ----------------------------------------------------------------------
-- Function: pgq.get_queue_info(1)
--
--      Settings and ticker state of one queue (NULL: all, by name).
--
-- Returns:
--      ticker_lag  - time since the last tick
--      ev_per_sec  - event rate over (up to) the last 20 ticks
--      ev_new      - events inserted since the last tick (a hint: counts
--                    rolled-back inserts too)
-- ----------------------------------------------------------------------
create or replace function pgq.get_queue_info(
    in i_queue_name text,
    out queue_name text, out queue_ntables integer, out queue_cur_table integer,
    out queue_rotation_period interval, out queue_switch_time timestamptz,
    out queue_external_ticker boolean, out queue_ticker_paused boolean,
    out queue_ticker_max_count integer, out queue_ticker_max_lag interval,
    out queue_ticker_idle_period interval, out ticker_lag interval,
    out ev_per_sec float8, out ev_new bigint, out last_tick_id bigint)
returns setof record as $$
declare
    q       record;
    last    record;
    older   record;
begin
    for q in
        select * from pgq.queue qt
         where i_queue_name is null or qt.queue_name = i_queue_name
         order by qt.queue_name
    loop
        select t.tick_id, t.tick_time, t.tick_event_seq into last
          from pgq.tick t
         where t.tick_queue = q.queue_id
         order by t.tick_queue desc, t.tick_id desc
         limit 1;
        select t.tick_time, t.tick_event_seq into older
          from pgq.tick t
         where t.tick_queue = q.queue_id
           and t.tick_id >= last.tick_id - 20
         order by t.tick_queue asc, t.tick_id asc
         limit 1;

        queue_name := q.queue_name;
        queue_ntables := q.queue_ntables;
        queue_cur_table := q.queue_cur_table;
        queue_rotation_period := q.queue_rotation_period;
        queue_switch_time := q.queue_switch_time;
        queue_external_ticker := q.queue_external_ticker;
        queue_ticker_paused := q.queue_ticker_paused;
        queue_ticker_max_count := q.queue_ticker_max_count;
        queue_ticker_max_lag := q.queue_ticker_max_lag;
        queue_ticker_idle_period := q.queue_ticker_idle_period;
        ticker_lag := current_timestamp - last.tick_time;
        if last.tick_time = older.tick_time then
            ev_per_sec := null;
        else
            ev_per_sec := (last.tick_event_seq - older.tick_event_seq)
                          / extract(epoch from last.tick_time - older.tick_time);
        end if;
        ev_new := pgq.seq_getval(q.queue_event_seq) - last.tick_event_seq;
        last_tick_id := last.tick_id;
        return next;
    end loop;
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq.get_queue_info(0)
--
--      get_queue_info for every queue.
-- ----------------------------------------------------------------------
create or replace function pgq.get_queue_info(
    out queue_name text, out queue_ntables integer, out queue_cur_table integer,
    out queue_rotation_period interval, out queue_switch_time timestamptz,
    out queue_external_ticker boolean, out queue_ticker_paused boolean,
    out queue_ticker_max_count integer, out queue_ticker_max_lag interval,
    out queue_ticker_idle_period interval, out ticker_lag interval,
    out ev_per_sec float8, out ev_new bigint, out last_tick_id bigint)
returns setof record as $$
begin
    return query select * from pgq.get_queue_info(null);
end;
$$ language plpgsql;
