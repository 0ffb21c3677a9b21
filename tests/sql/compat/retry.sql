-- Retry: event_retry (timestamp and seconds), batch_retry, event_retry_raw,
-- maint_retry_events, and who sees retried events.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('rq');
select pgq.set_queue_config('rq', 'ticker_max_lag', '0');
select pgq.set_queue_config('rq', 'ticker_idle_period', '0');
select pgq.register_consumer('rq', 'owner');
select pgq.register_consumer('rq', 'other');
select pgq.insert_event('rq', 'ev', 'data' || i, 'x' || i, null, null, 'y' || i)
  from generate_series(1, 15) i;
select pgq.ticker('rq');
select pgq.next_batch('rq', 'owner');
select pgq.next_batch('rq', 'other');

-- event_retry: 1, then 0 for an event already in the retry queue
select pgq.event_retry(1, 1, now() - interval '1 hour');
select pgq.event_retry(1, 1, now() - interval '1 hour');
select pgq.event_retry(1, 1, 0);
select pgq.event_retry(1, 2, 3600);
select pgq.event_retry(1, 3, now() + interval '1 hour');
select pgq.event_retry(1, 4, -3600);

-- errors
select pgq.event_retry(1, 999, now());
select pgq.event_retry(1, 999, 10);
select pgq.event_retry(999, 1, now());
select pgq.event_retry(999, 1, 10);
select pgq.event_retry(1, null, now());
select pgq.event_retry(null, 1, now());
select pgq.event_retry(1, 5, null::integer);
select pgq.event_retry(1, 5, null::timestamptz);

select ev_queue, ev_owner, ev_id, ev_txid, ev_retry, ev_type, ev_data,
       ev_extra1, ev_extra2, ev_extra3, ev_extra4,
       ev_retry_after < now() as due
  from pgq.retry_queue order by ev_id;

-- batch_retry: every event of the batch not yet in the retry queue
select pgq.batch_retry(2, 0);
select pgq.batch_retry(2, 0);
select pgq.batch_retry(999, 0);
select pgq.batch_retry(null, 0);
select pgq.batch_retry(1, null);
select ev_owner, count(*), min(ev_id), max(ev_id) from pgq.retry_queue group by 1 order by 1;

-- event_retry_raw: any event, for one consumer; ev_id NULL takes a new id
select pgq.event_retry_raw('rq', 'other', now() - interval '1 minute', 666, now(), 5,
                           'rawtype', 'rawdata', 'e1', 'e2', 'e3', 'e4');
select pgq.event_retry_raw('rq', 'other', now() - interval '1 minute', null, now(), null,
                           'rawtype', 'newid', null, null, null, null);
select pgq.event_retry_raw('rq', 'nobody', now(), 1, now(), 0, 't', 'd', null, null, null, null);
select pgq.event_retry_raw('nosuchqueue', 'other', now(), 1, now(), 0, 't', 'd', null, null, null, null);
select pgq.event_retry_raw('rq', 'other', now(), 666, now(), 0, 't', 'dup', null, null, null, null);
select pgq.event_retry_raw('rq', 'other', null, 667, now(), 0, 't', 'd', null, null, null, null);
select pgq.event_retry_raw('rq', 'other', now(), 667, null, 0, 't', 'd', null, null, null, null);
select pgq.event_retry_raw(null, null, now(), 667, now(), 0, 't', 'd', null, null, null, null);
select ev_owner, ev_id, ev_retry, ev_type, ev_data, ev_txid from pgq.retry_queue
 where ev_type = 'rawtype' order by ev_id;

select pgq.finish_batch(1);
select pgq.finish_batch(2);

-- maint_retry_events: moves due events (at most 10 per call) back into the
-- queue; the caller repeats until 0
select pgq.maint_retry_events();
select pgq.maint_retry_events();
select pgq.maint_retry_events();
select pgq.maint_retry_events();
select ev_owner, count(*) as waiting from pgq.retry_queue group by 1 order by 1;

-- the moved events carry their owner and retry count, with a new txid
select ev_id, ev_owner, ev_retry, ev_type, ev_data from pgq.event_template
 where ev_owner is not null order by ev_owner, ev_id;

-- only the owner sees them, in a later batch
select pgq.insert_event('rq', 'ev', 'fresh');
select pgq.ticker('rq');
select pgq.next_batch('rq', 'owner');
select ev_id, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
  from pgq.get_batch_events(3);
select pgq.next_batch('rq', 'other');
select ev_id, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
  from pgq.get_batch_events(4);
-- retried again: the count goes up
select pgq.event_retry(3, 1, now() - interval '1 minute');
select ev_id, ev_retry from pgq.retry_queue where ev_id = 1;
select pgq.finish_batch(3);
select pgq.finish_batch(4);
select pgq.maint_retry_events();
select pgq.ticker('rq');
select pgq.next_batch('rq', 'owner');
select ev_id, ev_retry, ev_data from pgq.get_batch_events(5);
select pgq.finish_batch(5);

-- not due yet: stays
select ev_owner, ev_id, ev_retry_after > now() as later from pgq.retry_queue order by 1, 2;

-- unregistering drops the consumer's waiting retry events
select pgq.unregister_consumer('rq', 'owner');
select count(*) from pgq.retry_queue;

-- a retry event in a rolled back mover transaction comes back
select pgq.event_retry_raw('rq', 'other', now() - interval '1 minute', 777, now(), 1,
                           't', 'rolled', null, null, null, null);
begin;
select pgq.maint_retry_events();
rollback;
select ev_id from pgq.retry_queue;
select pgq.maint_retry_events();
select count(*) from pgq.retry_queue;
