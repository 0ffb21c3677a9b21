-- pgq.logutriga: urlencoded row events for INSERT/UPDATE/DELETE and TRUNCATE.
-- The events are printed by a stub pgq.insert_event (as PgQ's own trigger tests do), which
-- also shows that the triggers call the 7-argument pgq.insert_event by name.
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

create table udata (id serial primary key, txt text, val float, nr numeric, ts timestamptz);
create trigger utest after insert or update or delete on udata
    for each row execute procedure pgq.logutriga('udata_que');
insert into udata (txt) values ('text1');
insert into udata (val) values (1.1);
insert into udata (txt, val, nr) values (E'a b''c"\\d\ne~*!@#$%^&()+=/?<>', -1e30, 12.50);
insert into udata (txt, ts) values ('ünï cödé €', '2009-09-19 11:59:48.599+00');
update udata set txt = 'changed' where id = 1;
update udata set txt = 'changed' where id = 1;
update udata set val = null where id = 2;
delete from udata where id = 3;
update udata set id = 10 where id = 4;
insert into udata (id, txt) values (5, '');

-- column and table names are encoded too; ev_extra1 is schema.table unquoted
create schema "Weird Schema";
create table "Weird Schema"."My Table" ("Id" int primary key, "a b" text, "ä" text, "x""y" text, "x&y=z" text);
create trigger t after insert or update or delete on "Weird Schema"."My Table"
    for each row execute procedure pgq.logutriga('q');
insert into "Weird Schema"."My Table" values (1, 'x', 'y', 'z', 'w');
update "Weird Schema"."My Table" set "a b" = 'zz' where "Id" = 1;
delete from "Weird Schema"."My Table";

-- composite primary key: listed in column order
create table pk2 (b text, a int, c text, primary key (c, a));
create trigger t after insert or update or delete on pk2
    for each row execute procedure pgq.logutriga('q');
insert into pk2 values ('1', 2, '3');
update pk2 set b = 'x';
delete from pk2;

-- no primary key: inserts work, updates and deletes fail
create table nopk (a int, b text);
create trigger t after insert or update or delete on nopk
    for each row execute procedure pgq.logutriga('q');
insert into nopk values (1, 'x');
update nopk set b = 'y';
delete from nopk;
select * from nopk;

-- truncate
create trigger tr after truncate on udata for each statement execute procedure pgq.logutriga('tq');
truncate udata;

-- BEFORE triggers return the row; with SKIP the change is skipped but queued
create table bt (id int primary key, v text);
insert into bt values (1, 'keep');
create trigger b before insert or update or delete on bt
    for each row execute procedure pgq.logutriga('bq');
insert into bt values (2, 'two');
update bt set v = 'upd' where id = 1;
delete from bt where id = 2;
select * from bt order by id;
drop trigger b on bt;
create trigger b before insert or update or delete on bt
    for each row execute procedure pgq.logutriga('bq', 'SKIP');
insert into bt values (3, 'three');
update bt set v = 'upd2' where id = 1;
delete from bt where id = 1;
select * from bt order by id;
drop trigger b on bt;
create trigger b before truncate on bt for each statement execute procedure pgq.logutriga('bq', 'SKIP');
truncate bt;
select count(*) from bt;
