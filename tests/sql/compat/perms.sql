-- Roles and permissions: what a role outside pgq's roles, a pgq_reader, a
-- pgq_writer and a pgq_admin member may do.  The test roles are
-- cluster-wide: made if missing, dropped at the end.
\set VERBOSITY terse
set client_min_messages = warning;

do $$
declare
    r text;
begin
    foreach r in array array['pgqpp_t_nobody', 'pgqpp_t_reader', 'pgqpp_t_writer', 'pgqpp_t_admin'] loop
        if not exists (select 1 from pg_roles where rolname = r) then
            execute format('create role %I login', r);
        end if;
    end loop;
end $$;
grant pgq_reader to pgqpp_t_reader;
grant pgq_writer to pgqpp_t_writer;
grant pgq_admin to pgqpp_t_admin;

-- the roles pgq made
select rolname, rolcanlogin from pg_roles where rolname like 'pgq\_%' order by 1;
select r.rolname as role, m.rolname as member_of
  from pg_auth_members a
  join pg_roles r on r.oid = a.member
  join pg_roles m on m.oid = a.roleid
 where r.rolname like 'pgq\_%' order by 1, 2;

select pgq.create_queue('permq');
select pgq.set_queue_config('permq', 'ticker_max_lag', '0');
select pgq.set_queue_config('permq', 'ticker_idle_period', '0');
select pgq.insert_event('permq', 'ev', 'setup');

-- not a member of any pgq role: only the public information
set role pgqpp_t_nobody;
select pgq.version() like '3.%' as version_ok;
select queue_name, last_tick_id from pgq.get_queue_info();
select queue_name, last_tick_id from pgq.get_queue_info('permq');
select count(*) from pgq.get_consumer_info();
select count(*) from pgq.get_consumer_info('permq');
select count(*) from pgq.get_consumer_info('permq', 'x');
select pgq.seq_getval('pgq.event_1_tick_seq');
select pgq.quote_fqname('a.b');
select queue_name from pgq.queue;
select count(*) from pgq.tick;
select count(*) from pgq.consumer;
select count(*) from pgq.subscription;
select count(*) from pgq.event_template;
select count(*) from pgq.event_1;
select count(*) from pgq.retry_queue;
select pgq.create_queue('x');
select pgq.drop_queue('permq');
select pgq.set_queue_config('permq', 'ticker_max_count', '1');
select pgq.insert_event('permq', 'ev', 'x');
select pgq.insert_event('permq', 'ev', 'x', null, null, null, null);
select pgq.insert_event_raw('permq', null, now(), null, null, 'ev', 'x', null, null, null, null);
select pgq.current_event_table('permq');
select pgq.register_consumer('permq', 'c');
select pgq.register_consumer_at('permq', 'c', 1);
select pgq.unregister_consumer('permq', 'c');
select pgq.next_batch('permq', 'c');
select pgq.next_batch_info('permq', 'c');
select pgq.next_batch_custom('permq', 'c', null, null, null);
select pgq.get_batch_events(1);
select pgq.get_batch_cursor(1, 'c', 1);
select pgq.get_batch_cursor(1, 'c', 1, null);
select pgq.get_batch_info(1);
select pgq.batch_event_sql(1);
select pgq.batch_event_tables(1);
select pgq.event_retry(1, 1, 1);
select pgq.event_retry(1, 1, now());
select pgq.batch_retry(1, 1);
select pgq.finish_batch(1);
select pgq.force_tick('permq');
select pgq.find_tick_helper(1, 1, now(), 1, 1, null);
select pgq.ticker();
select pgq.ticker('permq');
select pgq.ticker('permq', 1, now(), 1);
select pgq.maint_retry_events();
select pgq.maint_rotate_tables_step1('permq');
select pgq.maint_rotate_tables_step2();
select pgq.maint_tables_to_vacuum();
select pgq.maint_operations();
select pgq.upgrade_schema();
select pgq.grant_perms('permq');
select pgq._grant_perms_from('pgq', 'event_template', 'pgq', 'event_1');
select pgq.tune_storage('permq');
select pgq.seq_setval('pgq.event_1_tick_seq', 1);
select pgq.event_retry_raw('permq', 'c', now(), 1, now(), 0, 't', 'd', null, null, null, null);
reset role;

