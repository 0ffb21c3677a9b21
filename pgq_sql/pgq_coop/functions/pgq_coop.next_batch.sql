-- ----------------------------------------------------------------------
-- Function: pgq_coop.next_batch_custom(7)
--
--      Gives a subconsumer a batch: the one it holds already, else the
--      batch of a subconsumer presumed dead, else the main consumer's next
--      batch (see pgq.next_batch_custom for the lag/size conditions), which
--      is closed on the main consumer at once and opened on the
--      subconsumer.  The main consumer and the subconsumer are registered
--      if they are not yet.
--
--      Dead members: with i_dead_interval, a subconsumer of the group that
--      holds a batch and showed no activity (next_batch or finish_batch)
--      for longer than that is presumed dead: its row is removed and its
--      batch, with the same id and ticks, goes to the caller.  Choose the
--      interval longer than any batch can take to process: the presumed
--      dead member's finish_batch no longer finds its batch.  Unlike
--      PgQ's pgq_coop, only subconsumers holding a batch are removed: an
--      idle one is not refreshed by polling (an empty poll writes nothing),
--      so it would otherwise be dropped and re-registered over and over.
--
--      Concurrency: batches are handed out under a lock of the main
--      consumer's subscription row.  A poll that finds nothing to do (no
--      batch held, none to take over, no tick after the group's position)
--      returns NULL without taking that lock or writing anything.
--
--      The queue may use pgq's light_batches option: the main consumer's
--      batch is then opened the light way and closed again at once; the
--      subconsumer's batch is always recorded in pgq.subscription.sub_batch.
--
-- Parameters:
--      i_queue_name, i_consumer_name, i_subconsumer_name - who asks
--      i_min_lag, i_min_count, i_min_interval - as pgq.next_batch_custom
--      i_dead_interval - after how long a silent member's batch is taken
--                        over; NULL: never
--
-- Returns:
--      the batch id, or NULL if there is no batch yet
--
-- Errors:
--      'main consumer has batch open?' (the main consumer is used directly
--      with pgq.next_batch, or a pgq.next_batch of it was left open);
--      those of pgq.next_batch_custom and pgq_coop.register_subconsumer
-- ----------------------------------------------------------------------
create or replace function pgq_coop.next_batch_custom(
    i_queue_name text, i_consumer_name text, i_subconsumer_name text,
    i_min_lag interval, i_min_count int4, i_min_interval interval,
    i_dead_interval interval)
returns bigint as $$
declare
    sub_name    text;
    quick       record;
    main        pgq.subscription;
    sub         record;
    dead        record;
    b           record;
