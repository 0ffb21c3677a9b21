-- ----------------------------------------------------------------------
-- Where an open batch is recorded (pgqpp)
--
--      PgQ records a consumer's open batch in its subscription row:
--      sub_batch = the batch id, sub_next_tick = the batch's end tick.
--      Because sub_batch is indexed (unique constraint
--      subscription_batch_idx), those updates are never HOT: each one adds
--      index entries, and while the xmin horizon is held back (a long
--      transaction, a replication slot, hot_standby_feedback) every later
--      update's unique check visits every old version.
--
--      A queue with the option light_batches (pgq.set_queue_config) records
--      its batches in pgq.batch instead (insert-only); the subscription row
--      then only changes unindexed columns: sub_next_tick, sub_last_tick,
--      sub_active (HOT updates).  Such an open batch shows in the
--      subscription as sub_batch NULL and sub_next_tick not NULL (a state
--      PgQ never has), and it is the consumer's newest pgq.batch row, with
--      the same ticks and sub_id.  Batch ids of one consumer grow
--      (pgq.batch_id_seq), so an older row with the same ticks (after a
--      rewind) is not the open batch.
--
--      Every function that looks a batch up goes through pgq._find_batch;
--      batches of both kinds work whatever the queue's option is now.
-- ----------------------------------------------------------------------

-- ----------------------------------------------------------------------
-- Function: pgq._light_batch_id(1)                            (pgqpp)
--
--      The id of the light batch a subscription row has open, or NULL.
--      STABLE: it reads with the snapshot of the query that calls it, so it
--      sees pgq.batch as that query saw the row.
-- ----------------------------------------------------------------------
create or replace function pgq._light_batch_id(s pgq.subscription)
returns bigint as $$
declare
    b   record;
begin
    if s.sub_batch is not null or s.sub_next_tick is null then
        return null;                    -- PgQ's kind of batch, or none open
    end if;
    select n.batch_id, n.batch_sub_id, n.batch_prev_tick, n.batch_cur_tick into b
      from pgq.batch n
     where n.batch_queue = s.sub_queue
       and n.batch_consumer = s.sub_consumer
     order by n.batch_queue desc, n.batch_consumer desc, n.batch_id desc
     limit 1;
    if found and b.batch_sub_id = s.sub_id
       and b.batch_prev_tick = s.sub_last_tick
       and b.batch_cur_tick = s.sub_next_tick
    then
        return b.batch_id;
    end if;
    return null;
end;
$$ language plpgsql stable;

-- ----------------------------------------------------------------------
-- Function: pgq._find_batch(2)                                (pgqpp)
--
--      Resolves an open batch: first PgQ's way (pgq.subscription.sub_batch),
--      then a light batch (pgq.batch, only while it is still the consumer's
--      open one).
--
-- Parameters:
--      i_batch_id  - the batch
--      i_lock      - lock the consumer's subscription row (FOR UPDATE)
--                    before deciding: for those who then change it
--
-- Returns:
--      queue_id, consumer_id, sub_id, prev_tick_id (the batch's start,
--      sub_last_tick), cur_tick_id (its end, sub_next_tick), is_light, and
--      sub_ctid (the subscription row's current version; with i_lock it
--      stays valid until the transaction ends, and an UPDATE ... WHERE
--      ctid = it needs no index scan); all NULL if the batch is not open
-- ----------------------------------------------------------------------
create or replace function pgq._find_batch(
    in i_batch_id bigint, in i_lock boolean,
    out queue_id int4, out consumer_id int4, out sub_id int4,
    out prev_tick_id bigint, out cur_tick_id bigint,
    out is_light boolean, out sub_ctid tid)
as $$
declare
    b       record;
    s       record;
begin
    -- PgQ's kind
    if i_lock then
        select sub.ctid, sub.sub_queue, sub.sub_consumer, sub.sub_id,
               sub.sub_last_tick, sub.sub_next_tick
          into sub_ctid, queue_id, consumer_id, sub_id, prev_tick_id, cur_tick_id
          from pgq.subscription sub
         where sub.sub_batch = i_batch_id
           for update;
    else
        select sub.ctid, sub.sub_queue, sub.sub_consumer, sub.sub_id,
               sub.sub_last_tick, sub.sub_next_tick
          into sub_ctid, queue_id, consumer_id, sub_id, prev_tick_id, cur_tick_id
          from pgq.subscription sub
         where sub.sub_batch = i_batch_id;
    end if;
    if found then
        is_light := false;
        return;
    end if;

    -- a light batch
    select n.batch_queue, n.batch_consumer into b
      from pgq.batch n
     where n.batch_id = i_batch_id;
    if not found then
        return;
    end if;

    if i_lock then
        -- Lock first, then decide in a new statement: its snapshot sees
        -- whatever the previous holder of the lock committed (a batch
        -- finished, or a newer one opened).
        select sub.ctid as sub_ctid, sub as sub_row, null::bigint as open_id into s
          from pgq.subscription sub
         where sub.sub_queue = b.batch_queue
           and sub.sub_consumer = b.batch_consumer
           for update;
        if not found then
            return;
        end if;
        s.open_id := pgq._light_batch_id(s.sub_row);
    else
        select sub.ctid as sub_ctid, sub as sub_row, pgq._light_batch_id(sub) as open_id into s
          from pgq.subscription sub
         where sub.sub_queue = b.batch_queue
           and sub.sub_consumer = b.batch_consumer;
        if not found then
            return;
        end if;
    end if;
    if s.open_id is distinct from i_batch_id then
        return;
    end if;

    queue_id := (s.sub_row).sub_queue;
    consumer_id := (s.sub_row).sub_consumer;
    sub_id := (s.sub_row).sub_id;
    prev_tick_id := (s.sub_row).sub_last_tick;
    cur_tick_id := (s.sub_row).sub_next_tick;
    is_light := true;
    sub_ctid := s.sub_ctid;
end;
$$ language plpgsql;