-- pgq_writer: produce only
set role pgqpp_t_writer;
select pgq.insert_event('permq', 'ev', 'by writer');
select pgq.insert_event('permq', 'ev', 'by writer', 'e1', 'e2', 'e3', 'e4');
select pgq.current_event_table('permq');
select pgq.insert_event_raw('permq', null, now(), null, null, 'ev', 'x', null, null, null, null);
insert into pgq.event_1_0 (ev_time, ev_type, ev_data) values (now(), 'direct', 'x');
select count(*) from pgq.event_template;
select pgq.register_consumer('permq', 'c');
select pgq.ticker();
reset role;

-- pgq_reader: consume only
select pgq.ticker('permq');
set role pgqpp_t_reader;
select pgq.register_consumer('permq', 'rc');
select pgq.register_consumer_at('permq', 'rc', 1);
select pgq.next_batch('permq', 'rc');
select batch_id, cur_tick_id, prev_tick_id from pgq.next_batch_info('permq', 'rc');
select batch_id from pgq.next_batch_custom('permq', 'rc', null, null, null);
select ev_id, ev_data from pgq.get_batch_events(1);
select ev_id from pgq.get_batch_cursor(1, 'rcur', 1);
select ev_id from pgq.get_batch_cursor(1, 'rcur2', 1, 'true');
select queue_name, consumer_name from pgq.get_batch_info(1);
select right(pgq.batch_event_sql(1), 11);
select pgq.batch_event_tables(1);
select pgq.event_retry(1, 1, 60);
select pgq.event_retry(1, 2, now());
select pgq.batch_retry(1, 60);
select pgq.force_tick('permq');
select next_tick_id from pgq.find_tick_helper(1, 1, now(), 1, null, '0');
select count(*) from pgq.event_template;
select count(*) from pgq.event_1;
select count(*) from pgq.retry_queue;
select pgq.finish_batch(1);
select pgq.unregister_consumer('permq', 'rc');
select pgq.insert_event('permq', 'ev', 'by reader');
select pgq.ticker('permq');
select pgq.create_queue('x');
reset role;

-- pgq_admin: everything, as a member of reader and writer too
set role pgqpp_t_admin;
select pgq.create_queue('adminq');
select pgq.set_queue_config('adminq', 'ticker_max_lag', '0');
select pgq.set_queue_config('adminq', 'rotation_period', '0');
select pgq.insert_event('adminq', 'ev', 'by admin');
select pgq.insert_event_raw('adminq', null, now(), null, null, 'ev', 'raw by admin', null, null, null, null);
select pgq.current_event_table('adminq');
select pgq.ticker('adminq');
select pgq.ticker() >= 0;
select pgq.register_consumer('adminq', 'ac');
select pgq.event_retry_raw('adminq', 'ac', now() - interval '1 minute', 1, now(), 0, 't', 'd', null, null, null, null);
select pgq.maint_retry_events();
select * from pgq.maint_operations();
select pgq.maint_rotate_tables_step1('adminq');
select pgq.maint_rotate_tables_step2();
select * from pgq.maint_tables_to_vacuum();
select pgq.upgrade_schema();
select pgq.grant_perms('adminq');
select pgq._grant_perms_from('pgq', 'event_template', 'pgq', 'event_2');
select pgq.tune_storage('adminq');
select pgq.seq_setval('pgq.event_2_tick_seq', 100);
select pgq.force_tick('adminq');
select pgq.drop_queue('adminq', true);
select count(*) from pgq.retry_queue;
reset role;

-- queues made by the admin are readable by readers too
set role pgqpp_t_admin;
select pgq.create_queue('adminq2');
reset role;
select grantee, privilege_type from information_schema.table_privileges
 where table_schema = 'pgq' and table_name = 'event_3_0' and grantee like 'pgq%' order by 1, 2;

-- clean up the cluster-wide roles
select pgq.drop_queue('adminq2');
select pgq.drop_queue('permq', true);
drop owned by pgqpp_t_nobody, pgqpp_t_reader, pgqpp_t_writer, pgqpp_t_admin;
drop role pgqpp_t_nobody;
drop role pgqpp_t_reader;
drop role pgqpp_t_writer;
drop role pgqpp_t_admin;
