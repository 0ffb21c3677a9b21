-- ----------------------------------------------------------------------
-- Function: pgq.maint_clean_batches(1)                        (pgqpp)
--
--      Deletes a queue's pgq.batch rows (light batches) that can no longer
--      be anybody's open batch: all but each consumer's newest one, and
--      those of consumers that are gone.  At most 10,000 per call; listed by
--      pgq.maint_operations() when there are any, and called again by the
--      maintenance daemon while it returns non-zero.
--
--      A row is only ever deleted when a newer one of its consumer exists
--      (or its subscription is gone): a consumer's open batch is its newest
--      row, so it is never deleted, whatever runs concurrently.
--
-- Returns:
--      the number of rows deleted
-- ----------------------------------------------------------------------
create or replace function pgq.maint_clean_batches(i_queue_name text)
returns integer as $$
declare
    q_id    integer;
    n       integer;
begin
    select queue_id into q_id from pgq.queue where queue_name = i_queue_name;
    if not found then
        return 0;
    end if;
    delete from pgq.batch b
     where b.batch_id in (
           select x.batch_id
             from pgq.batch x
            where x.batch_queue = q_id
              and (exists (select 1 from pgq.batch newer
                            where newer.batch_queue = x.batch_queue
                              and newer.batch_consumer = x.batch_consumer
                              and newer.batch_id > x.batch_id)
                   or not exists (select 1 from pgq.subscription s
                                   where s.sub_queue = x.batch_queue
                                     and s.sub_consumer = x.batch_consumer
                                     and s.sub_id = x.batch_sub_id))
            limit 10000);
    get diagnostics n = row_count;
    return n;
end;
$$ language plpgsql;
