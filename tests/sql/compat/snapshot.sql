-- Snapshot semantics: a batch holds exactly the transactions that committed
-- between its two ticks.  Rolled back events never appear, every committed
-- event arrives exactly once, in ev_id order within its batch.  The last
-- part edits tick snapshots to play transactions that were still running
-- at the previous tick (one session cannot run two transactions at once).
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('sq');
select pgq.set_queue_config('sq', 'ticker_max_lag', '0');
select pgq.set_queue_config('sq', 'ticker_idle_period', '0');
select pgq.register_consumer('sq', 'c');

-- consume every available batch into this table
create table consumed (batch_id bigint, pos bigint, ev_id bigint, ev_retry int, ev_data text);
create function consume(q text, c text) returns integer as $$
declare
    b bigint;
    n integer := 0;
begin
    loop
        b := pgq.next_batch(q, c);
        exit when b is null;
        insert into consumed
        select b, row_number() over (), e.ev_id, e.ev_retry, e.ev_data
          from pgq.get_batch_events(b) e;
        perform pgq.finish_batch(b);
        n := n + 1;
    end loop;
    return n;
end;
$$ language plpgsql;

-- rolled back: never delivered
begin;
select pgq.insert_event('sq', 'ev', 'rolled back 1');
rollback;
select pgq.insert_event('sq', 'ev', 'c1');
-- a savepoint rolled back inside a committed transaction
begin;
select pgq.insert_event('sq', 'ev', 'c2');
savepoint s;
select pgq.insert_event('sq', 'ev', 'rolled back 2');
rollback to s;
select pgq.insert_event('sq', 'ev', 'c3');
commit;
-- an error ends the transaction: nothing of it survives
begin;
select pgq.insert_event('sq', 'ev', 'rolled back 3');
select 1 / 0;
commit;
select pgq.ticker('sq');
-- a tick in the inserting transaction: the events are delivered once (in
-- this batch or the next one: that depends on other transactions of the
-- cluster, so only the events are shown below, not their batches)
begin;
select pgq.insert_event('sq', 'ev', 'same tx as tick');
select pgq.ticker('sq');
commit;
-- a rolled back tick: the events go into the next one
select pgq.insert_event('sq', 'ev', 'before rolled back tick');
begin;
select pgq.ticker('sq');
rollback;
begin;
select pgq.insert_event('sq', 'ev', 'rolled back 4');
select pgq.ticker('sq');
rollback;
select pgq.ticker('sq');
select consume('sq', 'c') between 2 and 3 as batches;
select ev_id, ev_data, count(*) as times from consumed group by 1, 2 order by 1;

-- several transactions between ticks, ids given out of order
truncate consumed;
do $$
begin
    for i in 1 .. 5 loop
        perform pgq.insert_event('sq', 'ev', 'round ' || i || ' a');
    end loop;
end $$;
select pgq.insert_event_raw('sq', 2, now(), null, null, 'ev', 'explicit id 2', null, null, null, null);
select pgq.insert_event('sq', 'ev', 'round b');
select pgq.ticker('sq');
select pgq.insert_event('sq', 'ev', 'round c ' || i) from generate_series(1, 3) i;
select pgq.insert_event_raw('sq', 1000, now(), null, null, 'ev', 'explicit id 1000', null, null, null, null);
select pgq.insert_event('sq', 'ev', 'round d');
select pgq.ticker('sq');
select pgq.ticker('sq');
select pgq.insert_event('sq', 'ev', 'round e');
select pgq.ticker('sq');
select consume('sq', 'c');
select dense_rank() over (order by batch_id) as batch, pos, ev_id, ev_data
  from consumed order by batch_id, pos;
-- once each, in ev_id order within every batch
select count(*) = count(distinct ev_data) as once from consumed;
select bool_and(ordered) as ev_id_order from (
    select ev_id >= lag(ev_id, 1, 0::bigint) over (partition by batch_id order by pos) as ordered
      from consumed) x;
