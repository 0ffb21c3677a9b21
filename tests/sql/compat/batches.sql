-- Batches: next_batch, next_batch_info, next_batch_custom (min_lag,
-- min_count, min_interval), find_tick_helper, get_batch_events,
-- batch_event_sql, batch_event_tables, finish_batch, get_batch_info.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('bq');
-- tick whenever asked
select pgq.set_queue_config('bq', 'ticker_max_lag', '0');
select pgq.set_queue_config('bq', 'ticker_idle_period', '0');
select pgq.register_consumer('bq', 'c1');

-- nothing after the registration tick: no batch, all columns NULL
select pgq.next_batch('bq', 'c1');
select * from pgq.next_batch_info('bq', 'c1');
select * from pgq.next_batch_custom('bq', 'c1', null, null, null);

-- errors
select pgq.next_batch('bq', 'nobody');
select pgq.next_batch('nosuchqueue', 'c1');
select pgq.next_batch(null, 'c1');
select pgq.next_batch('bq', null);
select pgq.next_batch(null, null);
select * from pgq.next_batch_info('nosuchqueue', 'c1');
select * from pgq.next_batch_custom('bq', 'nobody', null, 1, null);

select pgq.insert_event('bq', 'ev', 'a');
select pgq.insert_event('bq', 'ev', 'b', 'x1', 'x2', 'x3', 'x4');
select pgq.ticker('bq');

-- a batch; asking again before finish_batch returns the same batch
select pgq.next_batch('bq', 'c1');
select pgq.next_batch('bq', 'c1');
select batch_id, cur_tick_id, prev_tick_id, cur_tick_time >= prev_tick_time as time_ok,
       cur_tick_event_seq, prev_tick_event_seq
  from pgq.next_batch_info('bq', 'c1');
select batch_id, cur_tick_id, prev_tick_id
  from pgq.next_batch_custom('bq', 'c1', '1 year', 1000, '1 year');
select ev_id, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4,
       ev_txid > 0 as has_txid, ev_time <= now() as time_ok
  from pgq.get_batch_events(1);
select right(pgq.batch_event_sql(1), 11) = ' order by 1' as order_suffix;
select * from pgq.batch_event_tables(1);
select queue_name, consumer_name, prev_tick_id, tick_id, seq_start, seq_end,
       batch_end >= batch_start as time_ok, lag >= '0' as lag_ok
  from pgq.get_batch_info(1);
select queue_name, consumer_name, current_batch, last_tick, next_tick
  from pgq.get_consumer_info('bq', 'c1');

-- finishing: 1, then a warning and 0
select pgq.finish_batch(1);
select pgq.finish_batch(1);
select pgq.finish_batch(12345);
select pgq.finish_batch(null);
select queue_name, consumer_name, current_batch, last_tick, next_tick
  from pgq.get_consumer_info('bq', 'c1');

-- finished or unknown batches are gone for every batch function
select * from pgq.get_batch_events(1);
select pgq.batch_event_sql(1);
select * from pgq.batch_event_tables(1);
select * from pgq.get_batch_info(1);
select * from pgq.get_batch_info(null);
select * from pgq.get_batch_events(null);
select pgq.batch_event_sql(null);
select * from pgq.batch_event_tables(null);

-- caught up
select pgq.next_batch('bq', 'c1');

-- an empty batch (a tick without events) must be finished too
select pgq.ticker('bq');
select pgq.next_batch('bq', 'c1');
select count(*) from pgq.get_batch_events(2);
select pgq.finish_batch(2);

-- several ticks: each batch covers one tick interval
select pgq.insert_event('bq', 'ev', 'c');
select pgq.ticker('bq');
select pgq.insert_event('bq', 'ev', 'd');
select pgq.insert_event('bq', 'ev', 'e');
select pgq.ticker('bq');
select pgq.next_batch('bq', 'c1');
select ev_id, ev_data from pgq.get_batch_events(3);
select pgq.finish_batch(3);
select pgq.next_batch('bq', 'c1');
select ev_id, ev_data from pgq.get_batch_events(4);
select pgq.finish_batch(4);
select pgq.next_batch('bq', 'c1');

