-- The ticker: pgq.ticker(queue) thresholds (max_count, max_lag, idle
-- back-off), pgq.ticker() over all queues, the external 4-argument ticker,
-- pgq.force_tick, paused and external queues, and the sanity checks.
-- Tick times are moved into the past with UPDATE instead of sleeping.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('tq');
select pgq.set_queue_config('tq', 'ticker_max_count', '3');
select pgq.set_queue_config('tq', 'ticker_max_lag', '1 hour');
select pgq.set_queue_config('tq', 'ticker_idle_period', '2 hours');

-- errors
select pgq.ticker('nosuchqueue');
select pgq.ticker(null::text);

-- a queue with a single tick and no events ticks (nothing to back off from)
select pgq.ticker('tq');
-- no events, last tick fresh: no tick
select pgq.ticker('tq');

-- fewer than max_count new events and lag < max_lag: wait.  New events
-- are counted from the sequence's last_value, which is 1 before the
-- first nextval too: 3 events count as 2.
select pgq.insert_event('tq', 'ev', '1');
select pgq.insert_event('tq', 'ev', '2');
select pgq.ticker('tq');
select pgq.insert_event('tq', 'ev', '3');
select pgq.ticker('tq');
-- max_count reached: tick
select pgq.insert_event('tq', 'ev', '4');
select pgq.ticker('tq');
select tick_id, tick_event_seq from pgq.tick where tick_queue = 1 order by tick_id;

-- one new event, but the last tick is max_lag old: tick
select pgq.insert_event('tq', 'ev', '5');
select pgq.ticker('tq');
update pgq.tick set tick_time = now() - interval '2 hours' where tick_queue = 1 and tick_id = 3;
select pgq.ticker('tq');

-- the sequence is only a hint: rolled back inserts count as new events
begin;
select pgq.insert_event('tq', 'ev', 'rolled back');
select pgq.insert_event('tq', 'ev', 'rolled back');
select pgq.insert_event('tq', 'ev', 'rolled back');
rollback;
select pgq.ticker('tq');
select tick_id, tick_event_seq from pgq.tick where tick_queue = 1 order by tick_id;

-- idle back-off: with no new events the gap between ticks doubles, from
-- max_lag/2 up to idle_period
select pgq.set_queue_config('tq', 'ticker_max_lag', '10 seconds');
select pgq.set_queue_config('tq', 'ticker_idle_period', '1 minute');
-- last tick 3 s old: less than max_lag/2
update pgq.tick set tick_time = now() - case tick_id when 4 then interval '100 seconds'
                                                      else interval '3 seconds' end
 where tick_queue = 1 and tick_id in (4, 5);
select pgq.ticker('tq');
-- last tick 9 s old, previous gap 4 s: 9 >= 2 * 4, tick
update pgq.tick set tick_time = now() - case tick_id when 4 then interval '13 seconds'
                                                      else interval '9 seconds' end
 where tick_queue = 1 and tick_id in (4, 5);
select pgq.ticker('tq');
-- last tick 30 s old, previous gap 20 s: 30 < 2 * 20, wait
update pgq.tick set tick_time = now() - case tick_id when 5 then interval '50 seconds'
                                                      else interval '30 seconds' end
 where tick_queue = 1 and tick_id in (5, 6);
select pgq.ticker('tq');
-- last tick 45 s old, previous gap 20 s: 45 >= 2 * 20, tick
update pgq.tick set tick_time = now() - case tick_id when 5 then interval '65 seconds'
                                                      else interval '45 seconds' end
 where tick_queue = 1 and tick_id in (5, 6);
select pgq.ticker('tq');
-- last tick 61 s old, previous gap 59 s: 61 < 2 * 59, but the idle period
-- is reached: tick
update pgq.tick set tick_time = now() - case tick_id when 6 then interval '120 seconds'
                                                      else interval '61 seconds' end
 where tick_queue = 1 and tick_id in (6, 7);
select pgq.ticker('tq');
select tick_id, tick_event_seq from pgq.tick where tick_queue = 1 order by tick_id;

