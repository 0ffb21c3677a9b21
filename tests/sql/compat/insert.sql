-- Producing events: insert_event (3 and 7 args), insert_event_raw,
-- current_event_table, disabled queues, session_replication_role, the
-- per-transaction limit.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('iqueue');

-- ids come from the queue's sequence, one per call
select pgq.insert_event('iqueue', 'type1', 'data1');
select pgq.insert_event('iqueue', 'type2', 'data2', 'e1', 'e2', 'e3', 'e4');
select pgq.insert_event('iqueue', null, null);
select pgq.insert_event('iqueue', null, null, null, null, null, null);

-- insert_event_raw: an explicit id, time, owner and retry count are kept;
-- the sequence value is consumed anyway
select pgq.insert_event_raw('iqueue', 100, '2001-02-03 04:05:06+00', 7, 3,
                            'rawtype', 'rawdata', 'x1', 'x2', 'x3', 'x4');
select pgq.insert_event('iqueue', 'type3', 'data3');
-- NULL time means now()
select pgq.insert_event_raw('iqueue', null, null, null, null, 't', 'd', null, null, null, null);

select ev_id, ev_time = '2001-02-03 04:05:06+00' as old_time,
       ev_time > now() - interval '1 hour' as recent,
       ev_txid > 0 as has_txid, ev_owner, ev_retry,
       ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
  from pgq.event_template order by ev_id;
-- all in the current table
select tableoid::regclass, count(*) from pgq.event_1 group by 1;

-- errors
select pgq.insert_event('nosuchqueue', 't', 'd');
select pgq.insert_event(null, 't', 'd');
select pgq.insert_event_raw(null, null, now(), null, null, 't', 'd', null, null, null, null);
select pgq.insert_event_raw('nosuchqueue', null, now(), null, null, 't', 'd', null, null, null, null);
-- a duplicate explicit id is not refused (event tables have no unique key)
select pgq.insert_event_raw('iqueue', 100, now(), null, null, 'dup', 'dup', null, null, null, null);
select count(*) from pgq.event_template where ev_id = 100;

-- in a rolled back transaction the id is still used up
begin;
select pgq.insert_event('iqueue', 'rolled', 'back');
rollback;
select pgq.insert_event('iqueue', 'after', 'rollback');
select count(*) as rolled_back_rows from pgq.event_template where ev_type = 'rolled';

-- disabled queue: refused, unless session_replication_role = replica;
-- the id of a refused insert is used up too
update pgq.queue set queue_disable_insert = true where queue_name = 'iqueue';
select pgq.insert_event('iqueue', 'disabled', 'x');
select pgq.insert_event_raw('iqueue', null, now(), null, null, 'disabled', 'x', null, null, null, null);
select pgq.current_event_table('iqueue');
set session_replication_role = 'replica';
select pgq.insert_event('iqueue', 'replica', 'x');
select pgq.current_event_table('iqueue');
set session_replication_role = 'local';
select pgq.insert_event('iqueue', 'local', 'x');
select pgq.current_event_table('iqueue');
reset session_replication_role;
update pgq.queue set queue_disable_insert = false where queue_name = 'iqueue';
select pgq.insert_event('iqueue', 'enabled', 'x');
select ev_id, ev_type from pgq.event_template where ev_id > 9 order by ev_id;

-- per-transaction limit
update pgq.queue set queue_per_tx_limit = 2 where queue_name = 'iqueue';
begin;
select pgq.insert_event('iqueue', 'lim', '1');
select pgq.insert_event('iqueue', 'lim', '2');
select pgq.insert_event('iqueue', 'lim', '3');
rollback;
begin;
select pgq.insert_event('iqueue', 'lim', '4');
select pgq.insert_event_raw('iqueue', null, now(), null, null, 'lim', '5', null, null, null, null);
commit;
-- a new transaction starts counting from zero
select pgq.insert_event('iqueue', 'lim', '6');
select pgq.insert_event('iqueue', 'lim', '7');
-- the limit is per queue
select pgq.create_queue('other');
update pgq.queue set queue_per_tx_limit = 1 where queue_name = 'other';
begin;
select pgq.insert_event('iqueue', 'lim', '8');
select pgq.insert_event('other', 'lim', '9');
select pgq.insert_event('iqueue', 'lim', '10');
select pgq.insert_event('other', 'lim', '11');
commit;
-- limit 0 refuses every insert
update pgq.queue set queue_per_tx_limit = 0 where queue_name = 'iqueue';
select pgq.insert_event('iqueue', 'lim', '12');
update pgq.queue set queue_per_tx_limit = null where queue_name = 'iqueue';
select pgq.insert_event('iqueue', 'nolimit', '13');
select ev_type, ev_data from pgq.event_template where ev_type in ('lim', 'nolimit') order by ev_id;

-- COPY-style bulk loading into current_event_table: ev_id and ev_txid
-- come from the column defaults
select pgq.current_event_table('iqueue') as tbl \gset
insert into :tbl (ev_time, ev_type, ev_data) values (now(), 'copied', 'c1'), (now(), 'copied', 'c2');
select ev_id > 0 as has_id, ev_txid = txid_current() as other_tx, ev_type, ev_data
  from pgq.event_template where ev_type = 'copied' order by ev_id;
