-- ----------------------------------------------------------------------
-- Dead letters (pgqpp)
--
--      An event a consumer cannot process however often it is retried goes
--      to the dead-letter store (table pgq.dead_letter) instead of blocking
--      its consumer or being dropped silently:
--
--        consumer, inside its batch:    pgq.dead_letter_add(batch, ev_ids, reason)
--                                       (then pgq.finish_batch as always)
--        operator:                      pgq.dead_letter_list(queue, consumer, ...)
--                                       pgq.dead_letter_show(id)
--                                       pgq.dead_letter_requeue(ids)
--                                       pgq.dead_letter_purge(ids)
--                                       pgq.dead_letter_purge(queue, older_than)
--
--      A dead letter belongs to a queue and a consumer (by name: it outlives
--      the consumer's registration; for a cooperative subconsumer the main
--      consumer, so the whole group sees a requeued event).  Requeueing
--      sends the event back to that consumer only, through the retry queue
--      (ev_owner), never to the queue's other consumers.  Dropping a queue
--      drops its dead letters.
--
--      Roles: pgq_reader adds (for a batch it is processing) and lists;
--      pgq_admin requeues and purges.
-- ----------------------------------------------------------------------

-- ----------------------------------------------------------------------
-- Function: pgq.dead_letter_add(3)                            (pgqpp)
--
--      Moves events of an open batch to the dead-letter store, in one
--      statement (one scan of the batch however many events, as
--      pgq.event_retry_bulk).  Call it before pgq.finish_batch, in the same
--      transaction: the consumer then never sees these events again unless
--      an operator requeues them.
--
-- Parameters:
--      i_batch_id  - the open batch (of a consumer or a cooperative
--                    subconsumer)
--      i_event_ids - ids of events of that batch
--      i_reason    - why they died (kept for the operator)
--
-- Returns:
--      the number of events added; an event already dead in this batch
--      (a replayed batch) is not added twice
--
-- Errors:
--      'dead_letter_add: batch id, event ids and reason must not be NULL',
--      'dead_letter_add: event ids must not be NULL',
--      'dead_letter_add: batch <id> not found',
--      'dead_letter_add: <n> of <m> events are not in batch <id>'
--      (nothing is added then)
-- ----------------------------------------------------------------------
create or replace function pgq.dead_letter_add(
    i_batch_id bigint, i_event_ids bigint[], i_reason text)
returns integer as $$
declare
    info        record;
    owner       record;
    wanted      integer;
    matched     integer;
    added       integer;
