-- ----------------------------------------------------------------------
-- Function: pgq.ticker(1)
--
--      Ticks one queue if it is time: when ticker_max_count new events
--      exist or the last tick is ticker_max_lag old (and there are events);
--      on an idle queue the interval doubles up to ticker_idle_period.
--
--      Unlike PgQ, concurrent tickers are safe: a per-queue advisory lock,
--      taken in a statement before the tick is read and inserted, makes the
--      second ticker wait and then see the first one's tick (each statement
--      of a READ COMMITTED function takes a fresh snapshot).  Tick snapshots
--      therefore grow with tick ids, which batches depend on.
--
--      Each tick also sends NOTIFY on channel 'pgq_tick' with the queue name
--      as payload, so consumers can wait for work instead of polling.
--
-- Returns:
--      the new tick id, or NULL if no tick was needed
--
-- Errors:
--      'no such queue', 'This queue has external tick source.',
--      'Ticker has been paused for this queue', 'Invalid PgQ state: ...',
--      'pgq.ticker() needs READ COMMITTED isolation ...'
-- ----------------------------------------------------------------------
create or replace function pgq.ticker(i_queue_name text)
returns bigint as $$
declare
    q           record;
    last        record;
    prev_gap    interval;
    cur_txid    bigint;
    new_events  bigint;
    new_tick    bigint;
begin
    if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'pgq.ticker() needs READ COMMITTED isolation, not %: its snapshot must be taken after the ticker lock',
                        current_setting('transaction_isolation');
    end if;

    select queue_id into q from pgq.queue where queue_name = i_queue_name;
    if not found then
        raise exception 'no such queue';
    end if;
    perform pg_advisory_xact_lock(pg_catalog.hashtext('pgq.ticker'), q.queue_id);

    -- re-read everything after the lock, in a new snapshot
    select qt.queue_id, qt.queue_tick_seq, qt.queue_external_ticker,
           qt.queue_ticker_paused, qt.queue_ticker_max_count,
           qt.queue_ticker_max_lag, qt.queue_ticker_idle_period,
           pgq.seq_getval(qt.queue_event_seq) as event_seq
      into q
      from pgq.queue qt
     where qt.queue_name = i_queue_name;
    if not found then
        raise exception 'no such queue';
    end if;
    if q.queue_external_ticker then
        raise exception 'This queue has external tick source.';
    end if;
    if q.queue_ticker_paused then
        raise exception 'Ticker has been paused for this queue';
    end if;

    select t.tick_id, t.tick_time, now() - t.tick_time as lag,
           txid_snapshot_xmin(t.tick_snapshot) as sxmin,
           txid_snapshot_xmax(t.tick_snapshot) as sxmax,
           t.tick_event_seq
      into last
      from pgq.tick t
     where t.tick_queue = q.queue_id
     order by t.tick_queue desc, t.tick_id desc
     limit 1;

    if found then
        cur_txid := txid_current();
        if last.sxmin > cur_txid then
            raise exception 'Invalid PgQ state: old xmin=%, old xmax=%, cur txid=%',
                            last.sxmin, last.sxmax, cur_txid
                  using hint = 'The transaction ids are below the newest tick''s: was the database '
                               'restored into another cluster? Raise that cluster''s txid epoch '
                               '(pg_resetwal -e), see pgqpp''s docs/operations.md.';
        end if;
        new_events := q.event_seq - last.tick_event_seq;
        if new_events < 0 then
            raise warning 'Negative new_events?  old=% cur=%', last.tick_event_seq, q.event_seq;
        end if;
        if last.sxmax > cur_txid then
            raise warning 'Dubious PgQ state: old xmax=%, cur txid=%', last.sxmax, cur_txid;
        end if;

        if new_events > 0 then
            if new_events < q.queue_ticker_max_count
               and last.lag < q.queue_ticker_max_lag
            then
                return null;
            end if;
        else
            -- idle: back off, doubling the gap up to the idle period
            select last.tick_time - t.tick_time
              into prev_gap
              from pgq.tick t
             where t.tick_queue = q.queue_id
               and t.tick_id < last.tick_id
             order by t.tick_queue desc, t.tick_id desc
             limit 1;
            if found and (last.lag < q.queue_ticker_max_lag / 2
                          or (last.lag < prev_gap * 2
                              and last.lag < q.queue_ticker_idle_period))
            then
                return null;
            end if;
        end if;
    end if;

    -- time and snapshot come from the column defaults, taken now: after the lock
    insert into pgq.tick (tick_queue, tick_id, tick_event_seq)
    values (q.queue_id, nextval(q.queue_tick_seq::regclass), q.event_seq)
    returning tick_id into new_tick;

    perform pg_notify('pgq_tick', i_queue_name);
    return new_tick;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.ticker(0)
--
--      Ticks every queue that has its own ticker and is not paused.
--
-- Returns:
--      the number of queues that got a new tick
-- ----------------------------------------------------------------------
create or replace function pgq.ticker()
returns bigint as $$
declare
    qname   text;
    ticked  bigint := 0;
begin
    for qname in
        select queue_name from pgq.queue
         where not queue_external_ticker
           and not queue_ticker_paused
         order by queue_name
    loop
        if pgq.ticker(qname) > 0 then
            ticked := ticked + 1;
        end if;
    end loop;
    return ticked;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq.ticker(4)
--
--      External ticker (cascading): inserts a tick with the given id, time
--      and event sequence position, for a queue whose ticks come from
--      elsewhere.  Moves the local sequences forward to match.
--
--      pgqpp: a tick id below the queue's newest one is refused.  Its
--      snapshot (taken now) would be newer than that of a higher id, and
--      batches go by id: PgQ accepts it and then delivers events twice.
--      The id is checked after the insert, so a duplicate id still fails
--      on tick_pkey as in PgQ.
--
-- Errors:
--      'queue not found or ticker disabled: <queue>'
--      'tick id <id> of queue <queue> is below its newest tick <id>: tick ids must grow'
-- ----------------------------------------------------------------------
create or replace function pgq.ticker(
    i_queue_name text, i_tick_id bigint,
    i_orig_timestamp timestamptz, i_event_seq bigint)
returns bigint as $$
declare
    q       record;
    newest  bigint;
begin
    select queue_id, queue_tick_seq, queue_event_seq
      into q
      from pgq.queue
     where queue_name = i_queue_name
       and queue_external_ticker
       and not queue_ticker_paused;
    if not found then
        raise exception 'queue not found or ticker disabled: %', i_queue_name;
    end if;

    insert into pgq.tick (tick_queue, tick_id, tick_time, tick_event_seq)
    values (q.queue_id, i_tick_id, i_orig_timestamp, i_event_seq);
    select t.tick_id into newest
      from pgq.tick t
     where t.tick_queue = q.queue_id
     order by t.tick_queue desc, t.tick_id desc
     limit 1;
    if newest > i_tick_id then
        raise exception 'tick id % of queue % is below its newest tick %: tick ids must grow',
                        i_tick_id, i_queue_name, newest;
    end if;

    perform pgq.seq_setval(q.queue_tick_seq, i_tick_id);
    perform pgq.seq_setval(q.queue_event_seq, i_event_seq);

    perform pg_notify('pgq_tick', i_queue_name);
    return i_tick_id;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
