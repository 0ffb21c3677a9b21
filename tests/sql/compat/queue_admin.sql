-- Queue administration: create_queue, drop_queue, set_queue_config,
-- current_event_table, tune_storage, grant_perms, _grant_perms_from, and the
-- objects a queue is made of.
\set VERBOSITY terse
set client_min_messages = warning;

-- create_queue: 1 when created, 0 when it exists, error on NULL
select pgq.create_queue('aqueue');
select pgq.create_queue('aqueue');
select pgq.create_queue(null);
select pgq.create_queue('bqueue');

select queue_id, queue_name, queue_ntables, queue_cur_table, queue_rotation_period,
       queue_switch_step1 = queue_switch_step2 as steps_equal,
       queue_switch_step1 = txid_current() as step1_is_old,
       queue_external_ticker, queue_disable_insert, queue_ticker_paused,
       queue_ticker_max_count, queue_ticker_max_lag, queue_ticker_idle_period,
       queue_per_tx_limit, queue_data_pfx, queue_event_seq, queue_tick_seq,
       queue_extra_maint
  from pgq.queue order by queue_id;

-- the first tick exists right away
select tick_queue, tick_id, tick_event_seq from pgq.tick order by 1, 2;

-- the inheritance tree: pgq.event_template <- pgq.event_1 <- pgq.event_1_0..2
select c.relname as child, p.relname as parent
  from pg_inherits i
  join pg_class c on c.oid = i.inhrelid
  join pg_class p on p.oid = i.inhparent
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'pgq'
 order by 1;

-- ev_id defaults come from the queue's sequence on the leaf tables only
select c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) as default_expr
  from pg_attrdef d
  join pg_class c on c.oid = d.adrelid
  join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
 where c.relnamespace = 'pgq'::regnamespace and c.relname like 'event_%'
 order by 1, 2;

-- one ev_txid index per leaf table, storage tuned
select indexrelid::regclass as index, indrelid::regclass as tbl
  from pg_index where indrelid::regclass::text like 'pgq.event_1_%' order by 1;
select relname, reloptions from pg_class
 where relnamespace = 'pgq'::regnamespace and relname like 'event_1%' and relkind = 'r'
 order by 1;
select c.relname, t.reloptions as toast_options
  from pg_class c join pg_class t on t.oid = c.reltoastrelid
 where c.relnamespace = 'pgq'::regnamespace and c.relname like 'event_1_%' order by 1;

-- sequences of the queue (ours has two more: pgq._trg_ddl_seq of the trigger cache and
-- pgq.dead_letter_dl_id_seq of the dead letters)
select relname from pg_class
 where relnamespace = 'pgq'::regnamespace and relkind = 'S'
   and relname not in ('_trg_ddl_seq', 'dead_letter_dl_id_seq') order by 1;

-- current_event_table
select pgq.current_event_table('aqueue');
select pgq.current_event_table('nosuchqueue');
select pgq.current_event_table(null);

-- set_queue_config: accepted parameters
select pgq.set_queue_config('aqueue', 'ticker_max_count', '10');
select pgq.set_queue_config('aqueue', 'ticker_max_lag', '7 seconds');
select pgq.set_queue_config('aqueue', 'ticker_idle_period', '2 minutes');
select pgq.set_queue_config('aqueue', 'ticker_paused', 'true');
select pgq.set_queue_config('aqueue', 'rotation_period', '1 hour');
select pgq.set_queue_config('aqueue', 'external_ticker', 'on');
select queue_ticker_max_count, queue_ticker_max_lag, queue_ticker_idle_period,
       queue_ticker_paused, queue_rotation_period, queue_external_ticker
  from pgq.queue where queue_name = 'aqueue';
select pgq.set_queue_config('aqueue', 'ticker_paused', 'off');
select pgq.set_queue_config('aqueue', 'external_ticker', 'false');

