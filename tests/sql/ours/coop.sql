-- pgq_coop (pgq_sql/pgq_coop): cooperative consumers.  Subconsumers
-- '<consumer>.<sub>' share the main consumer's sub_id and position and take
-- whole batches, in tick order; a dead member's batch is taken over.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq_coop.version() ~ '^3\.[0-9]+(\.[0-9]+)?$' as version_3x;

select pgq.create_queue('cq');
select pgq.set_queue_config('cq', 'ticker_max_lag', '0');
select pgq.set_queue_config('cq', 'ticker_idle_period', '0');

create view coop_state as
select c.co_name, s.sub_id, s.sub_last_tick as last, s.sub_next_tick as next,
       s.sub_batch is not null as has_batch
  from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
 where s.sub_queue = (select queue_id from pgq.queue where queue_name = 'cq')
 order by c.co_name;

-- registration: the main consumer too; subconsumers share its sub_id and
-- have no position while idle
select pgq_coop.register_subconsumer('cq', 'grp', 's1');
select pgq_coop.register_subconsumer('cq', 'grp', 's1');
select pgq_coop.register_subconsumer('cq', 'grp', 's2');
select * from coop_state;
select queue_name, consumer_name, last_tick, current_batch, next_tick
  from pgq.get_consumer_info('cq') order by 2;

-- nothing yet
select pgq_coop.next_batch('cq', 'grp', 's1');

-- batches go to whoever asks, in tick order; the group's position moves at once
select pgq.insert_event('cq', 'ev', 'a' || i) from generate_series(1, 3) i;
select pgq.ticker('cq');
select pgq.insert_event('cq', 'ev', 'b' || i) from generate_series(1, 2) i;
select pgq.ticker('cq');
select pgq.insert_event('cq', 'ev', 'c1');
select pgq.ticker('cq');
select pgq_coop.next_batch('cq', 'grp', 's1');
select pgq_coop.next_batch('cq', 'grp', 's2');
-- asking again: the same batch
select pgq_coop.next_batch('cq', 'grp', 's1');
select pgq_coop.next_batch('cq', 'grp', 's2');
select * from coop_state;
select ev_id, ev_data from pgq.get_batch_events(1);
select ev_id, ev_data from pgq.get_batch_events(2);
select queue_name, consumer_name, prev_tick_id, tick_id from pgq.get_batch_info(2);
select consumer_name, last_tick, current_batch, next_tick
  from pgq.get_consumer_info('cq') order by 1;

-- a subconsumer registers itself by asking
select pgq_coop.next_batch('cq', 'grp', 's3');
select ev_id, ev_data from pgq.get_batch_events(3);
select pgq_coop.next_batch('cq', 'grp', 's4');
select * from coop_state;

-- finishing: in any order
select pgq_coop.finish_batch(2);
select pgq_coop.finish_batch(2);
select pgq_coop.finish_batch(999);
select * from coop_state;

-- a retried event comes back to the group (whichever member asks)
select pgq.event_retry(1, 1, 0);
select pgq_coop.finish_batch(1);
select pgq.maint_retry_events();
select pgq.ticker('cq');
select pgq_coop.next_batch('cq', 'grp', 's2');
select ev_id, ev_retry, ev_data from pgq.get_batch_events(4);
select pgq_coop.finish_batch(4);

-- batch conditions (next_batch_custom): min_count
select pgq.insert_event('cq', 'ev', 'd1');
select pgq.ticker('cq');
select pgq_coop.next_batch_custom('cq', 'grp', 's2', null, 3, null);
select pgq.insert_event('cq', 'ev', 'd' || i) from generate_series(2, 3) i;
select pgq.ticker('cq');
select pgq_coop.next_batch_custom('cq', 'grp', 's2', null, 3, null);
select ev_data from pgq.get_batch_events(5);
select pgq_coop.finish_batch(5);

-- dead members: s3 holds batch 3 and is silent.  A long dead interval
-- leaves it alone; a short one hands its batch (same id, same ticks) over.
select pgq_coop.next_batch('cq', 'grp', 's1', '1 hour');
select * from coop_state;
select pgq_coop.next_batch('cq', 'grp', 's1', '0');
select * from coop_state;
select ev_id, ev_data from pgq.get_batch_events(3);
-- the new holder finishes it; the presumed dead one, back, gets a new row
select pgq_coop.finish_batch(3);
select pgq_coop.next_batch('cq', 'grp', 's3');
-- an idle silent member is not removed
select pgq_coop.next_batch('cq', 'grp', 's2', '0');
select co_name from coop_state;
-- next_batch_custom's 7-argument form takes over as well
select pgq.insert_event('cq', 'ev', 'e1');
select pgq.ticker('cq');
select pgq_coop.next_batch('cq', 'grp', 's4');
select pgq_coop.next_batch_custom('cq', 'grp', 's2', null, null, null, '0');
select * from coop_state;
select pgq_coop.finish_batch(6);

