-- ----------------------------------------------------------------------
-- Function: pgq.find_tick_helper(6)
--
--      For next_batch_custom: the tick that ends a batch holding at least
--      i_min_count events or spanning at least i_min_interval (whichever
--      comes first).  Tries the newest tick first; when that overshoots by
--      more than 2x, looks for the first tick that qualifies instead.
--
-- Returns:
--      the tick, or all NULL if no tick qualifies yet
-- ----------------------------------------------------------------------
create or replace function pgq.find_tick_helper(
    in i_queue_id int4, in i_prev_tick_id int8,
    in i_prev_tick_time timestamptz, in i_prev_tick_seq int8,
    in i_min_count int8, in i_min_interval interval,
    out next_tick_id int8, out next_tick_time timestamptz, out next_tick_seq int8)
as $$
declare
    newest      record;
    qualifies   boolean := false;
    sure        boolean := true;
begin
    select t.tick_id, t.tick_time, t.tick_event_seq
      into newest
      from pgq.tick t
     where t.tick_queue = i_queue_id
       and t.tick_id > i_prev_tick_id
     order by t.tick_queue desc, t.tick_id desc
     limit 1;
    if not found then
        return;
    end if;

    if i_min_count is not null then
        if newest.tick_event_seq - i_prev_tick_seq >= i_min_count then
            qualifies := true;
        end if;
        if newest.tick_event_seq - i_prev_tick_seq > i_min_count * 2 then
            sure := false;
        end if;
    end if;
    if i_min_interval is not null then
        if newest.tick_time - i_prev_tick_time >= i_min_interval then
            qualifies := true;
        end if;
        if newest.tick_time - i_prev_tick_time > i_min_interval * 2 then
            sure := false;
        end if;
    end if;

    if not sure then
        select t.tick_id, t.tick_time, t.tick_event_seq
          into newest
          from pgq.tick t
         where t.tick_queue = i_queue_id
           and t.tick_id > i_prev_tick_id
           and ((i_min_count is not null and t.tick_event_seq - i_prev_tick_seq >= i_min_count)
                or (i_min_interval is not null and t.tick_time - i_prev_tick_time >= i_min_interval))
         order by t.tick_queue asc, t.tick_id asc
         limit 1;
        qualifies := found;
    end if;

    if qualifies then
        next_tick_id := newest.tick_id;
        next_tick_time := newest.tick_time;
        next_tick_seq := newest.tick_event_seq;
    end if;
end;
$$ language plpgsql stable;