-- set_queue_config: errors (the message really is '"<name>s"')
select pgq.set_queue_config('aqueue', 'per_tx_limit', '5');
select pgq.set_queue_config('aqueue', 'disable_insert', 'true');
select pgq.set_queue_config('aqueue', 'data_pfx', 'public.x');
select pgq.set_queue_config('aqueue', 'Ticker_max_count', '5');
select pgq.set_queue_config('aqueue', '', '5');
select pgq.set_queue_config('aqueue', 'ticker_max_count', 'x');
select pgq.set_queue_config('aqueue', 'ticker_max_count', '99999999999');
select pgq.set_queue_config('aqueue', 'ticker_max_lag', 'soon');
select pgq.set_queue_config('aqueue', 'ticker_paused', 'maybe');
select pgq.set_queue_config('aqueue', 'ticker_max_count', '5'';drop table pgq.queue;--');
select pgq.set_queue_config('nosuchqueue', 'ticker_max_count', '1');
select pgq.set_queue_config('nosuchqueue', 'bad_param', '1');
select pgq.set_queue_config(null, 'ticker_max_count', '1');
select pgq.set_queue_config('aqueue', null, '1');
select queue_ticker_max_count, queue_ticker_paused, queue_external_ticker
  from pgq.queue where queue_name = 'aqueue';

-- tune_storage and grant_perms
select pgq.tune_storage('aqueue');
select pgq.tune_storage(null);
select pgq.grant_perms('aqueue');
select pgq.grant_perms('nosuchqueue');
select pgq._grant_perms_from('pgq', 'event_template', 'pgq', 'event_2');
select pgq._grant_perms_from(null, 'event_template', 'pgq', 'event_2');
create table public.src (a int);
create table public.dst (a int);
create table public."Odd Dst" (a int);
select pgq._grant_perms_from('public', 'src', 'public', 'dst');
select pgq._grant_perms_from('public', 'nosuchtable', 'public', 'dst');
grant select, insert on public.src to pgq_reader;
grant select on public.src to public;
grant update on public.src to pgq_admin with grant option;
select pgq._grant_perms_from('public', 'src', 'public', 'dst');
select pgq._grant_perms_from('public', 'src', 'public', 'Odd Dst');
select pgq._grant_perms_from('public', 'src', 'public', 'nosuchtable');
select table_name, grantee, privilege_type, is_grantable
  from information_schema.table_privileges
 where table_schema = 'public' and grantee <> current_user
 order by 1, 2, 3;

-- drop_queue
select pgq.drop_queue('nosuchqueue');
select pgq.drop_queue('nosuchqueue', true);
select pgq.drop_queue(null);
select pgq.register_consumer('aqueue', 'cons');
select pgq.drop_queue('aqueue');
select pgq.drop_queue('aqueue', false);
select pgq.drop_queue('aqueue', null);
select count(*) from pgq.queue where queue_name = 'aqueue';
select pgq.drop_queue('aqueue', true);
select count(*) as queues from pgq.queue where queue_name = 'aqueue';
select count(*) as ticks from pgq.tick where tick_queue = 1;
select count(*) as subscriptions from pgq.subscription;
select count(*) as consumers from pgq.consumer;
select relname from pg_class
 where relnamespace = 'pgq'::regnamespace and relname like 'event_1%' order by 1;
select pgq.drop_queue('bqueue');
select count(*) as tables_left from pg_class
 where relnamespace = 'pgq'::regnamespace and relname ~ '^event_[0-9]';

-- a queue name is just a name: quoting-hostile names work
select pgq.create_queue('q "x"; drop table pgq.tick; --');
select queue_id, queue_name, queue_data_pfx from pgq.queue order by queue_id;
select pgq.current_event_table('q "x"; drop table pgq.tick; --');
select pgq.drop_queue('q "x"; drop table pgq.tick; --');
select count(*) from pgq.queue;
-- ids are not reused
select pgq.create_queue('aqueue');
select queue_id, queue_data_pfx from pgq.queue;
