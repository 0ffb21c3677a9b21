-- ----------------------------------------------------------------------
-- Function: pgq.drop_queue(2)
--
--      Drops a queue with its event tables, sequences and ticks.
--
-- Parameters:
--      x_queue_name - the queue
--      x_force      - unregister its consumers first, instead of refusing
--
-- Returns:
--      1
--
-- Errors:
--      'No such event queue', 'cannot drop queue, consumers still attached'
-- ----------------------------------------------------------------------
create or replace function pgq.drop_queue(x_queue_name text, x_force bool)
returns integer as $$
declare
    q           record;
    consumer    text;
    i           integer;
begin
    select queue_id, queue_ntables, queue_data_pfx, queue_event_seq, queue_tick_seq
      into q
      from pgq.queue
     where queue_name = x_queue_name
       for update;
    if not found then
        raise exception 'No such event queue';
    end if;

    if x_force then
        for consumer in
            select c.co_name
              from pgq.subscription s
              join pgq.consumer c on c.co_id = s.sub_consumer
             where s.sub_queue = q.queue_id
             order by 1
        loop
            perform pgq.unregister_consumer(x_queue_name, consumer);
        end loop;
    elsif exists (select 1 from pgq.subscription where sub_queue = q.queue_id) then
        raise exception 'cannot drop queue, consumers still attached';
    end if;

    for i in 0 .. q.queue_ntables - 1 loop
        execute 'drop table ' || pgq.quote_fqname(q.queue_data_pfx || '_' || i);
    end loop;
    execute 'drop table ' || pgq.quote_fqname(q.queue_data_pfx);

    delete from pgq.retry_queue where ev_queue = q.queue_id;
    delete from pgq.tick where tick_queue = q.queue_id;
    -- pgqpp's per-queue rows
    delete from pgq.batch where batch_queue = q.queue_id;
    delete from pgq.queue_option where qo_queue = q.queue_id;

    execute 'drop sequence ' || pgq.quote_fqname(q.queue_tick_seq);
    execute 'drop sequence ' || pgq.quote_fqname(q.queue_event_seq);

    delete from pgq.queue where queue_id = q.queue_id;
    perform pgq._refresh_insert_dispatch();
    return 1;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.drop_queue(1)
--
--      pgq.drop_queue(name, false): refuses while consumers are attached.
-- ----------------------------------------------------------------------
create or replace function pgq.drop_queue(x_queue_name text)
returns integer as $$
begin
    return pgq.drop_queue(x_queue_name, false);
end;
$$ language plpgsql strict;