begin
    if i_batch_id is null or i_event_ids is null or i_reason is null then
        raise exception 'dead_letter_add: batch id, event ids and reason must not be NULL';
    end if;
    if pg_catalog.array_position(i_event_ids, null) is not null then
        raise exception 'dead_letter_add: event ids must not be NULL';
    end if;
    -- the open batch, of either kind (pgq.get_batch_info knows them all)
    select i.queue_name, i.consumer_name into info
      from pgq.get_batch_info(i_batch_id) i;
    if info.consumer_name is null then
        raise exception 'dead_letter_add: batch % not found', i_batch_id;
    end if;
    select count(distinct id) into wanted from pg_catalog.unnest(i_event_ids) id;
    if wanted = 0 then
        return 0;
    end if;

    -- the queue, and the consumer to record: for a cooperative subconsumer
    -- ('<main>.<sub>', sharing the main consumer's sub_id) its main consumer
    select q.queue_id, coalesce(main.co_name, c.co_name) as consumer_name
      into owner
      from pgq.queue q
      join pgq.subscription s on s.sub_queue = q.queue_id
      join pgq.consumer c on c.co_id = s.sub_consumer
      left join lateral (
            select mc.co_name
              from pgq.subscription m
              join pgq.consumer mc on mc.co_id = m.sub_consumer
             where m.sub_queue = s.sub_queue
               and m.sub_id = s.sub_id
               and m.sub_consumer <> s.sub_consumer
               and pg_catalog.starts_with(c.co_name, mc.co_name || '.')
             order by pg_catalog.length(mc.co_name) desc
             limit 1) main on true
     where q.queue_name = info.queue_name
       and c.co_name = info.consumer_name;

    execute 'with ev as (select * from (' || pgq.batch_event_sql(i_batch_id) || ') b'
         || '             where b.ev_id = any ($1)),'
         || ' ins as (insert into pgq.dead_letter (dl_queue, dl_consumer, dl_reason,'
         || '   dl_batch_id, ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,'
         || '   ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
         || '  select distinct on (ev.ev_id) $2, $3, $4, $5, ev.ev_id, ev.ev_time,'
         || '   ev.ev_txid, ev.ev_retry, ev.ev_type, ev.ev_data,'
         || '   ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4'
         || '   from ev'
         || '  on conflict do nothing returning 1)'
         || ' select (select count(distinct ev_id) from ev), (select count(*) from ins)'
       into matched, added
      using i_event_ids, owner.queue_id, owner.consumer_name, i_reason, i_batch_id;
    if matched < wanted then
        raise exception 'dead_letter_add: % of % events are not in batch %',
                        wanted - matched, wanted, i_batch_id;
    end if;
    return added;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.dead_letter_list(4)                           (pgqpp)
--
--      Lists dead letters, newest first, a page at a time.
--
-- Parameters:
--      i_queue_name    - only this queue's (NULL: all queues)
--      i_consumer_name - only this consumer's (NULL: all consumers)
--      i_limit         - at most this many (default 100; NULL: all)
--      i_before_id     - the next page: only those with dl_id below this
--                        (the last dl_id of the previous page)
--
-- Returns:
--      dl_id, queue_name, consumer_name, dl_time (when it died), dl_reason,
--      dl_batch_id, and the event's ev_id, ev_time, ev_retry, ev_type,
--      ev_data (pgq.dead_letter_show has all its fields)
--
-- Errors:
--      'dead_letter_list: no such queue: <q>',
--      'dead_letter_list: limit must be positive, got <n>'
-- ----------------------------------------------------------------------
create or replace function pgq.dead_letter_list(
    in i_queue_name text default null, in i_consumer_name text default null,
    in i_limit integer default 100, in i_before_id bigint default null,
    out dl_id bigint, out queue_name text, out consumer_name text,
    out dl_time timestamptz, out dl_reason text, out dl_batch_id bigint,
    out ev_id bigint, out ev_time timestamptz, out ev_retry int4,
    out ev_type text, out ev_data text)
returns setof record as $$
declare
    q_id    int4;
begin
    if i_queue_name is not null then
        select q.queue_id into q_id from pgq.queue q where q.queue_name = i_queue_name;
        if not found then
            raise exception 'dead_letter_list: no such queue: %', i_queue_name;
        end if;
    end if;
    if i_limit <= 0 then
        raise exception 'dead_letter_list: limit must be positive, got %', i_limit;
    end if;
    return query
        select d.dl_id, q.queue_name, d.dl_consumer, d.dl_time, d.dl_reason, d.dl_batch_id,
               d.ev_id, d.ev_time, d.ev_retry, d.ev_type, d.ev_data
          from pgq.dead_letter d
          join pgq.queue q on q.queue_id = d.dl_queue
         where (q_id is null or d.dl_queue = q_id)
           and (i_consumer_name is null or d.dl_consumer = i_consumer_name)
           and (i_before_id is null or d.dl_id < i_before_id)
         order by d.dl_id desc
         limit i_limit;
end;
$$ language plpgsql stable set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.dead_letter_show(1)                           (pgqpp)
--
--      One dead letter with every field of its event.
--
-- Returns:
--      dl_id, queue_name, consumer_name, dl_time, dl_reason, dl_batch_id,
--      ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
--      ev_extra1, ev_extra2, ev_extra3, ev_extra4
--
-- Errors:
--      'dead_letter_show: dead letter <id> not found'
-- ----------------------------------------------------------------------
create or replace function pgq.dead_letter_show(
    in i_dl_id bigint,
    out dl_id bigint, out queue_name text, out consumer_name text,
    out dl_time timestamptz, out dl_reason text, out dl_batch_id bigint,
    out ev_id bigint, out ev_time timestamptz, out ev_txid bigint, out ev_retry int4,
    out ev_type text, out ev_data text,
    out ev_extra1 text, out ev_extra2 text, out ev_extra3 text, out ev_extra4 text)
as $$
begin
    select d.dl_id, q.queue_name, d.dl_consumer, d.dl_time, d.dl_reason, d.dl_batch_id,
           d.ev_id, d.ev_time, d.ev_txid, d.ev_retry, d.ev_type, d.ev_data,
           d.ev_extra1, d.ev_extra2, d.ev_extra3, d.ev_extra4
      into dl_id, queue_name, consumer_name, dl_time, dl_reason, dl_batch_id,
           ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
           ev_extra1, ev_extra2, ev_extra3, ev_extra4
      from pgq.dead_letter d
      join pgq.queue q on q.queue_id = d.dl_queue
     where d.dl_id = i_dl_id;
    if not found then
        raise exception 'dead_letter_show: dead letter % not found', coalesce(i_dl_id::text, 'NULL');
    end if;
end;
$$ language plpgsql stable set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq._lock_dead_letters(2)                         (pgqpp)
--
--      Locks the given dead letters for a requeue or purge (a concurrent
--      one of the same letters waits), after checking that every id is one.
--
-- Errors (prefixed with i_caller):
--      '<caller>: dead letter ids must not be NULL',
--      '<caller>: no such dead letter: <ids>'
-- ----------------------------------------------------------------------
create or replace function pgq._lock_dead_letters(i_dl_ids bigint[], i_caller text)
returns void as $$
declare
    missing     text;
begin
    if i_dl_ids is null or pg_catalog.array_position(i_dl_ids, null) is not null then
        raise exception '%: dead letter ids must not be NULL', i_caller;
    end if;
    perform 1 from pgq.dead_letter d where d.dl_id = any (i_dl_ids) for update;
    select pg_catalog.string_agg(id::text, ', ' order by id) into missing
      from (select distinct x.id from pg_catalog.unnest(i_dl_ids) x(id)) ids
     where not exists (select 1 from pgq.dead_letter d where d.dl_id = ids.id);
    if missing is not null then
        raise exception '%: no such dead letter: %', i_caller, missing;
    end if;
end;
$$ language plpgsql set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.dead_letter_requeue(2)                        (pgqpp)
--
--      Sends dead letters back to their consumer: each event goes into the
--      retry queue of the consumer that gave up on it (ev_owner), with its
--      ev_id, ev_time, payload, and ev_retry one more than when it died,
--      and the dead letter is removed.  pgq.maint_retry_events() (the
--      ticker daemon's retry job; pgqd runs it every retry_period, 30 s)
--      moves it into the queue when it is due, and that consumer alone
--      (for a cooperative group: the group) gets it in a later batch.
--      Either all the given dead letters are requeued or none.
--
-- Parameters:
--      i_dl_ids        - the dead letters
--      i_retry_after   - when they are due (default, or NULL: now)
--
-- Returns:
--      the number of dead letters requeued (an event already waiting in
--      that consumer's retry queue is not queued twice, but its dead
--      letter is removed and counted)
--
-- Errors:
--      'dead_letter_requeue: dead letter ids must not be NULL',
--      'dead_letter_requeue: no such dead letter: <ids>',
--      'dead_letter_requeue: consumer <c> is not registered on queue <q>
--      (dead letter <id>)'
-- ----------------------------------------------------------------------
create or replace function pgq.dead_letter_requeue(
    i_dl_ids bigint[], i_retry_after timestamptz default null)
returns integer as $$
declare
    orphan      record;
    n           integer;
begin
    perform pgq._lock_dead_letters(i_dl_ids, 'dead_letter_requeue');
    select d.dl_id, d.dl_consumer, q.queue_name into orphan
      from pgq.dead_letter d
      join pgq.queue q on q.queue_id = d.dl_queue
     where d.dl_id = any (i_dl_ids)
       and not exists (select 1 from pgq.subscription s
                         join pgq.consumer c on c.co_id = s.sub_consumer
                        where s.sub_queue = d.dl_queue
                          and c.co_name = d.dl_consumer)
     order by d.dl_id
     limit 1;
    if found then
        raise exception 'dead_letter_requeue: consumer % is not registered on queue % (dead letter %)',
                        orphan.dl_consumer, orphan.queue_name, orphan.dl_id;
    end if;

    with dl as (
        delete from pgq.dead_letter d
         where d.dl_id = any (i_dl_ids)
        returning d.*
    ), ins as (
        insert into pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid,
                                     ev_owner, ev_retry, ev_type, ev_data,
                                     ev_extra1, ev_extra2, ev_extra3, ev_extra4)
        select distinct on (s.sub_id, dl.ev_id)
               coalesce(i_retry_after, pg_catalog.now()), dl.dl_queue, dl.ev_id, dl.ev_time,
               null, s.sub_id, coalesce(dl.ev_retry, 0) + 1, dl.ev_type, dl.ev_data,
               dl.ev_extra1, dl.ev_extra2, dl.ev_extra3, dl.ev_extra4
          from dl
          join pgq.consumer c on c.co_name = dl.dl_consumer
          join pgq.subscription s on s.sub_queue = dl.dl_queue and s.sub_consumer = c.co_id
         order by s.sub_id, dl.ev_id, dl.dl_id desc
        on conflict do nothing
        returning 1
    )
    select count(*) into n from dl;
    return n;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.dead_letter_purge(1)                          (pgqpp)
--
--      Deletes dead letters for good.  Either all the given ones or none.
--
-- Returns:
--      the number deleted
--
-- Errors:
--      'dead_letter_purge: dead letter ids must not be NULL',
--      'dead_letter_purge: no such dead letter: <ids>'
-- ----------------------------------------------------------------------
create or replace function pgq.dead_letter_purge(i_dl_ids bigint[])
returns integer as $$
declare
    n           integer;
begin
    perform pgq._lock_dead_letters(i_dl_ids, 'dead_letter_purge');
    delete from pgq.dead_letter d where d.dl_id = any (i_dl_ids);
    get diagnostics n = row_count;
    return n;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.dead_letter_purge(2)                          (pgqpp)
--
--      Deletes the dead letters older than an interval.
--
-- Parameters:
--      i_queue_name    - only this queue's (NULL: all queues)
--      i_older_than    - those that died longer ago than this (0: all)
--
-- Returns:
--      the number deleted
--
-- Errors:
--      'dead_letter_purge: no such queue: <q>',
--      'dead_letter_purge: the age must not be NULL or negative'
-- ----------------------------------------------------------------------
create or replace function pgq.dead_letter_purge(i_queue_name text, i_older_than interval)
returns integer as $$
declare
    q_id    int4;
    n       integer;
begin
    if i_older_than is null or i_older_than < '0'::interval then
        raise exception 'dead_letter_purge: the age must not be NULL or negative';
    end if;
    if i_queue_name is not null then
        select q.queue_id into q_id from pgq.queue q where q.queue_name = i_queue_name;
        if not found then
            raise exception 'dead_letter_purge: no such queue: %', i_queue_name;
        end if;
    end if;
    delete from pgq.dead_letter d
     where (q_id is null or d.dl_queue = q_id)
       and d.dl_time <= pg_catalog.now() - i_older_than;
    get diagnostics n = row_count;
    return n;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
