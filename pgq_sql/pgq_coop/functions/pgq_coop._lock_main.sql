-- ----------------------------------------------------------------------
-- Function: pgq_coop._lock_main(2)
--
--      The main consumer's subscription row, locked FOR UPDATE: batches
--      are handed out and subconsumers registered under this lock.  The
--      main consumer is registered on the queue first if it is not yet.
--      Called by the SECURITY DEFINER functions of pgq_coop only.
--
-- Errors:
--      as pgq.register_consumer ('Event queue not created yet', ...)
-- ----------------------------------------------------------------------
create or replace function pgq_coop._lock_main(i_queue_name text, i_consumer_name text)
returns pgq.subscription as $$
declare
    main    pgq.subscription;
begin
    loop
        select m.* into main
          from pgq.queue q
          join pgq.subscription m on m.sub_queue = q.queue_id
          join pgq.consumer c on c.co_id = m.sub_consumer
         where q.queue_name = i_queue_name
           and c.co_name = i_consumer_name
           for update of m;
        exit when found;
        perform pgq.register_consumer(i_queue_name, i_consumer_name);
    end loop;
    return main;
end;
$$ language plpgsql set search_path = pg_catalog, pg_temp;
