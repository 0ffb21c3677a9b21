-- pgqpp addition: pgq.insert_event_bulk(queue, ev_type[], ev_data[],
-- ev_extra1..4[] default NULL): many events in one call.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('bulkq');
select pgq.set_queue_config('bulkq', 'ticker_max_lag', '0');
select pgq.set_queue_config('bulkq', 'ticker_idle_period', '0');
select pgq.register_consumer('bulkq', 'c');

-- returns the count; ids follow the array order
select pgq.insert_event_bulk('bulkq', array['t1', 't2', 't3'], array['d1', 'd2', 'd3']);
select pgq.insert_event_bulk('bulkq', array['t4', 't5'], array['d4', 'd5'],
                             array['a4', 'a5'], array['b4', 'b5'], array['c4', 'c5'], array['e4', 'e5']);
-- extras by name, some left out
select pgq.insert_event_bulk('bulkq', array['t6'], array['d6'], ev_extra3 => array['c6']);
-- ev_type NULL: all types NULL; NULL elements are fine
select pgq.insert_event_bulk('bulkq', null, array['d7', null]);
select pgq.insert_event_bulk('bulkq', array[null, 't9'], array['d9', 'd10']);
-- empty arrays: nothing, 0
select pgq.insert_event_bulk('bulkq', array[]::text[], array[]::text[]);
select pgq.insert_event_bulk('bulkq', null, '{}');
-- a single insert_event takes the next id
select pgq.insert_event('bulkq', 'single', 'd11');
select ev_id, ev_retry, ev_owner, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4,
       ev_time <= now() as time_ok
  from pgq.event_template order by ev_id;

-- they are delivered like any other events
select pgq.ticker('bulkq');
select pgq.next_batch('bulkq', 'c');
select count(*), min(ev_id), max(ev_id) from pgq.get_batch_events(1);
select pgq.finish_batch(1);

-- errors
select pgq.insert_event_bulk('bulkq', array['t'], null);
select pgq.insert_event_bulk('bulkq', array['t1', 't2'], array['d1']);
select pgq.insert_event_bulk('bulkq', null, array['d1', 'd2'], array['x']);
select pgq.insert_event_bulk('bulkq', null, array['d1'], null, null, null, array['x', 'y']);
select pgq.insert_event_bulk('nosuchqueue', array['t'], array['d']);
select pgq.insert_event_bulk(null, array['t'], array['d']);
select count(*) from pgq.event_template;

-- rolled back with its transaction
begin;
select pgq.insert_event_bulk('bulkq', array['t', 't'], array['rolled', 'back']);
rollback;
select count(*) from pgq.event_template where ev_data in ('rolled', 'back');

-- disabled queue: refused unless session_replication_role = replica
update pgq.queue set queue_disable_insert = true where queue_name = 'bulkq';
select pgq.insert_event_bulk('bulkq', array['t'], array['disabled']);
set session_replication_role = 'replica';
select pgq.insert_event_bulk('bulkq', array['t'], array['replica']);
reset session_replication_role;
update pgq.queue set queue_disable_insert = false where queue_name = 'bulkq';

-- per-transaction limit: bulk events count like single ones
update pgq.queue set queue_per_tx_limit = 3 where queue_name = 'bulkq';
select pgq.insert_event_bulk('bulkq', array['t', 't', 't', 't'], array['1', '2', '3', '4']);
select pgq.insert_event_bulk('bulkq', array['t', 't', 't'], array['lim1', 'lim2', 'lim3']);
begin;
select pgq.insert_event_bulk('bulkq', array['t', 't'], array['x1', 'x2']);
select pgq.insert_event('bulkq', 't', 'x3');
select pgq.insert_event_bulk('bulkq', array['t'], array['x4']);
rollback;
begin;
select pgq.insert_event('bulkq', 't', 'y1');
select pgq.insert_event_bulk('bulkq', array['t', 't', 't'], array['y2', 'y3', 'y4']);
rollback;
-- the count follows savepoint rollbacks (PgQ's C counter does not)
begin;
select pgq.insert_event_bulk('bulkq', array['t', 't'], array['s1', 's2']);
savepoint s;
select pgq.insert_event('bulkq', 't', 's3');
rollback to s;
select pgq.insert_event('bulkq', 't', 's4');
commit;
update pgq.queue set queue_per_tx_limit = null where queue_name = 'bulkq';
select ev_data from pgq.event_template where ev_id > 11 order by ev_id;

-- after a rotation the events go into the new current table
select pgq.set_queue_config('bulkq', 'rotation_period', '0');
select pgq.unregister_consumer('bulkq', 'c');
select pgq.maint_rotate_tables_step1('bulkq');
select pgq.maint_rotate_tables_step2();
select pgq.insert_event_bulk('bulkq', array['t', 't'], array['rot1', 'rot2']);
select tableoid::regclass, ev_data from pgq.event_1 where ev_data like 'rot%' order by ev_id;

-- queue names are data, not SQL
select pgq.create_queue('bulk "q"; --');
select pgq.insert_event_bulk('bulk "q"; --', array['t'], array['odd']);
select ev_data from pgq.event_2;

-- arrays must be one-dimensional and exactly as long as ev_data (a 2-D array
-- would otherwise flatten past the length check and the per-transaction limit)
select pgq.insert_event_bulk('bulkq', null, array[['a', 'b'], ['c', 'd']]);
select pgq.insert_event_bulk('bulkq', array[['t', 't'], ['t', 't']], array['a', 'b']);
select pgq.insert_event_bulk('bulkq', array[]::text[], array['a', 'b']);
select pgq.insert_event_bulk('bulkq', null, array['a', 'b'], ev_extra3 => array['only one']);
select count(*) from pgq.event_1 where ev_data in ('a', 'b', 'c', 'd');

-- insert_event_bulk_ids: the same checks, the ids in array order
select pgq.create_queue('idsq');
create temp table ids as
select row_number() over () as pos, id
  from pgq.insert_event_bulk_ids('idsq', null, array['i1', 'i2', 'i3']) id;
select ids.pos, ev.ev_data from ids join pgq.event_template ev on ev.ev_id = ids.id and ev.ev_data like 'i_' order by ids.pos;
select count(*) from pgq.insert_event_bulk_ids('idsq', null, array[]::text[]);
select * from pgq.insert_event_bulk_ids('idsq', array['t'], array['a', 'b']);
select * from pgq.insert_event_bulk_ids('no such queue', null, array['a']);
