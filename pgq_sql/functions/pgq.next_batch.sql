-- ----------------------------------------------------------------------
-- Function: pgq.next_batch_custom(5)
--
--      Opens the consumer's next batch: the events between its last tick
--      and a later tick.  Calling it again before finish_batch returns the
--      same batch, so a consumer that crashed mid-batch gets it back.
--
-- Parameters:
--      i_queue_name, i_consumer_name - who asks
--      i_min_lag       - only ticks at least this old (keep a delay)
--      i_min_count     - wait until the batch would hold this many events...
--      i_min_interval  - ...or span this much time (merging ticks)
--
-- Returns:
--      batch_id and its ticks; all NULL when there is no batch yet
--
-- Errors:
--      'Not subscriber to queue: <q>/<c>',
--      'PgQ corruption: Consumer <c> on queue <q> does not see tick <t>'
--      (<t> is the missing tick's id; PgQ always prints <NULL> there)
--
-- Notes:
--      Asking costs no write when there is nothing new: the row is read
--      without a lock, and only when a batch is to be opened is it locked
--      and re-checked.  So an idle consumer polling next_batch takes no
--      transaction id and writes no WAL, and two processes asking for the
--      same consumer's batch are still serialised (the second one gets the
--      batch the first one opened) instead of overwriting each other.
--
--      With the queue option light_batches (pgqpp) the batch is recorded
--      in pgq.batch and sub_batch stays NULL (see pgq._find_batch).  The
--      option decides how a batch is opened; an open batch of either kind
--      is returned again whatever the option is now.
-- ----------------------------------------------------------------------
create or replace function pgq.next_batch_custom(
    in i_queue_name text, in i_consumer_name text,
    in i_min_lag interval, in i_min_count int4, in i_min_interval interval,
    out batch_id int8,
    out cur_tick_id int8, out prev_tick_id int8,
    out cur_tick_time timestamptz, out prev_tick_time timestamptz,
    out cur_tick_event_seq int8, out prev_tick_event_seq int8)
as $$
declare
    s           record;
    locked      record;
    lc          refcursor;
    reopen      boolean;
    light       boolean;
    new_ctid    tid;