-- pgq.ticker(): every queue that is neither paused nor external; returns
-- the number of queues that got a tick
select pgq.create_queue('tq2');
select pgq.create_queue('tq3');
select pgq.create_queue('tq4');
select pgq.set_queue_config('tq3', 'ticker_paused', 'true');
select pgq.set_queue_config('tq4', 'external_ticker', 'true');
-- (long max_lag: a slow machine must not make the fresh ticks look old)
select pgq.set_queue_config('tq', 'ticker_max_lag', '1 hour');
select pgq.set_queue_config('tq2', 'ticker_max_lag', '1 hour');
select pgq.ticker();
select pgq.ticker();
select q.queue_name, count(t.tick_id) as ticks, max(t.tick_id) as last_tick
  from pgq.queue q left join pgq.tick t on t.tick_queue = q.queue_id
 group by 1 order by 1;

-- paused and external queues refuse pgq.ticker(queue)
select pgq.ticker('tq3');
select pgq.ticker('tq4');

-- force_tick: moves the event sequence so that the next ticker() ticks;
-- returns the current last tick, does not tick itself
select pgq.insert_event('tq2', 'x', 'x');
select pgq.insert_event('tq2', 'x', 'x');
select pgq.insert_event('tq2', 'x', 'x');
select pgq.insert_event('tq2', 'x', 'x');
select pgq.force_tick('tq2');
select pgq.seq_getval(queue_event_seq) from pgq.queue where queue_name = 'tq2';
select pgq.insert_event('tq2', 'x', 'x');
select pgq.ticker('tq2');
select pgq.force_tick('tq2');
select pgq.seq_getval(queue_event_seq) from pgq.queue where queue_name = 'tq2';
select pgq.force_tick('tq3');
select pgq.force_tick('tq4');
select pgq.force_tick('nosuchqueue');
select pgq.force_tick(null);

-- the external ticker: ticks with the given id, time and event position;
-- the local sequences are moved forward, never back
select pgq.ticker('tq4', 10, '2020-01-01 00:00:00+00', 500);
select pgq.ticker('tq4', 11, '2020-01-01 00:00:01+00', 400);
select tick_id, tick_time, tick_event_seq, tick_snapshot is not null as has_snapshot
  from pgq.tick where tick_queue = 4 and tick_id > 1 order by tick_id;
select pgq.seq_getval(queue_tick_seq) as tick_seq, pgq.seq_getval(queue_event_seq) as event_seq
  from pgq.queue where queue_name = 'tq4';
select pgq.ticker('tq4', 10, now(), 1);
select pgq.ticker('tq2', 20, now(), 1);
select pgq.ticker('nosuchqueue', 20, now(), 1);
select pgq.set_queue_config('tq4', 'ticker_paused', 'true');
select pgq.ticker('tq4', 20, now(), 1);
select pgq.set_queue_config('tq4', 'ticker_paused', 'false');
select pgq.ticker('tq4', 21, '2020-01-01 00:00:02+00', 600);
select tick_id, tick_event_seq from pgq.tick where tick_queue = 4 order by tick_id;

-- sanity checks
-- the sequence behind the last tick: warning, then the idle rules apply
update pgq.tick set tick_event_seq = tick_event_seq + 100000
 where tick_queue = 2 and tick_id = (select max(tick_id) from pgq.tick where tick_queue = 2);
select pgq.ticker('tq2');
select pgq.ticker('tq2');
-- messages with txids in them: only their SQLSTATE is shown
\set VERBOSITY sqlstate
-- last tick's xmax in the future: warning, tick anyway
update pgq.tick set tick_time = now() - interval '1 day', tick_event_seq = 4007,
       tick_snapshot = (txid_current() || ':' || txid_current() + 1000000 || ':')::txid_snapshot
 where tick_queue = 2 and tick_id = (select max(tick_id) from pgq.tick where tick_queue = 2);
select pgq.ticker('tq2') is not null as ticked;
-- last tick's xmin in the future: error
update pgq.tick set tick_snapshot = (txid_current() + 1000000 || ':' || txid_current() + 1000000 || ':')::txid_snapshot
 where tick_queue = 2 and tick_id = (select max(tick_id) from pgq.tick where tick_queue = 2);
select pgq.ticker('tq2');
\set VERBOSITY terse
do $$
begin
    perform pgq.ticker('tq2');
exception when others then
    raise warning '%', regexp_replace(sqlerrm, '=[0-9]+', '=N', 'g');
end $$;
