-- pgq_ext (pgq_sql/pgq_ext): target-side tracking of batches, events and
-- ticks for exactly-once consumers, PgQ's pgq_ext 3.3 API.  Installed in
-- tmpl_ours next to pgq here; it needs nothing of pgq (the python client
-- test installs it alone in a target database).
\set VERBOSITY terse
set client_min_messages = warning;

select pgq_ext.version() = coalesce((select extversion from pg_extension where extname = 'pgq_ext'),
                                    pgq_ext.version()) as version_ok,
       pgq_ext.version() ~ '^3\.[0-9]+(\.[0-9]+)?$' as version_3x;

-- the tables: every one keyed by consumer and subconsumer
select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
  from pg_class c join pg_attribute a on a.attrelid = c.oid
 where c.relnamespace = 'pgq_ext'::regnamespace and c.relkind = 'r'
   and a.attnum > 0 and not a.attisdropped
 order by c.relname, a.attnum;
select conrelid::regclass, conname, pg_get_constraintdef(oid)
  from pg_constraint where connamespace = 'pgq_ext'::regnamespace order by 1, 2;

-- the functions: full forms SECURITY DEFINER with a pinned search_path,
-- short forms as their caller
select p.oid::regprocedure, pg_get_function_result(p.oid) as result,
       p.prosecdef, p.proconfig
  from pg_proc p where p.pronamespace = 'pgq_ext'::regnamespace
 order by p.proname, p.pronargs;

-- batch tracking: only the last batch is kept; the same batch twice is
-- "already done"
select pgq_ext.is_batch_done('c1', 10);
select pgq_ext.set_batch_done('c1', 10);
select pgq_ext.is_batch_done('c1', 10);
select pgq_ext.set_batch_done('c1', 10);
select pgq_ext.is_batch_done('c1', 9), pgq_ext.is_batch_done('c1', 11);
select pgq_ext.set_batch_done('c1', 11);
select pgq_ext.is_batch_done('c1', 10), pgq_ext.is_batch_done('c1', 11);
-- subconsumers are tracked apart; the short form is subconsumer ''
select pgq_ext.is_batch_done('c1', '', 11), pgq_ext.is_batch_done('c1', 'sub', 11);
select pgq_ext.set_batch_done('c1', 'sub', 11);
select pgq_ext.set_batch_done('c1', 'sub', 12);
select pgq_ext.is_batch_done('c1', 'sub', 12), pgq_ext.is_batch_done('c2', 12);
-- a batch id <= 0 is not recorded
select pgq_ext.set_batch_done('c3', 0), pgq_ext.is_batch_done('c3', 0);
select * from pgq_ext.completed_batch order by 1, 2;
-- in one transaction with the target's writes: a rollback forgets it
begin;
select pgq_ext.set_batch_done('c1', 13);
rollback;
select pgq_ext.is_batch_done('c1', 13), pgq_ext.is_batch_done('c1', 11);

-- batch outcomes (pgqpp): retries and dead letters recorded with the batch,
-- read back by id; an event recorded twice keeps the later outcome
select pgq_ext.set_batch_outcome('c4', 30, '{5,3,5}', 60, null);
select pgq_ext.set_batch_outcome('c4', 30, '{7,3}', null, 'bad payload');
select pgq_ext.set_batch_outcome('c4', 'sub', 30, '{9}', 0, null);
select * from pgq_ext.get_batch_outcomes('c4', 30);
select * from pgq_ext.get_batch_outcomes('c4', 'sub', 30);
select count(*) as other_batch from pgq_ext.get_batch_outcomes('c4', 31);
-- bad input changes nothing
select pgq_ext.set_batch_outcome('c4', 30, '{1}', null, null);
select pgq_ext.set_batch_outcome('c4', 30, '{1}', 5, 'both');
select pgq_ext.set_batch_outcome('c4', 30, '{1}', -1, null);
select pgq_ext.set_batch_outcome('c4', 30, '{1,null}', 5, null);
select pgq_ext.set_batch_outcome('c4', 30, null, 5, null);
select pgq_ext.set_batch_outcome(null, 30, '{1}', 5, null);
select pgq_ext.set_batch_outcome('c4', null, '{1}', 5, null);
select count(*) as after_bad_input from pgq_ext.batch_outcome;
-- they go with the batch's transaction; set_batch_done of the same batch
-- keeps them, of a new batch forgets the earlier batches' (that consumer's only)
begin;
select pgq_ext.set_batch_outcome('c4', 32, '{1}', 1, null);
rollback;
select count(*) as rolled_back from pgq_ext.get_batch_outcomes('c4', 32);
select pgq_ext.set_batch_done('c4', 30);
select pgq_ext.set_batch_done('c4', 30);
select count(*) as kept from pgq_ext.get_batch_outcomes('c4', 30);
select pgq_ext.set_batch_outcome('c4', 31, '{11}', 2, null);
select pgq_ext.set_batch_done('c4', 31);
select consumer_id, subconsumer_id, batch_id, event_id from pgq_ext.batch_outcome order by 1, 2, 3, 4;

