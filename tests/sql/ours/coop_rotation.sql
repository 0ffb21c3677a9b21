-- pgq_coop and rotation: an unfinished subconsumer batch holds rotation
-- back although the group's position (the main consumer) moved past it.
-- Every statement is its own transaction; the test runs alone (RUN_SERIAL:
-- other tests' transactions would hold the ticks' xmin back).
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('crq');
select pgq.set_queue_config('crq', 'ticker_max_lag', '0');
select pgq.set_queue_config('crq', 'ticker_idle_period', '0');
select pgq.set_queue_config('crq', 'rotation_period', '0');
select pgq_coop.register_subconsumer('crq', 'grp', 'slow');
select pgq_coop.register_subconsumer('crq', 'grp', 'fast');

create view rot_state as
select queue_cur_table as cur, queue_switch_step2 is null as step2_pending
  from pgq.queue where queue_name = 'crq';

select pgq.insert_event('crq', 'ev', 'a');
select pgq.ticker('crq');
select pgq.insert_event('crq', 'ev', 'b');
select pgq.ticker('crq');
-- 'slow' takes the first batch and keeps it; 'fast' takes and finishes the
-- second, so the group's position is past both
select pgq_coop.next_batch('crq', 'grp', 'slow');
select pgq_coop.next_batch('crq', 'grp', 'fast');
select pgq_coop.finish_batch(2);
select c.co_name, s.sub_last_tick, s.sub_next_tick
  from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
 order by 1;

-- the open batch (its start tick) holds rotation back
select pgq.maint_rotate_tables_step1('crq');
select * from rot_state;
select ev_data from pgq.get_batch_events(1);

-- finished: rotation goes on
select pgq_coop.finish_batch(1);
select pgq.maint_rotate_tables_step1('crq');
select * from rot_state;
select pgq.maint_rotate_tables_step2();
select * from rot_state;

-- idle subconsumers (no position) do not hold it back
select pgq.insert_event('crq', 'ev', 'c');
select pgq.ticker('crq');
select pgq_coop.next_batch('crq', 'grp', 'fast');
select ev_data from pgq.get_batch_events(3);
select pgq_coop.finish_batch(3);
select pgq.maint_rotate_tables_step1('crq');
select * from rot_state;
select pgq.maint_rotate_tables_step2();
