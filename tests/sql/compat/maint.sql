-- Maintenance helpers: maint_operations (with pgq_node / londiste hooks
-- present), maint_tables_to_vacuum, upgrade_schema, seq_getval, seq_setval,
-- quote_fqname.  Rotation steps and retry moving have their own files.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.upgrade_schema();
select pgq.upgrade_schema();
-- over an old schema: sub_last_tick NOT NULL, no queue_extra_maint
alter table pgq.subscription alter column sub_last_tick set not null;
alter table pgq.queue drop column queue_extra_maint;
select pgq.upgrade_schema();
select attname, attnotnull from pg_attribute
 where attrelid in ('pgq.subscription'::regclass, 'pgq.queue'::regclass)
   and attname in ('sub_last_tick', 'queue_extra_maint') and not attisdropped
 order by 1;
select pgq.upgrade_schema();

-- autovacuum is on in the test cluster: nothing to vacuum
select current_setting('autovacuum');
select * from pgq.maint_tables_to_vacuum();

-- maint_operations: nothing to do on a fresh database
select * from pgq.maint_operations();
select pgq.create_queue('q1');
select pgq.create_queue('q2');
select * from pgq.maint_operations();
update pgq.queue set queue_extra_maint = array['pgq_node.x', 'y'] where queue_name = 'q2';
update pgq.queue set queue_extra_maint = array['z'] where queue_name = 'q1';
select * from pgq.maint_operations();
-- step2 is listed while any queue waits for it
update pgq.queue set queue_switch_step2 = null where queue_name = 'q1';
select * from pgq.maint_operations();
select pgq.maint_rotate_tables_step2();
select * from pgq.maint_operations();
update pgq.queue set queue_extra_maint = null;

-- hooks of companion packages, when their functions exist
create schema pgq_node;
create function pgq_node.maint_watermark(text) returns int language sql as 'select 0';
create table pgq_node.node_info (queue_name text, node_type text, node_name text);
insert into pgq_node.node_info values ('q1', 'root', 'n1'), ('q2', 'root', 'n1'), ('q3', 'branch', 'n2');
select * from pgq.maint_operations();
create schema londiste;
create function londiste.root_check_seqs(text) returns int language sql as 'select 0';
create table londiste.seq_info (queue_name text, seq_name text, local boolean);
insert into londiste.seq_info values ('q1', 's1', true), ('q2', 's2', false), ('q1', 's3', true), ('q3', 's4', true);
select * from pgq.maint_operations();
create function londiste.periodic_maintenance() returns int language sql as 'select 0';
select * from pgq.maint_operations();

-- seq_getval / seq_setval: without a schema, public is meant
create sequence public.myseq;
create sequence public."Odd Seq" start 5;
select pgq.seq_getval('myseq');
select pgq.seq_getval('public.myseq');
select pgq.seq_getval('public.Odd Seq');
select pgq.seq_getval('pgq.event_1_id_seq');
select pgq.seq_getval('nosuchseq');
select pgq.seq_getval('nosuchschema.nosuchseq');
select pgq.seq_getval(null);
-- never moves back; returns the resulting value
select pgq.seq_setval('myseq', 10);
select pgq.seq_setval('myseq', 5);
select pgq.seq_setval('public.myseq', 10);
select pgq.seq_setval('public.Odd Seq', 3);
select pgq.seq_getval('myseq'), nextval('public.myseq');
select pgq.seq_setval('myseq', null);
select pgq.seq_setval(null, 1);
select pgq.seq_setval('nosuchseq', 1);

-- quote_fqname: schema is everything before the first dot, default public
select pgq.quote_fqname('tbl');
select pgq.quote_fqname('Tbl');
select pgq.quote_fqname('sch.tbl');
select pgq.quote_fqname('Sch.Tbl');
select pgq.quote_fqname('a.b.c');
select pgq.quote_fqname('a."b"');
select pgq.quote_fqname('.x');
select pgq.quote_fqname('x.');
select pgq.quote_fqname('');
select pgq.quote_fqname('with space.and"quote');
select pgq.quote_fqname(null);