-- event tracking: events of the batch in progress; a new batch forgets the
-- previous one's
select pgq_ext.is_event_done('c1', 20, 1);
select pgq_ext.set_event_done('c1', 20, 1);
select pgq_ext.set_event_done('c1', 20, 2);
select pgq_ext.set_event_done('c1', 20, 1);
select pgq_ext.is_event_done('c1', 20, 1), pgq_ext.is_event_done('c1', 20, 3),
       pgq_ext.is_event_done('c1', 21, 1);
select pgq_ext.set_event_done('c1', 'sub', 20, 1);
select * from pgq_ext.partial_batch order by 1, 2;
select * from pgq_ext.completed_event order by 1, 2, 3, 4;
select pgq_ext.set_event_done('c1', 21, 5);
select pgq_ext.is_event_done('c1', 20, 1), pgq_ext.is_event_done('c1', 21, 5),
       pgq_ext.is_event_done('c1', 'sub', 20, 1);
select * from pgq_ext.partial_batch order by 1, 2;
select * from pgq_ext.completed_event order by 1, 2, 3, 4;

-- tick tracking: NULL forgets the position
select pgq_ext.get_last_tick('c1');
select pgq_ext.set_last_tick('c1', 5);
select pgq_ext.get_last_tick('c1'), pgq_ext.get_last_tick('c1', ''), pgq_ext.get_last_tick('c1', 'sub');
select pgq_ext.set_last_tick('c1', 6);
select pgq_ext.set_last_tick('c1', 'sub', 3);
select pgq_ext.get_last_tick('c1'), pgq_ext.get_last_tick('c1', 'sub');
select pgq_ext.set_last_tick('c1', null);
select pgq_ext.get_last_tick('c1'), pgq_ext.get_last_tick('c1', 'sub');
select * from pgq_ext.completed_tick order by 1, 2;

-- bad input: a NULL consumer is refused by the tables, and changes nothing
select pgq_ext.set_batch_done(null, 1);
select pgq_ext.set_last_tick(null, 1);
select pgq_ext.is_batch_done(null, 1), pgq_ext.get_last_tick(null);

-- upgrade_schema: nothing to do on a current install
select pgq_ext.upgrade_schema();

-- ... and tables of a pgq_ext before subconsumers get subconsumer_id ('')
-- and their new keys, rows kept
drop table pgq_ext.completed_tick, pgq_ext.completed_batch,
           pgq_ext.completed_event, pgq_ext.partial_batch;
create table pgq_ext.completed_tick (consumer_id text not null, last_tick_id bigint not null,
                                     primary key (consumer_id));
create table pgq_ext.completed_batch (consumer_id text not null, last_batch_id bigint not null,
                                      primary key (consumer_id));
create table pgq_ext.completed_event (consumer_id text not null, batch_id bigint not null,
                                      event_id bigint not null,
                                      primary key (consumer_id, batch_id, event_id));
create table pgq_ext.partial_batch (consumer_id text not null, cur_batch_id bigint not null,
                                    primary key (consumer_id));
insert into pgq_ext.completed_tick values ('old', 7);
insert into pgq_ext.completed_batch values ('old', 70);
insert into pgq_ext.completed_event values ('old', 71, 1);
insert into pgq_ext.partial_batch values ('old', 71);
select pgq_ext.upgrade_schema();
select pgq_ext.upgrade_schema();
select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid) as default
  from pg_class c join pg_attribute a on a.attrelid = c.oid
  left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
 where c.relnamespace = 'pgq_ext'::regnamespace and c.relkind = 'r'
   and a.attnum > 0 and not a.attisdropped
 order by c.relname, a.attnum;
select conrelid::regclass, conname, pg_get_constraintdef(oid)
  from pg_constraint where connamespace = 'pgq_ext'::regnamespace order by 1, 2;
select pgq_ext.get_last_tick('old'), pgq_ext.is_batch_done('old', 70),
       pgq_ext.is_event_done('old', 71, 1);
select pgq_ext.set_batch_done('old', 'sub', 70), pgq_ext.set_event_done('old', 72, 2);
select * from pgq_ext.completed_batch order by 1, 2;
select * from pgq_ext.completed_event order by 1, 2, 3, 4;

-- any role may use it (as PgQ's pgq_ext: the target's owner decides who
-- connects); the tables themselves are not granted
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'pgqpp_t_extuser') then
        create role pgqpp_t_extuser;
    end if;
end $$;
set role pgqpp_t_extuser;
select pgq_ext.set_batch_done('byrole', 1), pgq_ext.is_batch_done('byrole', 1);
select pgq_ext.set_last_tick('byrole', 3), pgq_ext.get_last_tick('byrole');
select count(*) from pgq_ext.completed_batch;
reset role;
drop role pgqpp_t_extuser;