-- min_lag: a tick younger than min_lag does not make a batch
select pgq.insert_event('bq', 'ev', 'f');
select pgq.ticker('bq');
select * from pgq.next_batch_custom('bq', 'c1', '1 hour', null, null);
update pgq.tick set tick_time = now() - interval '2 hours'
 where tick_queue = 1 and tick_id = (select max(tick_id) from pgq.tick where tick_queue = 1);
select batch_id, cur_tick_id, prev_tick_id
  from pgq.next_batch_custom('bq', 'c1', '1 hour', null, null);
select ev_id, ev_data from pgq.get_batch_events(5);
select pgq.finish_batch(5);

-- min_count / min_interval: several ticks make one batch.  Ticks are
-- made with known event positions and times through the external ticker.
select pgq.set_queue_config('bq', 'external_ticker', 'true');
select pgq.ticker('bq', 8, '2020-01-01 00:00:00+00', 100);
select pgq.register_consumer_at('bq', 'c2', 8);
select pgq.ticker('bq', 9, '2020-01-01 00:00:10+00', 102);
select pgq.ticker('bq', 10, '2020-01-01 00:00:20+00', 105);
select pgq.ticker('bq', 11, '2020-01-01 00:01:00+00', 120);
select pgq.ticker('bq', 12, '2020-01-01 00:10:00+00', 121);

-- find_tick_helper(queue, prev tick, prev time, prev seq, min_count, min_interval)
-- the newest tick overshoots by more than 2x: the first tick that qualifies
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, 4, null);
-- the newest tick qualifies and is within 2x
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, 15, null);
-- the newest tick does not qualify, but is within 2x: nothing
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, 22, null);
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, 50, null);
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, null, '1 hour');
-- by time
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, null, '15 seconds');
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, null, '6 minutes');
-- either condition
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, 18, '50 seconds');
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, 3, '50 seconds');
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, 1000, '5 minutes');
-- no later tick at all
select * from pgq.find_tick_helper(1, 12, '2020-01-01 00:10:00+00', 121, 1, null);
select * from pgq.find_tick_helper(99, 1, now(), 1, 1, null);
-- neither condition given
select * from pgq.find_tick_helper(1, 8, '2020-01-01 00:00:00+00', 100, null, null);

-- next_batch_custom uses it
select * from pgq.next_batch_custom('bq', 'c2', null, 1000, null);
select * from pgq.next_batch_custom('bq', 'c2', null, null, '1 day');
select batch_id, cur_tick_id, prev_tick_id, cur_tick_event_seq, prev_tick_event_seq
  from pgq.next_batch_custom('bq', 'c2', null, 4, null);
-- the open batch comes back whatever the conditions
select batch_id, cur_tick_id, prev_tick_id
  from pgq.next_batch_custom('bq', 'c2', null, 1000, null);
select ev_id from pgq.get_batch_events(6);
select pgq.finish_batch(6);
select batch_id, cur_tick_id, prev_tick_id, cur_tick_event_seq, prev_tick_event_seq
  from pgq.next_batch_custom('bq', 'c2', null, null, '1 minute');
select pgq.finish_batch(7);
select * from pgq.next_batch_custom('bq', 'c2', null, 1, null);
-- min_lag applies to the tick found by min_count
select pgq.ticker('bq', 13, now(), 200);
select * from pgq.next_batch_custom('bq', 'c2', '1 hour', 1, null);
select batch_id, cur_tick_id, prev_tick_id
  from pgq.next_batch_custom('bq', 'c2', null, 1, null);
select pgq.finish_batch(8);

-- a consumer whose last tick is gone (the message's tick number is not
-- compared: PgQ prints <NULL> there, pgqpp the tick id)
select pgq.register_consumer_at('bq', 'c3', 9);
delete from pgq.tick where tick_queue = 1 and tick_id = 9;
do $$
begin
    perform pgq.next_batch('bq', 'c3');
exception when others then
    raise warning '%', split_part(sqlerrm, ' does not see tick ', 1);
end $$;
do $$
begin
    perform pgq.next_batch_custom('bq', 'c3', null, 1, null);
exception when others then
    raise warning '%', split_part(sqlerrm, ' does not see tick ', 1);
end $$;
