-- Trigger arguments: SKIP, ignore=, pkey=, backup, deny, when=, ev_*= expressions, the magic
-- _pgq_ev_* columns, session_replication_role.  Same for logutriga, sqltriga and jsontriga.
-- Events are printed by a stub pgq.insert_event (see trigger_logutriga.sql).
\set VERBOSITY terse
set client_min_messages = warning;
create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint as $$
begin
    raise warning 'insert_event(%, %, %, %, %, %, %)', quote_nullable(queue_name),
        quote_nullable(ev_type), quote_nullable(ev_data), quote_nullable(ev_extra1),
        quote_nullable(ev_extra2), quote_nullable(ev_extra3), quote_nullable(ev_extra4);
    return 1;
end;
$$ language plpgsql;

create table t (id int primary key, a text, b int, c text, "Mixed Col" text);
insert into t values (100, 'keep', 0, 'k', 'm');

-- ignore: left out of the payload; an UPDATE of ignored columns only queues nothing
create trigger x after insert or update or delete on t for each row execute procedure pgq.logutriga('q', 'ignore=b,c');
insert into t values (1, 'a1', 1, 'c1', 'm1');
update t set b = 2 where id = 1;
update t set b = 3, c = 'c3' where id = 1;
update t set a = 'a2', b = 4 where id = 1;
update t set a = 'a2' where id = 1;
delete from t where id = 1;
drop trigger x on t;
-- spaces and unknown names in the list
create trigger x after insert or update on t for each row execute procedure pgq.logutriga('q', 'ignore=b, c,nosuch');
insert into t values (2, 'a', 1, 'c', 'm');
update t set c = 'cc' where id = 2;
drop trigger x on t;

-- pkey: replaces the primary key (order as given); change of a key column refused
create trigger x after insert or update or delete on t for each row execute procedure pgq.logutriga('q', 'pkey=c,a');
create trigger y after insert or update or delete on t for each row execute procedure pgq.sqltriga('q', 'pkey=c,a');
create trigger z after insert or update or delete on t for each row execute procedure pgq.jsontriga('q', 'pkey=c,a');
insert into t values (3, 'a3', 3, 'c3', 'm3');
update t set b = 33 where id = 3;
update t set id = 4 where id = 3;
update t set a = 'x' where id = 4;
delete from t where id = 4;
drop trigger x on t; drop trigger y on t; drop trigger z on t;
create trigger x after insert or update on t for each row execute procedure pgq.logutriga('q', 'pkey=nosuch');
insert into t values (5, 'a', 1, 'c', 'm');
update t set a = 'b' where id = 5;
drop trigger x on t;

-- backup: the old row in ev_extra2 for UPDATE
create trigger x after insert or update or delete on t for each row execute procedure pgq.logutriga('q', 'backup');
create trigger y after insert or update or delete on t for each row execute procedure pgq.jsontriga('q', 'backup');
update t set a = 'new' where id = 5;
delete from t where id = 5;
drop trigger x on t; drop trigger y on t;

-- deny
create trigger x after insert or update or delete on t for each row execute procedure pgq.logutriga('q', 'deny');
insert into t values (6);
update t set a = 'x' where id = 100;
delete from t where id = 100;
drop trigger x on t;

-- when=: evaluated on NEW (OLD for DELETE); false skips the event
create trigger x after insert or update or delete on t for each row execute procedure pgq.logutriga('q', 'when=b > 10');
insert into t values (7, 'a', 5);
insert into t values (8, 'a', 50);
update t set b = 60 where id = 7;
update t set b = 1 where id = 8;
delete from t where id = 7;
delete from t where id = 8;
drop trigger x on t;
create trigger x after insert on t for each row execute procedure pgq.sqltriga('q', 'when=a = ''yes'' and "Mixed Col" is null');
insert into t values (9, 'yes');
drop trigger x on t;

-- expressions for the event fields
create trigger x after insert or update or delete on t for each row execute procedure pgq.logutriga('q',
    'ev_type=a || ''-'' || b', 'ev_extra1=b * 10', 'ev_extra2=upper(c)', 'ev_extra3=b > 2', 'ev_extra4=null',
    'ev_data=$$data:$$ || id');
insert into t values (10, 'a', 3, 'c');
update t set b = 1 where id = 10;
delete from t where id = 10;
drop trigger x on t;
create trigger x after insert on t for each row execute procedure pgq.jsontriga('q',
    'ev_extra1=c -- a comment', 'ev_extra2=c/*x*/||''y''', 'ev_extra3=E''e\''s'' || a', 'ev_extra4=b::text || ''x''',
    'ev_type=''t'' || 1');
insert into t values (11, 'a', 4, 'c');
drop trigger x on t;
create trigger x after insert on t for each row execute procedure pgq.sqltriga('q', 'ev_extra1=b', 'ev_extra1=a', 'when=true');
insert into t values (12, 'a', 4, 'c');
drop trigger x on t;
-- expressions win over backup
create trigger x after update on t for each row execute procedure pgq.logutriga('q', 'backup', 'ev_extra2=a');
update t set a = 'z' where id = 12;
drop trigger x on t;
-- an identifier is a column only when unqualified and spelled exactly
create trigger x after insert on t for each row execute procedure pgq.logutriga('q', 'ev_extra1=Mixed');
insert into t values (13);
drop trigger x on t;

-- SKIP in a BEFORE trigger: the event is queued, the change is not made
create trigger x before insert or update or delete on t for each row execute procedure pgq.logutriga('q', 'SKIP');
insert into t values (14, 'skipped');
update t set a = 'skipped' where id = 100;
delete from t where id = 100;
drop trigger x on t;
create trigger x before insert on t for each row execute procedure pgq.jsontriga('q', 'SKIP', 'when=a = ''queue''');
insert into t values (15, 'queue');
insert into t values (16, 'other');
drop trigger x on t;
select id, a from t order by id;

-- magic columns: left out of the data, their values (even NULL) become the event fields
create table m (id int primary key, v text, _pgq_ev_type text, _pgq_ev_data text,
                _pgq_ev_extra1 text, _pgq_ev_extra2 text, _pgq_ev_extra3 text, _pgq_ev_extra4 text);
create trigger x after insert or update or delete on m for each row execute procedure pgq.logutriga('q');
create trigger y after insert or update or delete on m for each row execute procedure pgq.sqltriga('q');
create trigger z after insert or update or delete on m for each row execute procedure pgq.jsontriga('q');
insert into m values (1, 'v', 'T', 'D', 'E1', 'E2', 'E3', 'E4');
insert into m (id, v) values (2, 'v');
update m set _pgq_ev_type = 'T2' where id = 1;
delete from m where id = 1;
drop trigger x on m; drop trigger y on m; drop trigger z on m;
create table m2 (id int primary key, _pgq_ev_extra3 text, v text);
create trigger x after insert or update on m2 for each row execute procedure pgq.logutriga('q', 'ev_extra3=v', 'backup');
insert into m2 values (1, 'magic', 'expr');
update m2 set v = 'expr2';
drop trigger x on m2;

-- session_replication_role: local turns the triggers off, replica skips ordinary triggers
create trigger x before insert or update on t for each row execute procedure pgq.logutriga('q', 'SKIP');
set session_replication_role = 'local';
insert into t values (20, 'local');
set session_replication_role = 'replica';
insert into t values (21, 'replica');
alter table t enable always trigger x;
insert into t values (22, 'always');
reset session_replication_role;
drop trigger x on t;
select id, a from t where id >= 20 order by id;