-- the main consumer used directly, with a batch left open: refused
select pgq.insert_event('cq', 'ev', 'f1');
select pgq.ticker('cq');
select pgq.next_batch('cq', 'grp');
select pgq_coop.next_batch('cq', 'grp', 's1');
-- pgq_coop.finish_batch does not close a plain consumer's batch
select pgq_coop.finish_batch(7);
select pgq.finish_batch(7);
select pgq.register_consumer('cq', 'plain');
select pgq.insert_event('cq', 'ev', 'g1');
select pgq.ticker('cq');
select pgq.next_batch('cq', 'plain');
select pgq_coop.finish_batch(8);
select pgq.finish_batch(8);

-- unregistering a subconsumer: not while it holds a batch, unless told to
-- drop it
select pgq_coop.next_batch('cq', 'grp', 's1');
select pgq_coop.unregister_subconsumer('cq', 'grp', 's1', 0);
select pgq_coop.unregister_subconsumer('cq', 'grp', 's1', 1);
select pgq_coop.unregister_subconsumer('cq', 'grp', 's1', 1);
select pgq_coop.unregister_subconsumer('cq', 'grp', 's2', 0);
select pgq_coop.unregister_subconsumer('cq', 'nosuch', 's2', 0);
select pgq_coop.unregister_subconsumer('nosuch', 'grp', 's2', 0);
select * from coop_state;

-- errors
select pgq_coop.register_subconsumer('nosuch', 'grp', 's1');
select pgq_coop.next_batch('nosuch', 'grp', 's1');
select pgq_coop.register_subconsumer('cq', 'grp', null);
select pgq_coop.next_batch(null, 'grp', 's1');
select pgq_coop.unregister_subconsumer('cq', null, 's1', 0);
-- a consumer of its own that happens to have a subconsumer's name
select pgq.register_consumer('cq', 'grp.own');
select pgq_coop.register_subconsumer('cq', 'grp', 'own');
select pgq_coop.next_batch('cq', 'grp', 'own');
select pgq_coop.unregister_subconsumer('cq', 'grp', 'own', 0);
select pgq.unregister_consumer('cq', 'grp.own');

-- unregistering the main consumer removes the whole group
select pgq.unregister_consumer('cq', 'grp');
select * from coop_state;

-- privileges: pgq_reader may use pgq_coop, others only its version
do $$
declare
    r text;
begin
    foreach r in array array['pgqpp_t_coop_nobody', 'pgqpp_t_coop_reader'] loop
        if not exists (select 1 from pg_roles where rolname = r) then
            execute format('create role %I', r);
        end if;
    end loop;
end $$;
grant pgq_reader to pgqpp_t_coop_reader;
set role pgqpp_t_coop_nobody;
select pgq_coop.version() is not null as version_ok;
select pgq_coop.register_subconsumer('cq', 'grp2', 's1');
select pgq_coop.next_batch('cq', 'grp2', 's1');
reset role;
set role pgqpp_t_coop_reader;
select pgq_coop.register_subconsumer('cq', 'grp2', 's1');
select pgq_coop.next_batch('cq', 'grp2', 's1');
select pgq.insert_event('cq', 'ev', 'h1');
reset role;
select pgq.insert_event('cq', 'ev', 'h1');
select pgq.ticker('cq');
set role pgqpp_t_coop_reader;
select pgq_coop.next_batch('cq', 'grp2', 's1') as batch_id \gset
select ev_data from pgq.get_batch_events(:batch_id);
select pgq_coop.finish_batch(:batch_id);
select pgq_coop.unregister_subconsumer('cq', 'grp2', 's1', 0);
reset role;
select p.oid::regprocedure, p.prosecdef, p.proconfig,
       has_function_privilege('pgq_reader', p.oid, 'execute') as reader,
       has_function_privilege('public', p.oid, 'execute') as public
  from pg_proc p where p.pronamespace = 'pgq_coop'::regnamespace
 order by p.proname, p.pronargs;
drop role pgqpp_t_coop_nobody;
revoke pgq_reader from pgqpp_t_coop_reader;
drop role pgqpp_t_coop_reader;