begin
    if i_queue_name is null or i_consumer_name is null or i_subconsumer_name is null then
        raise exception 'pgq_coop: queue, consumer and subconsumer names must not be NULL';
    end if;
    sub_name := i_consumer_name || '.' || i_subconsumer_name;

    -- Nothing to do?  Then no lock and no write.  (Decided on one snapshot:
    -- what a locked call would also have found at that moment.)
    select m.sub_queue, m.sub_id, m.sub_consumer, m.sub_last_tick,
           m.sub_next_tick, m.sub_batch,
           s.sub_id as s_sub_id, s.sub_consumer as s_consumer, s.sub_batch as s_batch
      into quick
      from pgq.queue q
      join pgq.subscription m on m.sub_queue = q.queue_id
      join pgq.consumer mc on mc.co_id = m.sub_consumer
      left join (pgq.subscription s join pgq.consumer sc on sc.co_id = s.sub_consumer)
             on s.sub_queue = q.queue_id and sc.co_name = sub_name
     where q.queue_name = i_queue_name
       and mc.co_name = i_consumer_name;
    if found
       and quick.sub_batch is null and quick.sub_next_tick is null
       and quick.sub_last_tick is not null
       and quick.s_sub_id = quick.sub_id and quick.s_batch is null
       and not exists (select 1 from pgq.tick t
                        where t.tick_queue = quick.sub_queue
                          and t.tick_id > quick.sub_last_tick)
       and (i_dead_interval is null
            or not exists (select 1 from pgq.subscription d
                            where d.sub_queue = quick.sub_queue
                              and d.sub_id = quick.sub_id
                              and d.sub_batch is not null
                              and d.sub_consumer <> quick.sub_consumer
                              and d.sub_consumer <> quick.s_consumer
                              and d.sub_active < now() - i_dead_interval))
    then
        return null;
    end if;

    -- 1. the main consumer's row, locked (registered if missing)
    main := pgq_coop._lock_main(i_queue_name, i_consumer_name);
    if main.sub_batch is not null or main.sub_next_tick is not null then
        raise exception 'main consumer has batch open?';
    end if;

    -- 2. the subconsumer's row (registered if missing)
    loop
        select s.sub_consumer, s.sub_id, s.sub_batch into sub
          from pgq.subscription s
          join pgq.consumer c on c.co_id = s.sub_consumer
         where s.sub_queue = main.sub_queue
           and c.co_name = sub_name
           for update of s;
        exit when found and sub.sub_id = main.sub_id;
        -- registers it, or says why it is not one of the group
        perform pgq_coop.register_subconsumer(i_queue_name, i_consumer_name, i_subconsumer_name);
    end loop;

    -- 3. the batch it holds already
    if sub.sub_batch is not null then
        update pgq.subscription
           set sub_active = now()
         where sub_queue = main.sub_queue
           and sub_consumer = sub.sub_consumer;
        return sub.sub_batch;
    end if;

    -- 4. the batch of a member presumed dead (one whose row is locked is
    --    busy right now, e.g. finishing its batch: not dead)
    if i_dead_interval is not null then
        select d.sub_consumer, d.sub_batch, d.sub_last_tick, d.sub_next_tick
          into dead
          from pgq.subscription d
         where d.sub_queue = main.sub_queue
           and d.sub_id = main.sub_id
           and d.sub_batch is not null
           and d.sub_consumer <> main.sub_consumer
           and d.sub_consumer <> sub.sub_consumer
           and d.sub_active < now() - i_dead_interval
         order by d.sub_active, d.sub_batch
         limit 1
           for update skip locked;
        if found then
            delete from pgq.subscription
             where sub_queue = main.sub_queue
               and sub_consumer = dead.sub_consumer;
            update pgq.subscription
               set sub_batch = dead.sub_batch,
                   sub_last_tick = dead.sub_last_tick,
                   sub_next_tick = dead.sub_next_tick,
                   sub_active = now()
             where sub_queue = main.sub_queue
               and sub_consumer = sub.sub_consumer;
            return dead.sub_batch;
        end if;
    end if;

    -- 5. the group's next batch
    select n.batch_id, n.prev_tick_id, n.cur_tick_id into b
      from pgq.next_batch_custom(i_queue_name, i_consumer_name,
                                 i_min_lag, i_min_count, i_min_interval) n;
    if b.batch_id is null then
        return null;
    end if;

    -- 6. closed on the main consumer (the group moves on), open on the
    --    subconsumer (which holds rotation back until it finishes)
    update pgq.subscription
       set sub_last_tick = b.cur_tick_id,
           sub_next_tick = null,
           sub_batch = null,
           sub_active = now()
     where sub_queue = main.sub_queue
       and sub_consumer = main.sub_consumer;
    update pgq.subscription
       set sub_batch = b.batch_id,
           sub_last_tick = b.prev_tick_id,
           sub_next_tick = b.cur_tick_id,
           sub_active = now()
     where sub_queue = main.sub_queue
       and sub_consumer = sub.sub_consumer;
    return b.batch_id;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_coop.next_batch_custom(6)
--
--      next_batch_custom without taking over dead members' batches.
-- ----------------------------------------------------------------------
create or replace function pgq_coop.next_batch_custom(
    i_queue_name text, i_consumer_name text, i_subconsumer_name text,
    i_min_lag interval, i_min_count int4, i_min_interval interval)
returns bigint as $$
begin
    return pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name,
                                      i_min_lag, i_min_count, i_min_interval, null);
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq_coop.next_batch(3)
--
--      The subconsumer's next batch, without lag/size conditions and
--      without taking over dead members' batches.
-- ----------------------------------------------------------------------
create or replace function pgq_coop.next_batch(
    i_queue_name text, i_consumer_name text, i_subconsumer_name text)
returns bigint as $$
begin
    return pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name,
                                      null, null, null, null);
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq_coop.next_batch(4)
--
--      The subconsumer's next batch, taking over the batch of a member
--      silent for longer than i_dead_interval.
-- ----------------------------------------------------------------------
create or replace function pgq_coop.next_batch(
    i_queue_name text, i_consumer_name text, i_subconsumer_name text,
    i_dead_interval interval)
returns bigint as $$
begin
    return pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name,
                                      null, null, null, i_dead_interval);
end;
$$ language plpgsql;
