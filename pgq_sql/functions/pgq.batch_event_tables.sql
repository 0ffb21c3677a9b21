-- ----------------------------------------------------------------------
-- Function: pgq.batch_event_tables(1)
--
--      Which event tables may hold events of a batch: the previous table,
--      the current one, or both (previous first).  Rotation guarantees that
--      a consumer never needs an older table than the previous one.
--
-- Errors:
--      'Cannot find data for batch <id>'
-- ----------------------------------------------------------------------
create or replace function pgq.batch_event_tables(x_batch_id bigint)
returns setof text as $$
declare
    b           record;
    prev_nr     integer;
begin
    select txid_snapshot_xmin(last.tick_snapshot) as tx_min,
           txid_snapshot_xmax(cur.tick_snapshot) as tx_max,
           q.queue_data_pfx, q.queue_ntables, q.queue_cur_table,
           q.queue_switch_step1, q.queue_switch_step2
      into b
      from pgq.subscription s
      join pgq.tick last on last.tick_queue = s.sub_queue and last.tick_id = s.sub_last_tick
      join pgq.tick cur on cur.tick_queue = s.sub_queue and cur.tick_id = s.sub_next_tick
      join pgq.queue q on q.queue_id = s.sub_queue
     where s.sub_batch = x_batch_id;
    if not found then
        raise exception 'Cannot find data for batch %', x_batch_id;
    end if;

    prev_nr := case when b.queue_cur_table = 0 then b.queue_ntables - 1
                    else b.queue_cur_table - 1 end;

    if b.tx_max < b.queue_switch_step1 then
        -- the batch ended before the last rotation: all in the previous table
        return next b.queue_data_pfx || '_' || prev_nr;
    elsif b.queue_switch_step2 is not null and b.tx_min > b.queue_switch_step2 then
        -- the batch started after every transaction saw the rotation
        return next b.queue_data_pfx || '_' || b.queue_cur_table;
    else
        return next b.queue_data_pfx || '_' || prev_nr;
        return next b.queue_data_pfx || '_' || b.queue_cur_table;
    end if;
end;
$$ language plpgsql;
