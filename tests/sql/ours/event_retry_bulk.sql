-- pgqpp addition: pgq.event_retry_bulk(batch, ids bigint[], seconds | timestamptz):
-- many events of a batch into the retry queue in one statement.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('rbq');
select pgq.set_queue_config('rbq', 'ticker_max_lag', '0');
select pgq.set_queue_config('rbq', 'ticker_idle_period', '0');
select pgq.register_consumer('rbq', 'owner');
select pgq.register_consumer('rbq', 'other');
select pgq.insert_event('rbq', 'ev', 'data' || i, 'x' || i, null, null, null)
  from generate_series(1, 10) i;
select pgq.ticker('rbq');
select pgq.next_batch('rbq', 'owner');
select pgq.next_batch('rbq', 'other');

-- returns how many were added
select pgq.event_retry_bulk(1, array[1, 2, 3], now() - interval '1 minute');
select pgq.event_retry_bulk(1, array[4, 5]::bigint[], -60);
-- already waiting: skipped, not an error; duplicates in the array count once
select pgq.event_retry_bulk(1, array[3, 4, 6, 6, 6], now() - interval '1 minute');
select pgq.event_retry(1, 6, now());
select pgq.event_retry(1, 7, now() + interval '1 hour');
select pgq.event_retry_bulk(1, array[7, 8], 3600);
-- an empty array: nothing
select pgq.event_retry_bulk(1, '{}', now());
select ev_owner, ev_id, ev_retry, ev_type, ev_data, ev_extra1, ev_txid,
       ev_retry_after <= now() as due
  from pgq.retry_queue order by ev_id;

-- errors: ids not in the batch (nothing is added), unknown batch, NULLs
select pgq.event_retry_bulk(1, array[9, 999, 1000], now());
select pgq.event_retry_bulk(1, array[999], now());
select count(*) from pgq.retry_queue where ev_id = 9;
select pgq.event_retry_bulk(999, array[1], now());
select pgq.event_retry_bulk(999, array[1], 10);
select pgq.event_retry_bulk(null, array[1], now());
select pgq.event_retry_bulk(1, null, now());
select pgq.event_retry_bulk(1, array[1], null::timestamptz);
select pgq.event_retry_bulk(1, array[1], null::integer);
select pgq.event_retry_bulk(1, array[1, null], now());
-- a finished batch is not found any more
select pgq.event_retry_bulk(2, array[1, 2], now() - interval '1 minute');
select pgq.finish_batch(2);
select pgq.event_retry_bulk(2, array[1], now());

-- in one transaction with event_retry on the same batch
begin;
select pgq.event_retry(1, 9, now() - interval '1 minute');
select pgq.event_retry_bulk(1, array[9, 10], now() - interval '1 minute');
select pgq.event_retry(1, 10, now());
commit;
select ev_owner, count(*) from pgq.retry_queue group by 1 order by 1;
select pgq.finish_batch(1);

-- the due events come back to their owner only
select pgq.maint_retry_events();
select pgq.maint_retry_events();
select pgq.ticker('rbq');
select pgq.next_batch('rbq', 'owner');
select ev_id, ev_retry, ev_data from pgq.get_batch_events(3);
select pgq.next_batch('rbq', 'other');
select ev_id, ev_retry, ev_data from pgq.get_batch_events(4);
-- retried again: the retry count goes up
select pgq.event_retry_bulk(3, array[1, 2], now() - interval '1 minute');
select ev_id, ev_retry from pgq.retry_queue where ev_id in (1, 2) order by 1;
select pgq.finish_batch(3);
select pgq.finish_batch(4);

-- permissions: pgq_reader may call it
select has_function_privilege('pgq_reader', 'pgq.event_retry_bulk(bigint, bigint[], integer)', 'execute') as reader_int,
       has_function_privilege('pgq_reader', 'pgq.event_retry_bulk(bigint, bigint[], timestamptz)', 'execute') as reader_ts,
       has_function_privilege('public', 'pgq.event_retry_bulk(bigint, bigint[], integer)', 'execute') as public_int;
