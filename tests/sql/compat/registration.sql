-- Registration: register_consumer, register_consumer_at (new, rewind,
-- fast-forward, dropping an open batch), unregister_consumer (also for
-- cooperative subconsumers sharing a sub_id), and their errors.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('regq');
select pgq.create_queue('regq2');
select pgq.set_queue_config('regq', 'ticker_max_lag', '0');
select pgq.set_queue_config('regq', 'ticker_idle_period', '0');

-- 1 when new, 0 when already registered
select pgq.register_consumer('regq', 'c1');
select pgq.register_consumer('regq', 'c1');
select pgq.register_consumer('regq2', 'c1');
select pgq.register_consumer_at('regq', 'c1', null);
select co_id, co_name from pgq.consumer order by co_id;
select sub_id, sub_queue, sub_consumer, sub_last_tick, sub_batch, sub_next_tick
  from pgq.subscription order by sub_queue, sub_consumer;

-- errors
select pgq.register_consumer('nosuchqueue', 'c1');
select pgq.register_consumer(null, 'c1');
select pgq.register_consumer('regq', null);
select pgq.register_consumer_at('nosuchqueue', 'c1', 1);
select pgq.register_consumer_at('regq', 'c1', 999);
select pgq.register_consumer_at('regq', 'c9', 999);
select count(*) from pgq.consumer where co_name = 'c9';

-- a new consumer starts at the newest tick: it sees only later events
select pgq.insert_event('regq', 'ev', 'before');
select pgq.ticker('regq');
select pgq.register_consumer('regq', 'c2');
select pgq.insert_event('regq', 'ev', 'after');
select pgq.ticker('regq');
select pgq.next_batch('regq', 'c1');
select ev_data from pgq.get_batch_events(1);
select pgq.next_batch('regq', 'c2');
select ev_data from pgq.get_batch_events(2);
select pgq.finish_batch(1);
select pgq.finish_batch(2);
select pgq.next_batch('regq', 'c1');
select ev_data from pgq.get_batch_events(3);
select pgq.finish_batch(3);

-- register_consumer_at on a new consumer: start at that tick
select pgq.register_consumer_at('regq', 'c3', 1);
select pgq.next_batch('regq', 'c3');
select ev_data from pgq.get_batch_events(4);

-- on an existing consumer: rewind, dropping the open batch; returns 0
select sub_last_tick, sub_batch, sub_next_tick from pgq.subscription s
  join pgq.consumer c on c.co_id = s.sub_consumer where c.co_name = 'c3';
select pgq.register_consumer_at('regq', 'c3', 2);
select sub_last_tick, sub_batch, sub_next_tick from pgq.subscription s
  join pgq.consumer c on c.co_id = s.sub_consumer where c.co_name = 'c3' and s.sub_queue = 1;
select pgq.finish_batch(4);
select pgq.next_batch('regq', 'c3');
select ev_data from pgq.get_batch_events(5);
-- fast-forward to the newest tick
select pgq.register_consumer_at('regq', 'c3', 3);
select pgq.next_batch('regq', 'c3');
-- rewind c1 to the start: it sees everything again
select pgq.register_consumer_at('regq', 'c1', 1);
select pgq.next_batch('regq', 'c1');
select ev_data from pgq.get_batch_events(6);
select pgq.finish_batch(6);

-- unregister_consumer: 0 if not registered
select pgq.unregister_consumer('regq', 'nobody');
select pgq.unregister_consumer('nosuchqueue', 'c1');
select pgq.unregister_consumer(null, null);
-- c1 is on two queues: its consumer row stays until the last one goes
select pgq.unregister_consumer('regq', 'c1');
select pgq.unregister_consumer('regq', 'c1');
select co_name from pgq.consumer order by co_id;
select pgq.unregister_consumer('regq2', 'c1');
select co_name from pgq.consumer order by co_id;
-- with an open batch
select pgq.insert_event('regq', 'ev', 'x');
select pgq.ticker('regq');
select pgq.next_batch('regq', 'c2');
select pgq.unregister_consumer('regq', 'c2');
select pgq.finish_batch(7);

-- re-registering starts over at the newest tick
select pgq.register_consumer('regq', 'c2');
select sub_last_tick from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
 where c.co_name = 'c2';

-- cooperative subconsumers (as pgq_coop makes them): rows sharing the main
-- consumer's sub_id; an idle one has neither last nor next tick
insert into pgq.consumer (co_name) values ('main.sub1'), ('main.sub2');
select pgq.register_consumer('regq', 'main');
insert into pgq.subscription (sub_id, sub_queue, sub_consumer, sub_last_tick)
select s.sub_id, s.sub_queue, c.co_id, null
  from pgq.subscription s, pgq.consumer c, pgq.consumer m
 where m.co_name = 'main' and s.sub_consumer = m.co_id and c.co_name like 'main.sub%';
select c.co_name, s.sub_last_tick is null as idle
  from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
 where s.sub_id = (select sub_id from pgq.subscription s2 join pgq.consumer c2 on c2.co_id = s2.sub_consumer
                    where c2.co_name = 'main')
 order by 1;
select queue_name, consumer_name from pgq.get_consumer_info('regq') order by 2;
-- a subconsumer goes alone, idle or busy (holding a batch)
update pgq.subscription set sub_last_tick = 4, sub_next_tick = 4, sub_batch = 999
 where sub_consumer = (select co_id from pgq.consumer where co_name = 'main.sub2');
select pgq.unregister_consumer('regq', 'main.sub2');
select pgq.unregister_consumer('regq', 'main.sub1');
select c.co_name from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer order by 1;
insert into pgq.subscription (sub_id, sub_queue, sub_consumer, sub_last_tick)
select s.sub_id, s.sub_queue, c.co_id, null
  from pgq.subscription s, pgq.consumer c, pgq.consumer m
 where m.co_name = 'main' and s.sub_consumer = m.co_id and c.co_name like 'main.sub%';
select co_name from pgq.consumer where co_name like 'main%' order by 1;
-- the main consumer takes the remaining subconsumers with it
select pgq.unregister_consumer('regq', 'main');
select co_name from pgq.consumer where co_name like 'main%' order by 1;
select count(*) from pgq.subscription;

-- no ticks at all
delete from pgq.tick where tick_queue = 2;
select pgq.register_consumer('regq2', 'c5');
select pgq.register_consumer_at('regq2', 'c5', 1);
select count(*) from pgq.consumer where co_name = 'c5';
