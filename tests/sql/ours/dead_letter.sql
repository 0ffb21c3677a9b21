-- pgqpp addition: dead letters (pgq.dead_letter_*).  A consumer moves events
-- of its batch to the store; an operator lists, shows, requeues (to that
-- consumer only, through the retry queue) and purges them.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('dlq');
select pgq.set_queue_config('dlq', 'ticker_max_lag', '0');
select pgq.set_queue_config('dlq', 'ticker_idle_period', '0');
select pgq.create_queue('dlq2');
select pgq.register_consumer('dlq', 'owner');
select pgq.register_consumer('dlq', 'other');
select pgq.insert_event('dlq', 'ev' || i, 'data' || i, 'x' || i, null, 'z', null)
  from generate_series(1, 6) i;
select pgq.ticker('dlq');
select pgq.next_batch('dlq', 'owner');
select pgq.next_batch('dlq', 'other');

-- into the store, in bulk: returns how many were added
select pgq.dead_letter_add(1, array[2, 3], 'cannot parse');
-- again (a replayed batch), or with duplicates: nothing twice
select pgq.dead_letter_add(1, array[3, 3, 2], 'cannot parse');
select pgq.dead_letter_add(1, array[5], 'timeout at the collector');
select pgq.dead_letter_add(2, array[2], 'other consumer''s reason');
select pgq.dead_letter_add(1, '{}', 'nothing');
select dl_id, dl_queue, dl_consumer, dl_time <= now() as died_before, dl_reason, dl_batch_id,
       ev_id, ev_time is not null as has_time, ev_txid is not null as has_txid, ev_retry,
       ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
  from pgq.dead_letter order by dl_id;

-- errors: nothing is added
select pgq.dead_letter_add(1, array[4, 999, 1000], 'some are not in the batch');
select pgq.dead_letter_add(999, array[1], 'no such batch');
select pgq.dead_letter_add(null, array[1], 'x');
select pgq.dead_letter_add(1, null, 'x');
select pgq.dead_letter_add(1, array[1], null);
select pgq.dead_letter_add(1, array[1, null], 'x');
select count(*) from pgq.dead_letter where ev_id in (1, 4);

-- the consumer finishes its batch as always
select pgq.finish_batch(1);
select pgq.finish_batch(2);
select pgq.dead_letter_add(1, array[1], 'batch finished already');

-- listing: newest first, by queue and consumer, a page at a time
select dl_id, queue_name, consumer_name, dl_reason, dl_batch_id, ev_id, ev_retry, ev_type, ev_data
  from pgq.dead_letter_list();
select dl_id, consumer_name, ev_id from pgq.dead_letter_list('dlq', 'owner');
select dl_id, consumer_name, ev_id from pgq.dead_letter_list('dlq', 'owner', 2);
select dl_id, consumer_name, ev_id from pgq.dead_letter_list('dlq', 'owner', 2, 2);
select dl_id, consumer_name, ev_id from pgq.dead_letter_list(null, 'other');
select dl_id from pgq.dead_letter_list('dlq2');
select dl_id from pgq.dead_letter_list('dlq', 'nobody');
select dl_id from pgq.dead_letter_list('nosuch');
select dl_id from pgq.dead_letter_list('dlq', null, 0);
-- one, with everything
select dl_id, queue_name, consumer_name, dl_reason, dl_batch_id, ev_id, ev_retry,
       ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4,
       ev_txid = (select ev_txid from pgq.event_1 where ev_id = 3) as same_txid,
       ev_time = (select ev_time from pgq.event_1 where ev_id = 3) as same_time
  from pgq.dead_letter_show(2);
select * from pgq.dead_letter_show(999);

-- requeue: back to that consumer only, via its retry queue (all or none)
select pgq.dead_letter_requeue(array[1, 999, 998]);
select pgq.dead_letter_requeue(null);
select pgq.dead_letter_requeue(array[1, null]);
select pgq.dead_letter_requeue(array[1, 2]);
select pgq.dead_letter_requeue('{}');
select ev_owner = (select sub_id from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
                    where c.co_name = 'owner') as owners,
       ev_id, ev_retry, ev_type, ev_data, ev_extra1, ev_extra3, ev_txid,
       ev_retry_after <= now() as due
  from pgq.retry_queue order by ev_id;
select dl_id, ev_id from pgq.dead_letter_list() order by dl_id;
select pgq.maint_retry_events();
select pgq.ticker('dlq');
select pgq.next_batch('dlq', 'owner');
select ev_id, ev_retry, ev_type, ev_data, ev_extra1 from pgq.get_batch_events(3);
select pgq.next_batch('dlq', 'other');
select ev_id, ev_retry, ev_type, ev_data from pgq.get_batch_events(4);
-- it dies again: one more dead letter, with its retry count
select pgq.dead_letter_add(3, array[2], 'still cannot parse');
select dl_id, consumer_name, dl_batch_id, ev_id, ev_retry from pgq.dead_letter_list('dlq', 'owner');
select pgq.finish_batch(3);
select pgq.finish_batch(4);
-- requeued later, not due yet
select pgq.dead_letter_requeue(array[5], now() + interval '1 hour');
select ev_id, ev_retry, ev_retry_after > now() as later from pgq.retry_queue order by ev_id;
-- its consumer is gone: refused, nothing changes
select pgq.unregister_consumer('dlq', 'other');
select pgq.dead_letter_requeue(array[7, 6]);
select dl_id, consumer_name, ev_id from pgq.dead_letter_list() order by dl_id;

