-- pgq.sqltriga: SQL fragments as event data.
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

create table rtest (id integer primary key, dat text, "Quoted Col" text, "select" int);
create trigger rtest_triga after insert or update or delete on rtest
    for each row execute procedure pgq.sqltriga('que');
insert into rtest values (1, 'value1', 'q', 1);
insert into rtest (id) values (2);
insert into rtest values (3, E'it''s a \\ back\nslash', '', null);
update rtest set dat = 'value2' where id = 1;
update rtest set dat = 'value2' where id = 1;
update rtest set dat = null, "Quoted Col" = 'x', "select" = 5 where id = 1;
update rtest set dat = E'b\\s' where id = 2;
delete from rtest where id = 1;
delete from rtest where id = 3;
update rtest set id = 5 where id = 2;

-- composite primary key, values with quotes
create table ctest (a text, b int, c text, primary key (b, a));
create trigger t after insert or update or delete on ctest
    for each row execute procedure pgq.sqltriga('que');
insert into ctest values ('o''k', 2, 'x');
update ctest set c = 'y';
update ctest set c = 'y';
delete from ctest;

-- ignore, backup, pkey
create table itest (id int primary key, a text, b text, upd timestamptz);
create trigger t after insert or update or delete on itest
    for each row execute procedure pgq.sqltriga('que', 'ignore=upd', 'backup');
insert into itest values (1, 'a', 'b', '2020-01-01');
update itest set upd = '2021-01-01';
update itest set a = 'aa', upd = '2022-01-01';
update itest set a = 'aa';
delete from itest;
drop trigger t on itest;
create trigger t after insert or update or delete on itest
    for each row execute procedure pgq.sqltriga('que', 'pkey=a,b');
insert into itest values (2, 'a', 'b', null);
update itest set upd = now() - now() + '2020-01-01'::timestamptz;
update itest set b = 'x';
update itest set id = 3;
delete from itest;

-- no primary key
create table nopk (a int, b text);
create trigger t after insert or update or delete on nopk
    for each row execute procedure pgq.sqltriga('que');
insert into nopk values (1, 'x');
update nopk set b = 'y';
delete from nopk;

-- truncate
create trigger tr after truncate on rtest for each statement execute procedure pgq.sqltriga('que');
truncate rtest;
