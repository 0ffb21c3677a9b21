-- ----------------------------------------------------------------------
-- Function: pgq.current_event_table(1)
--
--      The table new events of a queue go into, for bulk loading with COPY
--      (ev_id and ev_txid come from column defaults; ev_time must be given).
--      Valid until the end of the current transaction: rotation may switch
--      tables after that.  pgqpp: the transaction takes its txid here, while
--      this statement's snapshot is still held, so the caller's later COPY
--      belongs to the batches that read this table (PgQ's took the txid only
--      at the COPY, which could come after rotation step 2 and then went
--      unread; see pgq.maint_rotate_tables_step2).
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
    perform txid_current();
    return q.queue_data_pfx || '_' || q.queue_cur_table;
end;
$$ language plpgsql;
