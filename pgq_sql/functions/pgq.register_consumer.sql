-- ----------------------------------------------------------------------
-- Function: pgq.register_consumer(2)
--
--      Subscribes a consumer to a queue, starting at the newest tick: it
--      gets every event committed after that.
--
-- Returns:
--      1 if newly registered, 0 if it already was
-- ----------------------------------------------------------------------
create or replace function pgq.register_consumer(x_queue_name text, x_consumer_id text)
returns integer as $$
begin
    return pgq.register_consumer_at(x_queue_name, x_consumer_id, null);
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.register_consumer_at(3)
--
--      Subscribes a consumer at a given tick, or moves an existing
--      subscription there (rewind or fast-forward; an open batch is dropped).
--
--      Unlike PgQ, concurrent first registrations of the same consumer
--      neither fail on the unique name nor deadlock: rows are created with
--      INSERT .. ON CONFLICT and no row of pgq.consumer is locked FOR UPDATE
--      (which conflicted with the foreign key locks of pgq.subscription).
--
-- Parameters:
--      x_tick_pos - tick to start after; NULL: the newest tick (and leave an
--                   existing subscription where it is)
--
-- Returns:
--      1 if newly registered, 0 if it already was
--
-- Errors:
--      'Event queue not created yet', 'cannot reposition, tick not found: <id>',
--      'No ticks for this queue.  Please run ticker on database.'
-- ----------------------------------------------------------------------
create or replace function pgq.register_consumer_at(
    x_queue_name text, x_consumer_name text, x_tick_pos bigint)
returns integer as $$
declare
    q_id        integer;
    c_id        integer;
    start_tick  bigint;
begin
    -- FOR SHARE: rotation (maint_rotate_tables_step1, FOR NO KEY UPDATE
    -- NOWAIT) must not run while this registration is in flight, as it
    -- could not see the new consumer's position and might delete its tick
    select queue_id into q_id from pgq.queue where queue_name = x_queue_name
       for share;
    if not found then
        raise exception 'Event queue not created yet';
    end if;

    if x_tick_pos is not null then
        perform 1 from pgq.tick where tick_queue = q_id and tick_id = x_tick_pos;
        if not found then
            raise exception 'cannot reposition, tick not found: %', x_tick_pos;
        end if;
        start_tick := x_tick_pos;
    else
        select tick_id into start_tick
          from pgq.tick
         where tick_queue = q_id
         order by tick_queue desc, tick_id desc
         limit 1;
        if not found then
            raise exception 'No ticks for this queue.  Please run ticker on database.';
        end if;
    end if;

    -- The consumer row: a concurrent registration may be inserting it too.
    -- ON CONFLICT waits for that one and then leaves its row in place; the
    -- next statement (new snapshot) sees it.  FOR KEY SHARE (which does not
    -- conflict with other registrations' foreign keys) keeps a concurrent
    -- unregister from deleting the row before our subscription refers to
    -- it; loop in case one deleted it just before.
    loop
        select co_id into c_id from pgq.consumer where co_name = x_consumer_name
           for key share;
        exit when found;
        insert into pgq.consumer (co_name) values (x_consumer_name)
        on conflict (co_name) do nothing
        returning co_id into c_id;
        exit when found;
    end loop;

    -- Look first, so that re-registering does not use up a sub_id (the
    -- serial default is evaluated even when ON CONFLICT skips the row).
    perform 1 from pgq.subscription
     where sub_queue = q_id and sub_consumer = c_id;
    if not found then
        insert into pgq.subscription (sub_queue, sub_consumer, sub_last_tick)
        values (q_id, c_id, start_tick)
        on conflict (sub_queue, sub_consumer) do nothing;
        if found then
            return 1;
        end if;
    end if;

    if x_tick_pos is not null then
        update pgq.subscription
           set sub_last_tick = x_tick_pos,
               sub_batch = null,
               sub_next_tick = null,
               sub_active = now()
         where sub_queue = q_id
           and sub_consumer = c_id;
    end if;
    return 0;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