-- a consumer registered later sees none of it
select pgq.register_consumer('sq', 'late');
select pgq.ticker('sq');
select count(*) from consumed;
select consume('sq', 'late');
select count(*) from consumed;

-- Played with edited snapshots.  Each case: one event in its own
-- transaction (txid a), then a tick; the previous tick's snapshot is then
-- rewritten.
select pgq.create_queue('craft');
select pgq.set_queue_config('craft', 'ticker_max_lag', '0');
select pgq.set_queue_config('craft', 'ticker_idle_period', '0');
select pgq.register_consumer('craft', 'c');
create function prev_tick_snapshot(q text, c text, snap text) returns void as $$
    update pgq.tick t set tick_snapshot = snap::txid_snapshot
      from pgq.subscription s, pgq.consumer co, pgq.queue qu
     where qu.queue_name = q and co.co_name = c
       and s.sub_queue = qu.queue_id and s.sub_consumer = co.co_id
       and t.tick_queue = s.sub_queue and t.tick_id = s.sub_last_tick;
$$ language sql;
create function txid_of(q text, data text) returns bigint as $$
    select ev_txid from pgq.event_template where ev_data = data;
$$ language sql;
truncate consumed;

-- 1. running at the previous tick, far below its xmax: found by the IN list
select pgq.insert_event('craft', 'ev', 'case 1');
select pgq.ticker('craft');
select prev_tick_snapshot('craft', 'c', txid_of('craft', 'case 1') || ':'
       || (txid_of('craft', 'case 1') + 500) || ':' || txid_of('craft', 'case 1'));
select consume('craft', 'c');
-- 2. running at the previous tick, close below its xmax: found by the range scan
select pgq.insert_event('craft', 'ev', 'case 2');
select pgq.ticker('craft');
select prev_tick_snapshot('craft', 'c', txid_of('craft', 'case 2') || ':'
       || (txid_of('craft', 'case 2') + 50) || ':' || txid_of('craft', 'case 2'));
select consume('craft', 'c');
-- 3. already visible in the previous tick: not in this batch
select pgq.insert_event('craft', 'ev', 'case 3');
select pgq.ticker('craft');
select prev_tick_snapshot('craft', 'c', (txid_of('craft', 'case 3') + 1) || ':'
       || (txid_of('craft', 'case 3') + 1) || ':');
select consume('craft', 'c');
-- 4. both an old running transaction and a new one
select pgq.insert_event('craft', 'ev', 'case 4 old');
select pgq.insert_event('craft', 'ev', 'case 4 new');
select pgq.ticker('craft');
select prev_tick_snapshot('craft', 'c', txid_of('craft', 'case 4 old') || ':'
       || txid_of('craft', 'case 4 new') || ':' || txid_of('craft', 'case 4 old'));
select consume('craft', 'c');
select dense_rank() over (order by batch_id) as batch, pos, ev_data
  from consumed order by batch_id, pos;

-- 5. started after the previous tick and still running at the current one
-- (committed by the time the batch is read): not in this batch, in the next
create function cur_tick_snapshot(q text, snap text) returns void as $$
    update pgq.tick t set tick_snapshot = snap::txid_snapshot
      from pgq.queue qu
     where qu.queue_name = q and t.tick_queue = qu.queue_id
       and t.tick_id = (select max(tick_id) from pgq.tick where tick_queue = qu.queue_id);
$$ language sql;
truncate consumed;
select pgq.insert_event('craft', 'ev', 'case 5');
select pgq.ticker('craft');
select cur_tick_snapshot('craft', txid_of('craft', 'case 5') || ':'
       || (txid_of('craft', 'case 5') + 1) || ':' || txid_of('craft', 'case 5'));
select consume('craft', 'c');
select count(*) as case_5_early from consumed;
select pgq.ticker('craft');
select consume('craft', 'c');
select ev_data from consumed;
