-- Rotation of the event tables: maint_rotate_tables_step1/step2 with a
-- short rotation_period, the slowest consumer holding it back, which tables
-- a batch reads, ticks deleted after rotation, maint_operations, errors.
-- Every statement is its own transaction (psql autocommit): step2 must run
-- in a later transaction than step1.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('rotq');
select pgq.set_queue_config('rotq', 'ticker_max_lag', '0');
select pgq.set_queue_config('rotq', 'ticker_idle_period', '0');
select pgq.register_consumer('rotq', 'fast');
select pgq.register_consumer('rotq', 'slow');

create view rot_state as
select queue_cur_table as cur, queue_switch_step2 is null as step2_pending,
       pgq.current_event_table(queue_name) as cur_table,
       (select array_agg(tick_id order by tick_id) from pgq.tick where tick_queue = queue_id) as ticks
  from pgq.queue where queue_name = 'rotq';

-- not due yet (rotation_period 2 hours)
select pgq.maint_rotate_tables_step1('rotq');
select * from pgq.maint_operations();
select * from rot_state;

select pgq.set_queue_config('rotq', 'rotation_period', '0');
select * from pgq.maint_operations();
-- due, but both consumers still need the current table's past
select pgq.maint_rotate_tables_step1('rotq');
select * from rot_state;

select pgq.insert_event('rotq', 'ev', 'a');
select pgq.ticker('rotq');
select pgq.next_batch('rotq', 'fast');
select ev_data from pgq.get_batch_events(1);
select pgq.finish_batch(1);
-- the slow consumer holds rotation back
select pgq.maint_rotate_tables_step1('rotq');
select * from rot_state;
select pgq.next_batch('rotq', 'slow');
select ev_data from pgq.get_batch_events(2);
select pgq.finish_batch(2);

-- now it rotates: table 1 becomes current, step2 is pending
select pgq.maint_rotate_tables_step1('rotq');
select * from rot_state;
select * from pgq.maint_operations();
-- nothing more until step2 ran
select pgq.maint_rotate_tables_step1('rotq');
select * from rot_state;
select pgq.insert_event('rotq', 'ev', 'b');
select tableoid::regclass, ev_data from pgq.event_1 order by ev_id;
select pgq.maint_rotate_tables_step2();
select pgq.maint_rotate_tables_step2();
select * from rot_state;

-- a consumer moved back to before the rotation reads only the old table
select pgq.register_consumer_at('rotq', 'late', 1);
select pgq.next_batch('rotq', 'late');
select * from pgq.batch_event_tables(3);
select ev_data from pgq.get_batch_events(3);
select pgq.finish_batch(3);
select pgq.unregister_consumer('rotq', 'late');

-- a batch across the rotation reads both tables, the old one first
select pgq.ticker('rotq');
select pgq.next_batch('rotq', 'fast');
select * from pgq.batch_event_tables(4);
select ev_data from pgq.get_batch_events(4);
select pgq.finish_batch(4);
select pgq.next_batch('rotq', 'slow');
select ev_data from pgq.get_batch_events(5);
-- an open batch does not hold rotation back, the last finished tick does
select pgq.maint_rotate_tables_step1('rotq');
select * from rot_state;
select pgq.finish_batch(5);

-- a batch after the rotation reads only the current table
select pgq.insert_event('rotq', 'ev', 'c');
select pgq.ticker('rotq');
select pgq.next_batch('rotq', 'fast');
select * from pgq.batch_event_tables(6);
select ev_data from pgq.get_batch_events(6);
select pgq.finish_batch(6);
select pgq.next_batch('rotq', 'slow');
select pgq.finish_batch(7);

-- second rotation: table 2; ticks older than the previous step2 are gone
select pgq.maint_rotate_tables_step1('rotq');
select pgq.maint_rotate_tables_step2();
select * from rot_state;
select pgq.register_consumer_at('rotq', 'late', 1);

-- third rotation: table 0 again, truncated first
select pgq.insert_event('rotq', 'ev', 'd');
select pgq.ticker('rotq');
select pgq.next_batch('rotq', 'fast');
select ev_data from pgq.get_batch_events(8);
select pgq.finish_batch(8);
select pgq.next_batch('rotq', 'slow');
select pgq.finish_batch(9);
select count(*) as in_table_0 from pgq.event_1_0;
select pgq.maint_rotate_tables_step1('rotq');
select pgq.maint_rotate_tables_step2();
select * from rot_state;
select count(*) as in_table_0 from pgq.event_1_0;
select tableoid::regclass, ev_data from pgq.event_1 order by ev_id;

-- no consumers: rotates whenever due
select pgq.unregister_consumer('rotq', 'fast');
select pgq.unregister_consumer('rotq', 'slow');
select pgq.maint_rotate_tables_step1('rotq');
select pgq.maint_rotate_tables_step2();
select * from rot_state;
select tableoid::regclass, ev_data from pgq.event_1 order by ev_id;

-- unknown queues, NULL
select pgq.maint_rotate_tables_step1('nosuchqueue');
select pgq.maint_rotate_tables_step1(null);

-- a consumer on a tick that is gone
select pgq.ticker('rotq');
select pgq.register_consumer('rotq', 'lost');
select pgq.ticker('rotq');
select pgq.ticker('rotq');
delete from pgq.tick where tick_queue = 1
   and tick_id = (select sub_last_tick from pgq.subscription);
select pgq.maint_rotate_tables_step1('rotq');
select pgq.unregister_consumer('rotq', 'lost');

-- step1 from the future (e.g. restored into another cluster): error; the
-- message has txids in it, they are masked
update pgq.queue set queue_switch_step1 = txid_current() + 1000000 where queue_name = 'rotq';
do $$
begin
    perform pgq.maint_rotate_tables_step1('rotq');
exception when others then
    raise warning '%', regexp_replace(sqlerrm, '=[0-9]+', '=N', 'g');
end $$;

-- maint_operations with several queues, extra maintenance functions
update pgq.queue set queue_switch_step1 = txid_current() where queue_name = 'rotq';
select pgq.create_queue('aaa');
select pgq.create_queue('zzz');
select pgq.set_queue_config('zzz', 'rotation_period', '0');
update pgq.queue set queue_extra_maint = array['baz', 'foo.bar'] where queue_name = 'rotq';
update pgq.queue set queue_extra_maint = array['first'] where queue_name = 'aaa';
select * from pgq.maint_operations();