-- purge: by ids (all or none), or by age
select pgq.dead_letter_purge(array[6, 999]);
select pgq.dead_letter_purge(array[6]);
select pgq.dead_letter_purge(array[6]);
select pgq.dead_letter_purge(null::bigint[]);
select pgq.dead_letter_purge('dlq', interval '1 hour');
select pgq.dead_letter_purge('nosuch', interval '1 hour');
select pgq.dead_letter_purge('dlq', null);
select pgq.dead_letter_purge('dlq', interval '-1 second');
select pgq.dead_letter_purge('dlq2', interval '0');
select pgq.dead_letter_purge(null, interval '0');
select count(*) from pgq.dead_letter;

-- a cooperative subconsumer's dead letters are its group's: requeued, the
-- group (whichever member asks) gets them again
select pgq_coop.register_subconsumer('dlq', 'grp', 's1');
select pgq.insert_event('dlq', 'ev', 'coop' || i) from generate_series(1, 2) i;
select pgq.ticker('dlq');
select pgq_coop.next_batch('dlq', 'grp', 's1') as batch_id \gset
select ev_id, ev_data from pgq.get_batch_events(:batch_id);
select pgq.dead_letter_add(:batch_id, array(select min(ev_id) from pgq.get_batch_events(:batch_id)),
                           'coop failure');
select pgq_coop.finish_batch(:batch_id);
select dl_id, queue_name, consumer_name, dl_batch_id = :batch_id as same_batch, ev_id
  from pgq.dead_letter_list();
select pgq.dead_letter_requeue(array(select dl_id from pgq.dead_letter_list('dlq', 'grp')));
select pgq.maint_retry_events();
select pgq.ticker('dlq');
select pgq_coop.next_batch('dlq', 'grp', 's2') as batch_id \gset
select ev_id, ev_retry, ev_data from pgq.get_batch_events(:batch_id);
select pgq_coop.finish_batch(:batch_id);

-- privileges: a consumer (pgq_reader) adds and lists; requeue and purge
-- are pgq_admin's; others see nothing
do $$
declare
    r text;
begin
    foreach r in array array['pgqpp_t_dl_nobody', 'pgqpp_t_dl_reader', 'pgqpp_t_dl_admin'] loop
        if not exists (select 1 from pg_roles where rolname = r) then
            execute format('create role %I', r);
        end if;
    end loop;
end $$;
grant pgq_reader to pgqpp_t_dl_reader;
grant pgq_admin to pgqpp_t_dl_admin;
select pgq.register_consumer('dlq', 'rc');
select pgq.insert_event('dlq', 'ev', 'perm');
select pgq.ticker('dlq');
select ev_id as perm_ev from pgq.event_1 where ev_data = 'perm' \gset
set role pgqpp_t_dl_nobody;
select pgq.dead_letter_add(1, array[:perm_ev], 'x');
select count(*) from pgq.dead_letter_list();
select count(*) from pgq.dead_letter;
reset role;
set role pgqpp_t_dl_reader;
select pgq.next_batch('dlq', 'rc') as batch_id \gset
select pgq.dead_letter_add(:batch_id, array[:perm_ev], 'by a reader');
select consumer_name, dl_reason from pgq.dead_letter_list('dlq');
select max(dl_id) as dl_id from pgq.dead_letter_list('dlq') \gset
select dl_reason from pgq.dead_letter_show(:dl_id);
select count(*) from pgq.dead_letter;
select pgq.finish_batch(:batch_id);
select pgq.dead_letter_requeue(array[:dl_id]);
select pgq.dead_letter_purge(array[:dl_id]);
insert into pgq.dead_letter (dl_queue, dl_consumer, dl_reason, dl_batch_id, ev_id, ev_time)
values (1, 'owner', 'forged', 1, 1, now());
reset role;
set role pgqpp_t_dl_admin;
select pgq.dead_letter_requeue(array[:dl_id]);
select pgq.dead_letter_purge(null, '0');
reset role;
select p.oid::regprocedure, p.prosecdef,
       has_function_privilege('pgq_reader', p.oid, 'execute') as reader,
       has_function_privilege('pgq_admin', p.oid, 'execute') as admin,
       has_function_privilege('public', p.oid, 'execute') as public
  from pg_proc p where p.pronamespace = 'pgq'::regnamespace and p.proname like 'dead\_letter\_%'
 order by p.proname, p.pronargs;
revoke pgq_reader from pgqpp_t_dl_reader;
revoke pgq_admin from pgqpp_t_dl_admin;
drop role pgqpp_t_dl_nobody;
drop role pgqpp_t_dl_reader;
drop role pgqpp_t_dl_admin;

-- dropping the queue drops its dead letters
select pgq.insert_event('dlq', 'ev', 'last');
select pgq.ticker('dlq');
select pgq.next_batch('dlq', 'rc') as batch_id \gset
select pgq.dead_letter_add(:batch_id, array(select ev_id from pgq.get_batch_events(:batch_id)),
                           'before the drop');
select pgq.finish_batch(:batch_id);
select count(*) from pgq.dead_letter;
select pgq.drop_queue('dlq', true);
select count(*) from pgq.dead_letter;