begin
    loop
        select sub.ctid as sub_ctid, sub.sub_id, sub.sub_queue, sub.sub_consumer, sub.sub_last_tick,
               sub.sub_next_tick, sub.sub_batch, pgq._light_batch_id(sub) as light_batch,
               t1.tick_time as last_time, t1.tick_event_seq as last_seq,
               t2.tick_time as next_time, t2.tick_event_seq as next_seq
          into s
          from pgq.queue q
          join pgq.subscription sub on sub.sub_queue = q.queue_id
          join pgq.consumer c on c.co_id = sub.sub_consumer
          left join pgq.tick t1 on t1.tick_queue = sub.sub_queue and t1.tick_id = sub.sub_last_tick
          left join pgq.tick t2 on t2.tick_queue = sub.sub_queue and t2.tick_id = sub.sub_next_tick
         where q.queue_name = i_queue_name
           and c.co_name = i_consumer_name;
        if not found then
            raise exception '%', 'Not subscriber to queue: '
                || coalesce(i_queue_name, 'NULL') || '/' || coalesce(i_consumer_name, 'NULL');
        end if;

        if s.last_time is null then
            raise exception 'PgQ corruption: Consumer % on queue % does not see tick %',
                            i_consumer_name, i_queue_name, s.sub_last_tick;
        end if;

        prev_tick_id := s.sub_last_tick;
        prev_tick_time := s.last_time;
        prev_tick_event_seq := s.last_seq;

        if s.sub_batch is not null or s.light_batch is not null then
            -- the open batch again
            batch_id := coalesce(s.sub_batch, s.light_batch);
            cur_tick_id := s.sub_next_tick;
            cur_tick_time := s.next_time;
            cur_tick_event_seq := s.next_seq;
            return;
        end if;

        -- A light batch is open but its pgq.batch row is gone (deleted by
        -- hand, a partial restore): open it again under a new id, same ticks.
        reopen := s.sub_next_tick is not null;
        if reopen then
            cur_tick_id := s.sub_next_tick;
            cur_tick_time := s.next_time;
            cur_tick_event_seq := s.next_seq;
        elsif i_min_count is null and i_min_interval is null then
            select t.tick_id, t.tick_time, t.tick_event_seq
              into cur_tick_id, cur_tick_time, cur_tick_event_seq
              from pgq.tick t
             where t.tick_queue = s.sub_queue
               and t.tick_id > s.sub_last_tick
             order by t.tick_queue asc, t.tick_id asc
             limit 1;
        else
            select h.next_tick_id, h.next_tick_time, h.next_tick_seq
              into cur_tick_id, cur_tick_time, cur_tick_event_seq
              from pgq.find_tick_helper(s.sub_queue, s.sub_last_tick, s.last_time,
                                        s.last_seq, i_min_count, i_min_interval) h;
        end if;

        if not reopen and cur_tick_id is not null and i_min_lag is not null
           and now() - cur_tick_time < i_min_lag
        then
            cur_tick_id := null;
        end if;

        if cur_tick_id is null then
            prev_tick_id := null;
            prev_tick_time := null;
            prev_tick_event_seq := null;
            cur_tick_time := null;
            cur_tick_event_seq := null;
            return;
        end if;

        -- A batch is to be opened: lock the row (its version just read
        -- first), and make sure no other process opened one or moved the
        -- consumer since it was read.
        select l.sub_row, l.sub_cursor into locked
          from pgq._lock_subscription(s.sub_queue, s.sub_consumer, s.sub_ctid) l;
        lc := locked.sub_cursor;
        exit when lc is not null
                  and (locked.sub_row).sub_batch is null
                  and (locked.sub_row).sub_last_tick is not distinct from s.sub_last_tick
                  and (locked.sub_row).sub_next_tick is not distinct from s.sub_next_tick
                  and (not reopen or pgq._light_batch_id(locked.sub_row) is null);
        -- it changed (or the consumer was unregistered): start over
        if lc is not null then
            close lc;
        end if;
    end loop;

    -- the update goes where the cursor stands: the locked row, found
    -- without another lookup
    batch_id := nextval('pgq.batch_id_seq');
    light := reopen or exists (select 1 from pgq.queue_option o
                                where o.qo_queue = s.sub_queue
                                  and o.qo_name = 'light_batches'
                                  and o.qo_value = 'true');
    if light then
        -- light: the subscription row changes only unindexed columns, so
        -- the update is HOT; the batch goes to pgq.batch, with where the
        -- row's new version is (finish_batch looks there first)
        update pgq.subscription
           set sub_next_tick = cur_tick_id,
               sub_active = now()
         where current of lc
        returning ctid into new_ctid;
        insert into pgq.batch (batch_id, batch_queue, batch_consumer, batch_sub_id,
                               batch_prev_tick, batch_cur_tick, batch_sub_ctid)
        values (batch_id, s.sub_queue, s.sub_consumer, s.sub_id,
                s.sub_last_tick, cur_tick_id, new_ctid);
    else
        update pgq.subscription
           set sub_batch = batch_id,
               sub_next_tick = cur_tick_id,
               sub_active = now()
         where current of lc;
    end if;
    close lc;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.next_batch_info(2)
--
--      next_batch_custom without lag/size conditions.
-- ----------------------------------------------------------------------
create or replace function pgq.next_batch_info(
    in i_queue_name text, in i_consumer_name text,
    out batch_id int8,
    out cur_tick_id int8, out prev_tick_id int8,
    out cur_tick_time timestamptz, out prev_tick_time timestamptz,
    out cur_tick_event_seq int8, out prev_tick_event_seq int8)
as $$
begin
    select n.batch_id, n.cur_tick_id, n.prev_tick_id, n.cur_tick_time,
           n.prev_tick_time, n.cur_tick_event_seq, n.prev_tick_event_seq
      into batch_id, cur_tick_id, prev_tick_id, cur_tick_time,
           prev_tick_time, cur_tick_event_seq, prev_tick_event_seq
      from pgq.next_batch_custom(i_queue_name, i_consumer_name, null, null, null) n;
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq.next_batch(2)
--
-- Returns:
--      the id of the consumer's next batch, or NULL if there is none yet
-- ----------------------------------------------------------------------
create or replace function pgq.next_batch(i_queue_name text, i_consumer_name text)
returns int8 as $$
begin
    return (select n.batch_id
              from pgq.next_batch_custom(i_queue_name, i_consumer_name, null, null, null) n);
end;
$$ language plpgsql;
