-- ----------------------------------------------------------------------
-- Function: pgq.current_event_table(1)
--
--      The table new events of a queue go into, for bulk loading with COPY
--      (ev_id and ev_txid come from column defaults; ev_time must be given).
--      Valid only until the end of the current transaction: rotation may
--      switch tables after that.
--
-- Errors:
--      'Event queue not found', 'Writing to queue disabled'
-- ----------------------------------------------------------------------
create or replace function pgq.current_event_table(x_queue_name text)
returns text as $$
declare
    q   record;
begin
    select queue_data_pfx, queue_cur_table, queue_disable_insert
      into q
      from pgq.queue
     where queue_name = x_queue_name;
    if not found then
        raise exception 'Event queue not found';
    end if;
    if q.queue_disable_insert
       and current_setting('session_replication_role') <> 'replica'
    then
        raise exception 'Writing to queue disabled';
    end if;
    return q.queue_data_pfx || '_' || q.queue_cur_table;
end;
$$ language plpgsql;
