-- ----------------------------------------------------------------------
-- Function: pgq.batch_event_tables(1)
--
--      Which event tables may hold events of a batch: the previous table,
--      the current one, or both (previous first).  Rotation guarantees that
--      a consumer never needs an older table than the previous one.
--      Batches of both kinds (see pgq._find_batch).
--
-- Errors:
--      'Cannot find data for batch <id>'
-- ----------------------------------------------------------------------
create or replace function pgq.batch_event_tables(x_batch_id bigint)
returns setof text as $$
declare
    b       record;
begin
    select f.queue_id, f.prev_tick_id, f.cur_tick_id into b
      from pgq._find_batch(x_batch_id, false) f;
    if b.queue_id is not null then
        return query select t.tbl
                       from pgq._batch_event_tables(b.queue_id, b.prev_tick_id,
                                                    b.cur_tick_id) t(tbl);
    end if;
    if b.queue_id is null or not found then
        raise exception 'Cannot find data for batch %', x_batch_id;
    end if;
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq._batch_event_tables(3)                        (pgqpp)
--
--      batch_event_tables for a batch already looked up (its queue and
--      ticks), so that batch_event_sql looks the batch up only once.
--      Returns nothing if a tick is missing.
-- ----------------------------------------------------------------------
create or replace function pgq._batch_event_tables(
    i_queue_id int4, i_prev_tick_id bigint, i_cur_tick_id bigint)
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
      from pgq.queue q
      join pgq.tick last on last.tick_queue = q.queue_id and last.tick_id = i_prev_tick_id
      join pgq.tick cur on cur.tick_queue = q.queue_id and cur.tick_id = i_cur_tick_id
     where q.queue_id = i_queue_id;
    if not found then
        return;
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
