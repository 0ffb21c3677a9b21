-- ----------------------------------------------------------------------
-- Function: pgq_coop.register_subconsumer(3)
--
--      Registers a subconsumer: the main consumer is registered on the
--      queue if it is not yet, then the subconsumer '<consumer>.<sub>', which
--      shares the main consumer's sub_id (and so its retry events) and has
--      no position of its own while it holds no batch.
--
-- Parameters:
--      i_queue_name        - the queue
--      i_consumer_name     - the main consumer
--      i_subconsumer_name  - the subconsumer
--
-- Returns:
--      1 if newly registered, 0 if it already was
--
-- Errors:
--      as pgq.register_consumer ('Event queue not created yet', ...);
--      'pgq_coop: <c>.<s> is registered on queue <q> as a consumer of its
--      own, not as a subconsumer of <c>'; NULL names
-- ----------------------------------------------------------------------
create or replace function pgq_coop.register_subconsumer(
    i_queue_name text, i_consumer_name text, i_subconsumer_name text)
returns integer as $$
declare
    sub_name    text;
    main        pgq.subscription;
    sub_id      integer;
begin
    if i_queue_name is null or i_consumer_name is null or i_subconsumer_name is null then
        raise exception 'pgq_coop: queue, consumer and subconsumer names must not be NULL';
    end if;
    sub_name := i_consumer_name || '.' || i_subconsumer_name;

    -- the main consumer, locked: batches are handed out under this lock
    main := pgq_coop._lock_main(i_queue_name, i_consumer_name);

    if pgq.register_consumer(i_queue_name, sub_name) = 1 then
        update pgq.subscription s
           set sub_id = main.sub_id,
               sub_last_tick = null,
               sub_next_tick = null,
               sub_batch = null
          from pgq.consumer c
         where s.sub_queue = main.sub_queue
           and s.sub_consumer = c.co_id
           and c.co_name = sub_name;
        return 1;
    end if;

    select s.sub_id into sub_id
      from pgq.subscription s
      join pgq.consumer c on c.co_id = s.sub_consumer
     where s.sub_queue = main.sub_queue
       and c.co_name = sub_name;
    if sub_id is distinct from main.sub_id then
        raise exception 'pgq_coop: % is registered on queue % as a consumer of its own, not as a subconsumer of %',
                        sub_name, i_queue_name, i_consumer_name;
    end if;
    return 0;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
