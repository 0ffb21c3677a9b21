-- ----------------------------------------------------------------------
-- Function: pgq_coop.unregister_subconsumer(4)
--
--      Removes a subconsumer.  The main consumer and the other
--      subconsumers stay (pgq.unregister_consumer of the main consumer
--      removes the whole group).
--
-- Parameters:
--      i_queue_name        - the queue
--      i_consumer_name     - the main consumer
--      i_subconsumer_name  - the subconsumer
--      i_batch_handling    - what to do with a batch it holds: 1 = drop it
--                            (its events are then never processed by the
--                            group); anything else = refuse
--
-- Returns:
--      1, or 0 if no such subconsumer is registered
--
-- Errors:
--      'subconsumer has active batch';
--      'pgq_coop: <c>.<s> on queue <q> is not a subconsumer of <c>'; NULL names
-- ----------------------------------------------------------------------
create or replace function pgq_coop.unregister_subconsumer(
    i_queue_name text, i_consumer_name text, i_subconsumer_name text,
    i_batch_handling integer)
returns integer as $$
declare
    sub_name    text;
    s           record;
begin
    if i_queue_name is null or i_consumer_name is null or i_subconsumer_name is null then
        raise exception 'pgq_coop: queue, consumer and subconsumer names must not be NULL';
    end if;
    sub_name := i_consumer_name || '.' || i_subconsumer_name;

    select sub.sub_queue, sub.sub_consumer, sub.sub_id, sub.sub_batch,
           (select m.sub_id
              from pgq.subscription m
              join pgq.consumer mc on mc.co_id = m.sub_consumer
             where m.sub_queue = q.queue_id
               and mc.co_name = i_consumer_name) as main_sub_id
      into s
      from pgq.queue q
      join pgq.subscription sub on sub.sub_queue = q.queue_id
      join pgq.consumer c on c.co_id = sub.sub_consumer
     where q.queue_name = i_queue_name
       and c.co_name = sub_name
       for update of sub;
    if not found then
        return 0;
    end if;
    if s.main_sub_id is distinct from s.sub_id then
        raise exception 'pgq_coop: % on queue % is not a subconsumer of %',
                        sub_name, i_queue_name, i_consumer_name;
    end if;

    if s.sub_batch is not null and i_batch_handling is distinct from 1 then
        raise exception 'subconsumer has active batch';
    end if;

    delete from pgq.subscription
     where sub_queue = s.sub_queue
       and sub_consumer = s.sub_consumer;
    return 1;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
