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
--
--      Under a held xmin a lookup of a subscription row by its key still
--      passes every version the horizon keeps (one index entry per page of
--      versions once the updates are HOT).  So pgq.batch also records where
--      next_batch left the row's new version (batch_sub_ctid): finish_batch
--      and the batch's readers look there first, and by key only if the
--      row has moved since.
--
--      These functions run with enable_seqscan off: their lookups are by
--      key or position, and a session caches its plans while the tables are
--      tiny, when a sequential scan looks cheapest.  Under a held xmin
--      pgq.batch and pgq.subscription then grow page by page (versions that
--      cannot be removed) while their live contents stay small, and a
--      cached sequential scan would read every page on every lookup.
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
$$ language plpgsql stable set enable_seqscan = off;

-- ----------------------------------------------------------------------
-- Function: pgq._lock_subscription(3)                         (pgqpp)
--
--      Locks a consumer's subscription row (FOR UPDATE) and returns it,
--      with a cursor standing on it, for UPDATE ... WHERE CURRENT OF (which
--      updates the row where it is, without another lookup).
--
-- Parameters:
--      i_queue_id, i_consumer_id - the row's key
--      i_ctid      - where its current version probably is (a hint, or
--                    NULL): used only if the version there is visible, has
--                    that key and is still the newest one; else the row is
--                    looked up by key
--
-- Returns:
--      sub_row, and sub_cursor (the caller closes it); both NULL if there
--      is no such row
-- ----------------------------------------------------------------------
create or replace function pgq._lock_subscription(
    in i_queue_id int4, in i_consumer_id int4, in i_ctid tid,
    out sub_row pgq.subscription, out sub_cursor refcursor)
as $$
declare
    cur     refcursor;
    r       record;
begin
    if i_ctid is not null then
        -- If that version was updated meanwhile, the lock follows to the
        -- newest one, whose ctid differs: no row, look it up by key.
        open cur for
            select sub as sub_row
              from pgq.subscription sub
             where sub.ctid = i_ctid
               and sub.sub_queue = i_queue_id
               and sub.sub_consumer = i_consumer_id
               for update;
        fetch cur into r;
        if found then
            sub_row := r.sub_row;
            sub_cursor := cur;
            return;
        end if;
        close cur;
        cur := null;
    end if;
    open cur for
        select sub as sub_row
          from pgq.subscription sub
         where sub.sub_queue = i_queue_id
           and sub.sub_consumer = i_consumer_id
           for update;
    fetch cur into r;
    if found then
        sub_row := r.sub_row;
        sub_cursor := cur;
    else
        close cur;
    end if;
end;
$$ language plpgsql set enable_seqscan = off;

-- ----------------------------------------------------------------------
-- Function: pgq._find_batch(2)                                (pgqpp)
--
--      Resolves an open batch: a light one (pgq.batch, only while it is
--      still its consumer's open one), else PgQ's kind
--      (pgq.subscription.sub_batch).
--
-- Parameters:
--      i_batch_id  - the batch
--      i_lock      - lock the consumer's subscription row (FOR UPDATE)
--                    before deciding: for those who then change it
--
-- Returns:
--      queue_id, consumer_id, sub_id, prev_tick_id (the batch's start,
--      sub_last_tick), cur_tick_id (its end, sub_next_tick), is_light, and
--      sub_cursor (with i_lock: an open cursor standing on the locked
--      subscription row, for UPDATE ... WHERE CURRENT OF; the caller closes
--      it); all NULL if the batch is not open
-- ----------------------------------------------------------------------
-- (a development version of 3.6 returned the row's ctid instead of a
-- cursor; CREATE OR REPLACE cannot change OUT parameters)
do $$
begin
    if exists (select 1 from pg_catalog.pg_proc p
                where p.oid = pg_catalog.to_regprocedure('pgq._find_batch(bigint,boolean)')
                  and 'sub_ctid' = any (p.proargnames))
    then
        drop function pgq._find_batch(bigint, boolean);
    end if;
end;
$$;

create or replace function pgq._find_batch(
    in i_batch_id bigint, in i_lock boolean,
    out queue_id int4, out consumer_id int4, out sub_id int4,
    out prev_tick_id bigint, out cur_tick_id bigint,
    out is_light boolean, out sub_cursor refcursor)
as $$
declare
    b       record;
    r       record;
    s       pgq.subscription;
    cur     refcursor;
    is_open boolean := false;
begin
    -- A light batch first: pgq.batch is insert-only, so its lookup stays
    -- cheap, and it says where the subscription row probably is.
    select n.batch_queue, n.batch_consumer, n.batch_sub_ctid into b
      from pgq.batch n
     where n.batch_id = i_batch_id;
    if found then
        if i_lock then
            -- Lock first, then decide in a new statement: its snapshot sees
            -- whatever the previous holder of the lock committed (a batch
            -- finished, or a newer one opened).
            select l.sub_row, l.sub_cursor into r
              from pgq._lock_subscription(b.batch_queue, b.batch_consumer,
                                          b.batch_sub_ctid) l;
            cur := r.sub_cursor;
            if cur is not null then
                s := r.sub_row;
                is_open := pgq._light_batch_id(s) is not distinct from i_batch_id;
                if not is_open then
                    close cur;
                end if;
            end if;
        else
            -- the row and the newest batch in one statement (one snapshot)
            select sub as sub_row, pgq._light_batch_id(sub) as open_id into r
              from pgq.subscription sub
             where sub.ctid = b.batch_sub_ctid
               and sub.sub_queue = b.batch_queue
               and sub.sub_consumer = b.batch_consumer;
            if not found then
                -- the row moved since next_batch: by key
                select sub as sub_row, pgq._light_batch_id(sub) as open_id into r
                  from pgq.subscription sub
                 where sub.sub_queue = b.batch_queue
                   and sub.sub_consumer = b.batch_consumer;
            end if;
            if found then
                s := r.sub_row;
                is_open := r.open_id is not distinct from i_batch_id;
            end if;
        end if;
        if is_open then
            queue_id := s.sub_queue;
            consumer_id := s.sub_consumer;
            sub_id := s.sub_id;
            prev_tick_id := s.sub_last_tick;
            cur_tick_id := s.sub_next_tick;
            is_light := true;
            if i_lock then
                sub_cursor := cur;
            end if;
            return;
        end if;
        -- not (or no longer) open as a light batch; pgq_coop hands a batch
        -- of its main consumer on to a subconsumer's sub_batch
    end if;

    -- PgQ's kind
    if i_lock then
        open cur for
            select sub.sub_queue, sub.sub_consumer, sub.sub_id,
                   sub.sub_last_tick, sub.sub_next_tick
              from pgq.subscription sub
             where sub.sub_batch = i_batch_id
               for update;
        fetch cur into queue_id, consumer_id, sub_id, prev_tick_id, cur_tick_id;
        if found then
            sub_cursor := cur;
        else
            close cur;
        end if;
    else
        select sub.sub_queue, sub.sub_consumer, sub.sub_id,
               sub.sub_last_tick, sub.sub_next_tick
          into queue_id, consumer_id, sub_id, prev_tick_id, cur_tick_id
          from pgq.subscription sub
         where sub.sub_batch = i_batch_id;
    end if;
    if queue_id is not null then
        is_light := false;
    end if;
end;
$$ language plpgsql set enable_seqscan = off;
