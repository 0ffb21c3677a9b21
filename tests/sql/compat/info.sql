-- Information functions: get_queue_info (0/1 args), get_consumer_info
-- (0/1/2 args), get_batch_info, version.  Volatile columns (times, lags)
-- are shown as booleans; ev_per_sec is computed from external ticks with
-- known times.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.version() like '3.%' as version_ok;
select pgq.version() is not null as version_not_null;

-- no queues
select * from pgq.get_queue_info();
select * from pgq.get_queue_info('nosuchqueue');
select * from pgq.get_consumer_info();

select pgq.create_queue('infoq');
select pgq.create_queue('extq');
select pgq.create_queue('abc');
select pgq.set_queue_config('infoq', 'ticker_max_lag', '0');
select pgq.set_queue_config('infoq', 'ticker_idle_period', '0');
select pgq.set_queue_config('extq', 'external_ticker', 'true');
select pgq.set_queue_config('abc', 'ticker_paused', 'true');

create view qinfo as
select queue_name, queue_ntables, queue_cur_table, queue_rotation_period,
       queue_switch_time <= now() as switch_time_ok,
       queue_external_ticker, queue_ticker_paused, queue_ticker_max_count,
       queue_ticker_max_lag, queue_ticker_idle_period,
       ticker_lag >= '0' as ticker_lag_ok, ev_per_sec, ev_new, last_tick_id
  from pgq.get_queue_info();

-- all queues, by name; one queue; NULL means all
select * from qinfo;
select queue_name, last_tick_id from pgq.get_queue_info('extq');
select queue_name from pgq.get_queue_info(null);

-- ev_new: events since the last tick (from the sequence: a hint)
select pgq.insert_event('infoq', 'ev', 'x') from generate_series(1, 5);
select queue_name, ev_new, last_tick_id from pgq.get_queue_info('infoq');
select pgq.ticker('infoq');
select queue_name, ev_new, last_tick_id from pgq.get_queue_info('infoq');

-- ev_per_sec over the last (up to) 20 ticks; NULL while all tick times are equal
select pgq.ticker('extq', 2, (select tick_time from pgq.tick where tick_queue = 2 and tick_id = 1), 1);
select ev_per_sec from pgq.get_queue_info('extq');
update pgq.tick set tick_time = '2020-01-01 00:00:00+00' where tick_queue = 2;
select pgq.ticker('extq', i, '2020-01-01 00:00:00+00'::timestamptz + i * interval '10 seconds', i * 100)
  from generate_series(3, 30) i;
select ev_per_sec, ev_new, last_tick_id from pgq.get_queue_info('extq');
select pgq.ticker('extq', 31, '2020-01-01 00:10:00+00', 5000);
select ev_per_sec, ev_new, last_tick_id from pgq.get_queue_info('extq');
select pgq.insert_event('extq', 'ev', 'x');
select ev_new from pgq.get_queue_info('extq');

-- get_consumer_info
select pgq.register_consumer('infoq', 'c1');
select pgq.register_consumer('infoq', 'c2');
select pgq.register_consumer('extq', 'c1');
select pgq.register_consumer_at('extq', 'c0', 10);
create view cinfo as
select queue_name, consumer_name, lag >= '0' as lag_ok, last_seen >= '0' as seen_ok,
       last_tick, current_batch, next_tick, pending_events
  from pgq.get_consumer_info();
select * from cinfo;
select queue_name, consumer_name, last_tick from pgq.get_consumer_info('extq');
select queue_name, consumer_name, last_tick from pgq.get_consumer_info('extq', 'c0');
select queue_name, consumer_name, last_tick from pgq.get_consumer_info(null, 'c1');
select queue_name, consumer_name, last_tick from pgq.get_consumer_info(null, null);
select queue_name, consumer_name, last_tick from pgq.get_consumer_info('infoq', null);
select * from pgq.get_consumer_info('nosuchqueue');
select * from pgq.get_consumer_info('infoq', 'nobody');

-- pending events, lag, an open batch
select pgq.insert_event('infoq', 'ev', 'y') from generate_series(1, 3);
select pgq.ticker('infoq');
select pgq.next_batch('infoq', 'c1');
select * from cinfo where queue_name = 'infoq';
select queue_name, consumer_name, prev_tick_id, tick_id, seq_start, seq_end,
       batch_start <= batch_end as times_ok, lag >= '0' as lag_ok
  from pgq.get_batch_info(1);
select pgq.finish_batch(1);
select * from cinfo where queue_name = 'infoq';
-- lag and last_seen are measured from the tick time and the last activity
update pgq.tick set tick_time = now() - interval '1 hour' where tick_queue = 1;
update pgq.subscription set sub_active = now() - interval '2 hours';
select consumer_name, lag >= '1 hour' as lag_hour, last_seen >= '2 hours' as seen_2h
  from pgq.get_consumer_info('infoq');
