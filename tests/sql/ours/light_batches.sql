-- pgqpp addition: the queue option light_batches.  A light queue records its
-- batches in pgq.batch, not in pgq.subscription.sub_batch, so the consumers'
-- subscription rows only change unindexed columns (HOT updates).  The whole
-- consumer protocol must behave as PgQ's: the same batches and events,
-- idempotent next_batch, finish_batch 1/0+WARNING, retry, rewind,
-- unregister, drop, the info functions.  Queue lq is light, cq is PgQ's
-- kind; both get the same events.
\set VERBOSITY terse
set client_min_messages = warning;

-- ---- the option ---------------------------------------------------------
select pgq.create_queue('lq');
select pgq.create_queue('cq');
-- the default (set explicitly: the .light test run turns it on for new queues)
select pgq.set_queue_config(q, 'light_batches', 'off') from (values ('lq'), ('cq')) v(q);
select * from pgq.get_queue_options();
select pgq.set_queue_config('lq', 'light_batches', 'true');
select * from pgq.get_queue_options('lq');
-- only values other than the default are stored, normalised
select pgq.set_queue_config('cq', 'queue_light_batches', 'on');
select qo_name, qo_value from pgq.queue_option order by qo_queue;
select pgq.set_queue_config('cq', 'light_batches', 'no');
select count(*) as stored from pgq.queue_option where qo_queue = 2;
select * from pgq.get_queue_options() order by queue_name;
-- errors: a bad value, NULL, an unknown queue, an unknown parameter (PgQ's text)
select pgq.set_queue_config('lq', 'light_batches', 'maybe');
select pgq.set_queue_config('lq', 'light_batches', null);
select pgq.set_queue_config('nope', 'light_batches', 'true');
select pgq.set_queue_config('lq', 'light_batchez', 'true');
select * from pgq.get_queue_options('nope');

select pgq.set_queue_config(q, 'ticker_max_lag', '0') from (values ('lq'), ('cq')) v(q);
select pgq.set_queue_config(q, 'ticker_idle_period', '0') from (values ('lq'), ('cq')) v(q);
select pgq.register_consumer('lq', 'c1');
select pgq.register_consumer('lq', 'c2');
select pgq.register_consumer('cq', 'c1');

-- ---- nothing yet: an empty poll ----------------------------------------
select * from pgq.next_batch_info('lq', 'c1');

-- ---- a batch -------------------------------------------------------------
select pgq.insert_event(q, 'ev', 'data' || i, 'x' || i, null, null, null)
  from (values ('lq'), ('cq')) v(q), generate_series(1, 5) i;
select pgq.ticker('lq'), pgq.ticker('cq');
select batch_id, cur_tick_id, prev_tick_id, cur_tick_event_seq, prev_tick_event_seq
  from pgq.next_batch_info('lq', 'c1');
select pgq.next_batch('cq', 'c1');
-- light: sub_batch stays NULL, the batch is in pgq.batch; sub_last_tick does
-- not move while the batch is open (rotation looks at it)
select q.queue_name, c.co_name, s.sub_last_tick, s.sub_batch, s.sub_next_tick
  from pgq.subscription s join pgq.queue q on q.queue_id = s.sub_queue
  join pgq.consumer c on c.co_id = s.sub_consumer order by 1, 2;
select batch_id, batch_queue, batch_consumer, batch_sub_id, batch_prev_tick, batch_cur_tick
  from pgq.batch order by batch_id;
-- asking again returns the open batch, in every form
select pgq.next_batch('lq', 'c1');
select batch_id, cur_tick_id, prev_tick_id from pgq.next_batch_info('lq', 'c1');
select batch_id, cur_tick_id, prev_tick_id
  from pgq.next_batch_custom('lq', 'c1', '1 hour', 1000, '1 hour');
select count(*) as batch_rows from pgq.batch;

-- the events: the same as the PgQ-kind queue's
select ev_id, ev_retry, ev_type, ev_data, ev_extra1 from pgq.get_batch_events(1);
select (select array_agg(ev_data order by ev_id) from pgq.get_batch_events(1))
     = (select array_agg(ev_data order by ev_id) from pgq.get_batch_events(2)) as same_events;
select * from pgq.batch_event_tables(1);
select pgq.batch_event_sql(1) like '% order by 1' as sql_ok;
begin;
select ev_id, ev_data from pgq.get_batch_cursor(1, 'lc', 10, 'ev_id > 2');
close lc;
commit;
select queue_name, consumer_name, prev_tick_id, tick_id, seq_start, seq_end,
       batch_start < batch_end as ordered
  from pgq.get_batch_info(1);
select queue_name, consumer_name, last_tick, current_batch, next_tick, pending_events
  from pgq.get_consumer_info() order by 1, 2;

-- ---- retry from a light batch -------------------------------------------
select pgq.event_retry(1, 2, 0);
select pgq.event_retry(1, 2, 0);
select pgq.event_retry(1, 99, 0);
select pgq.event_retry_bulk(1, array[3, 4], now());
select pgq.event_retry_bulk(1, array[5, 98], now());
select ev_owner, ev_id, ev_retry, ev_data from pgq.retry_queue order by ev_id;

-- ---- finish --------------------------------------------------------------
select pgq.finish_batch(1);
select pgq.finish_batch(1);
select pgq.finish_batch(2);
select s.sub_last_tick, s.sub_batch, s.sub_next_tick
  from pgq.subscription s where s.sub_queue = 1 and s.sub_consumer = 1;
-- a finished batch is not found by anything any more
select * from pgq.get_batch_info(1);
select * from pgq.get_batch_events(1);
select * from pgq.batch_event_tables(1);
select pgq.event_retry(1, 1, 0);
select pgq.batch_retry(1, 0);
select pgq.event_retry_bulk(1, array[1], 0);
select queue_name, consumer_name, last_tick, current_batch, next_tick
  from pgq.get_consumer_info('lq', 'c1');

-- the retried events come back in a later batch, to c1 only
select pgq.maint_retry_events();
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c1');
select ev_id, ev_retry, ev_data from pgq.get_batch_events(3);
select pgq.finish_batch(3);

-- ---- an empty batch ------------------------------------------------------
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c1');
select count(*) as events from pgq.get_batch_events(4);
select pgq.finish_batch(4);
select pgq.next_batch('lq', 'c1');

-- c2 gets everything, retries excluded, in one batch from where it registered
select pgq.next_batch('lq', 'c2');
select ev_id, ev_retry, ev_data from pgq.get_batch_events(5);
-- batch_retry of a light batch
select pgq.batch_retry(5, 3600);
select pgq.batch_retry(5, 3600);
select count(*) as c2_retries from pgq.retry_queue where ev_owner = 2;
select pgq.finish_batch(5);

-- ---- rewind --------------------------------------------------------------
-- rewinding drops the open batch, even to the batch's own start: the next
-- batch has the same ticks but a new id, and the old id is not open any more
select pgq.insert_event('lq', 'ev', 'after', null, null, null, null);
select pgq.ticker('lq');
select batch_id, prev_tick_id, cur_tick_id from pgq.next_batch_info('lq', 'c1');
select pgq.register_consumer_at('lq', 'c1', (select sub_last_tick from pgq.subscription
                                             where sub_queue = 1 and sub_consumer = 1));
select sub_last_tick, sub_batch, sub_next_tick from pgq.subscription
 where sub_queue = 1 and sub_consumer = 1;
select batch_id, prev_tick_id, cur_tick_id from pgq.next_batch_info('lq', 'c1');
select pgq.finish_batch(6);
select * from pgq.get_batch_info(6);
select ev_data from pgq.get_batch_events(7);
-- rewind further back: the events come again
select pgq.register_consumer_at('lq', 'c1', 2);
select batch_id, prev_tick_id, cur_tick_id from pgq.next_batch_info('lq', 'c1');
select ev_id, ev_data from pgq.get_batch_events(8);
select pgq.finish_batch(7);
select pgq.finish_batch(8);

-- ---- switching the option while a batch is open -------------------------
-- the open batch keeps its kind; the next one is of the new kind
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c1');
select pgq.set_queue_config('lq', 'light_batches', 'false');
select pgq.next_batch('lq', 'c1');
select pgq.finish_batch(9);
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c1');
select sub_batch, sub_next_tick is not null as open from pgq.subscription
 where sub_queue = 1 and sub_consumer = 1;
select pgq.set_queue_config('lq', 'light_batches', 'true');
select pgq.next_batch('lq', 'c1');
select pgq.finish_batch(10);
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c1');
select sub_batch, sub_next_tick is not null as open from pgq.subscription
 where sub_queue = 1 and sub_consumer = 1;

-- ---- the batch row lost (deleted by hand): reopened under a new id -------
delete from pgq.batch where batch_id = 11;
select batch_id, prev_tick_id, cur_tick_id from pgq.next_batch_info('lq', 'c1');
select batch_id, prev_tick_id, cur_tick_id from pgq.next_batch_info('lq', 'c1');
select pgq.finish_batch(11);
select count(*) as events from pgq.get_batch_events(12);
select pgq.finish_batch(12);

-- ---- the subscription row moved after next_batch ------------------------
-- (pgq.batch remembers where next_batch left the row; a stale hint is
-- noticed and the row looked up by key)
select pgq.insert_event('lq', 'ev', 'moved', null, null, null, null);
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c2') as b \gset
update pgq.subscription set sub_active = sub_active where sub_queue = 1 and sub_consumer = 2;
select queue_name, consumer_name, current_batch = :b as current
  from pgq.get_consumer_info('lq', 'c2');
select count(*) as events from pgq.get_batch_events(:b);
select pgq.finish_batch(:b);
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c2') as b \gset
vacuum full pgq.subscription;
select tick_id = (select batch_cur_tick from pgq.batch where batch_id = :b) as same_tick
  from pgq.get_batch_info(:b);
select pgq.finish_batch(:b);
select pgq.finish_batch(:b);

-- ---- maintenance ---------------------------------------------------------
-- old light batches are listed for cleaning and deleted; each consumer's
-- newest stays (the open one is always the newest)
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c1') as b \gset
select :b as batch_id;
select count(*) as batch_rows from pgq.batch;
select * from pgq.maint_operations();
select pgq.maint_clean_batches('lq');
select pgq.maint_clean_batches('lq');
select pgq.maint_clean_batches('nope');
select batch_id, batch_consumer from pgq.batch order by batch_id;
select * from pgq.maint_operations();
select pgq.next_batch('lq', 'c1') = :b as same;
select pgq.finish_batch(:b);

-- ---- light batches update the subscription rows HOT only ----------------
-- (PgQ's kind never: sub_batch is indexed)
select pg_stat_force_next_flush();
select n_tup_upd as upd0, n_tup_hot_upd as hot0
  from pg_stat_user_tables where relid = 'pgq.subscription'::regclass \gset
select pgq.ticker('lq');
select count(pgq.finish_batch(pgq.next_batch('lq', c))) from (values ('c1'), ('c2')) v(c);
select pg_stat_force_next_flush();
select n_tup_upd - :upd0 as updates, n_tup_hot_upd - :hot0 as hot_updates
  from pg_stat_user_tables where relid = 'pgq.subscription'::regclass;
select pg_stat_force_next_flush();
select n_tup_upd as upd0, n_tup_hot_upd as hot0
  from pg_stat_user_tables where relid = 'pgq.subscription'::regclass \gset
select pgq.ticker('cq');
select pgq.finish_batch(pgq.next_batch('cq', 'c1'));
select pg_stat_force_next_flush();
select n_tup_upd - :upd0 as updates, n_tup_hot_upd - :hot0 as hot_updates
  from pg_stat_user_tables where relid = 'pgq.subscription'::regclass;

-- ---- a consumer role (pgq_reader) consumes light batches ----------------
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'pgqpp_t_light_reader') then
        create role pgqpp_t_light_reader;
    end if;
end $$;
grant pgq_reader to pgqpp_t_light_reader;
select pgq.register_consumer('lq', 'c3');
select pgq.insert_event('lq', 'ev', 'for the reader', null, null, null, null);
select pgq.ticker('lq');
set role pgqpp_t_light_reader;
select pgq.next_batch('lq', 'c3') as b \gset
select :b as batch_id;
select ev_id, ev_data from pgq.get_batch_events(:b);
select pgq.event_retry(:b, 10, 3600);
select queue_name, consumer_name, current_batch = :b as current
  from pgq.get_consumer_info('lq', 'c3');
select pgq.finish_batch(:b);
reset role;

-- ---- unregister and drop -------------------------------------------------
-- unregistering drops the consumer's batches (the open one too) and retries
select pgq.insert_event('lq', 'ev', 'before unregister', null, null, null, null);
select pgq.ticker('lq');
select pgq.next_batch('lq', 'c3') as b \gset
select :b as batch_id;
select ev_id, ev_data from pgq.get_batch_events(:b);
select pgq.event_retry(:b, 11, 3600);
select ev_owner, count(*) from pgq.retry_queue group by 1 order by 1;
select pgq.unregister_consumer('lq', 'c3');
select batch_consumer, count(*) from pgq.batch group by 1 order by 1;
select ev_owner, count(*) from pgq.retry_queue group by 1 order by 1;
select pgq.finish_batch(:b);
select * from pgq.get_batch_info(:b);
-- registered again: a new subscription, no batch of the old one comes back
select pgq.register_consumer('lq', 'c3');
select pgq.next_batch('lq', 'c3');
select pgq.drop_queue('lq');
select pgq.next_batch('lq', 'c2') as b \gset
select pgq.drop_queue('lq', true);
select count(*) as batch_rows from pgq.batch;
select count(*) as options from pgq.queue_option;
select * from pgq.get_queue_options();
select pgq.drop_queue('cq', true);
