-- Intentional differences from PgQ that a compat test cannot show (PgQ
-- behaves otherwise); each is documented in the function's header.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('dq');
select pgq.set_queue_config('dq', 'ticker_max_lag', '0');
select pgq.set_queue_config('dq', 'ticker_idle_period', '0');

-- pgq.ticker() refuses to run outside READ COMMITTED: its snapshot must be
-- taken after its lock (PgQ ticks anyway)
begin isolation level repeatable read;
select pgq.ticker('dq');
rollback;
begin isolation level serializable;
select pgq.ticker();
rollback;
begin isolation level read committed;
select pgq.ticker('dq');
commit;

-- next_batch on a consumer whose last tick is gone names the tick (PgQ: <NULL>)
select pgq.register_consumer('dq', 'c');
select pgq.ticker('dq');
delete from pgq.tick where tick_queue = 1 and tick_id = 2;
select pgq.next_batch('dq', 'c');
select pgq.unregister_consumer('dq', 'c');

-- an empty queue_extra_maint array lists nothing (PgQ fails on it)
update pgq.queue set queue_extra_maint = '{}' where queue_name = 'dq';
select * from pgq.maint_operations();
update pgq.queue set queue_extra_maint = null where queue_name = 'dq';

-- root queues of pgq_node are listed by name (PgQ: in table order)
create schema pgq_node;
create function pgq_node.maint_watermark(text) returns int language sql as 'select 0';
create table pgq_node.node_info (queue_name text, node_type text);
insert into pgq_node.node_info values ('zz', 'root'), ('aa', 'root'), ('mm', 'leaf');
select * from pgq.maint_operations();
drop schema pgq_node cascade;

-- the per-transaction limit follows savepoint rollbacks (PgQ's C counter
-- keeps counting the rolled back events)
update pgq.queue set queue_per_tx_limit = 2 where queue_name = 'dq';
begin;
select pgq.insert_event('dq', 't', '1');
savepoint s;
select pgq.insert_event('dq', 't', 'rolled back');
rollback to s;
select pgq.insert_event('dq', 't', '2');
select pgq.insert_event('dq', 't', '3');
rollback;
update pgq.queue set queue_per_tx_limit = null where queue_name = 'dq';

-- event_retry of an id that occurs twice in a batch (explicit ids): one
-- retry row (PgQ hits the retry queue's key and returns 0 without retrying;
-- its batch_retry fails on the key)
select pgq.register_consumer('dq', 'c');
select pgq.insert_event_raw('dq', 500, now(), null, null, 't', 'first 500', null, null, null, null);
select pgq.insert_event_raw('dq', 500, now(), null, null, 't', 'second 500', null, null, null, null);
select pgq.ticker('dq');
select pgq.next_batch('dq', 'c');
select ev_id, ev_data from pgq.get_batch_events(1) order by 2;
select pgq.event_retry(1, 500, 60);
select pgq.event_retry(1, 500, 60);
select ev_id, count(*) from pgq.retry_queue group by 1;
select pgq.batch_retry(1, 60);
select pgq.finish_batch(1);

-- re-registering does not use up subscription ids
select pgq.register_consumer('dq', 'c');
select pgq.register_consumer('dq', 'c');
select pgq.register_consumer('dq', 'c2');
select c.co_name, s.sub_id from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
 order by 2;
