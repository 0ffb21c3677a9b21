-- ----------------------------------------------------------------------
-- Function: pgq.unregister_consumer(2)
--
--      Removes a consumer's subscription, its pending retry events and its
--      cooperative subconsumers.  An idle or busy cooperative subconsumer
--      (one that shares its sub_id) is removed alone.
--      As in PgQ, the pgq.consumer row goes only for the named consumer and
--      only when it has no other subscription; rows of subconsumers stay
--      (pgq_coop registers them again by name).
--      The events it did not read are never read again; rotation frees them.
--      Its rows in pgq.batch (light batches, pgqpp) go too.
--
-- Returns:
--      the number of subscription rows removed, 0 if it was not registered
-- ----------------------------------------------------------------------
create or replace function pgq.unregister_consumer(x_queue_name text, x_consumer_name text)
returns integer as $$
declare
    s           record;
    removed     integer;
begin
    select sub.sub_id, sub.sub_queue, sub.sub_consumer,
           sub.sub_last_tick, sub.sub_next_tick
      into s
      from pgq.queue q
      join pgq.subscription sub on sub.sub_queue = q.queue_id
      join pgq.consumer c on c.co_id = sub.sub_consumer
     where q.queue_name = x_queue_name
       and c.co_name = x_consumer_name
       for update of sub;
    if not found then
        return 0;
    end if;

    -- a cooperative subconsumer: only its own row goes
    if ((s.sub_last_tick is null and s.sub_next_tick is null)
        or (s.sub_last_tick is not null and s.sub_next_tick is not null))
       and (select count(*) from pgq.subscription
             where sub_queue = s.sub_queue and sub_id = s.sub_id) > 1
    then
        delete from pgq.subscription
         where sub_queue = s.sub_queue and sub_consumer = s.sub_consumer;
        delete from pgq.batch
         where batch_queue = s.sub_queue and batch_consumer = s.sub_consumer;
        return 1;
    end if;

    delete from pgq.retry_queue
     where ev_owner = s.sub_id and ev_queue = s.sub_queue;
    -- its light batches (pgqpp), an open one included
    delete from pgq.batch
     where batch_queue = s.sub_queue and batch_sub_id = s.sub_id;

    delete from pgq.subscription
     where sub_queue = s.sub_queue and sub_id = s.sub_id;
    get diagnostics removed = row_count;

    -- The consumer row too, unless another subscription uses it.  A
    -- registration in flight holds KEY SHARE on it (register_consumer_at):
    -- then leave the row rather than wait (two sessions each unregistering
    -- while the other registers would deadlock); a name row without a
    -- subscription is harmless.  The foreign key catches what the snapshot
    -- cannot see.
    perform 1 from pgq.consumer c
     where c.co_id = s.sub_consumer
       and not exists (select 1 from pgq.subscription x where x.sub_consumer = c.co_id)
       for update skip locked;
    if found then
        begin
            delete from pgq.consumer where co_id = s.sub_consumer;
        exception when foreign_key_violation then
            null;
        end;
    end if;
    return removed;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
