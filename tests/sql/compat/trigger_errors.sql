-- Trigger errors: bad arguments, wrong trigger kinds, refused changes, bad expressions, and
-- which error wins when several apply.  Texts as PgQ's C triggers.
\set VERBOSITY terse
set client_min_messages = warning;

-- with the real pgq.insert_event: an unknown queue
create table e (id int primary key, a text, b int);
create trigger x after insert on e for each row execute procedure pgq.logutriga('no_such_queue');
insert into e values (1);
drop trigger x on e;
select pgq.create_queue('eq');
create trigger x after insert on e for each row execute procedure pgq.jsontriga('eq');
insert into e values (1, 'a', 1);
select ev_type, ev_data, ev_extra1 from pgq.event_template;
drop trigger x on e;

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

-- arguments
create trigger x after insert on e for each row execute procedure pgq.logutriga();
insert into e values (2);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.sqltriga('q', 'bogus');
insert into e values (2);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.jsontriga('q', 'skip');
insert into e values (2);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'IGNORE=a');
insert into e values (2);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'ev_extra5=a');
insert into e values (2);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'Backup');
insert into e values (2);
drop trigger x on e;

-- statement level, SKIP in AFTER
create trigger x after insert on e for each statement execute procedure pgq.logutriga('q');
insert into e values (2);
drop trigger x on e;
create trigger x before update on e for each statement execute procedure pgq.sqltriga('q', 'bogus');
update e set a = 'x';
drop trigger x on e;
create trigger x after insert on e for each statement execute procedure pgq.jsontriga();
insert into e values (2);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'SKIP');
insert into e values (2);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.sqltriga('q', 'SKIP', 'deny');
insert into e values (2);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.sqltriga('q', 'deny', 'bogus');
insert into e values (2);
drop trigger x on e;

-- truncate: arguments that make no sense there
create trigger x after truncate on e for each statement execute procedure pgq.logutriga('q', 'backup', 'ev_type=1', 'deny');
truncate e;
drop trigger x on e;
create trigger x after truncate on e for each statement execute procedure pgq.sqltriga('q', 'pkey=a', 'ignore=b');
truncate e;
drop trigger x on e;
create trigger x after truncate on e for each statement execute procedure pgq.jsontriga('q', 'backup', 'pkey=a');
truncate e;
drop trigger x on e;
create trigger x after truncate on e for each statement execute procedure pgq.logutriga('q', 'when=true');
truncate e;
drop trigger x on e;
create trigger x after truncate on e for each statement execute procedure pgq.jsontriga('q', 'backup');
truncate e;
drop trigger x on e;
create trigger x after truncate on e for each statement execute procedure pgq.sqltriga('q', 'deny');
truncate e;
drop trigger x on e;
create trigger x before truncate on e for each statement execute procedure pgq.logutriga('q', 'SKIP');
truncate e;
drop trigger x on e;
create trigger x after truncate on e for each statement execute procedure pgq.logutriga('q', 'SKIP');
truncate e;
drop trigger x on e;

-- refused changes
insert into e values (1, 'a', 1);
create trigger x after insert or update or delete on e for each row execute procedure pgq.jsontriga('q', 'deny');
insert into e values (3);
update e set a = 'b';
delete from e;
drop trigger x on e;
create trigger x after update on e for each row execute procedure pgq.sqltriga('q', 'deny', 'when=false');
update e set id = 5;
drop trigger x on e;
create trigger x after update on e for each row execute procedure pgq.logutriga('q', 'when=false');
update e set id = 5;
drop trigger x on e;
create table nopk (a int);
insert into nopk values (1);
create trigger x after update or delete on nopk for each row execute procedure pgq.jsontriga('q', 'when=false');
update nopk set a = 2;
delete from nopk;
drop trigger x on nopk;

-- expressions
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'when=b');
insert into e values (6, 'a', null);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'when=null');
insert into e values (6);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'ev_extra1="a"');
insert into e values (6);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'ev_extra1=nosuchcol');
insert into e values (6);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.logutriga('q', 'ev_extra1=new.a');
insert into e values (6);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.sqltriga('q', 'ev_type=1/0');
insert into e values (6);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.sqltriga('q', 'when=false', 'ev_extra4=1/0');
insert into e values (6);
drop trigger x on e;
create trigger x after insert on e for each row execute procedure pgq.jsontriga('q', 'ev_extra1=(1');
insert into e values (6);
drop trigger x on e;
select * from e order by id;
