-- pgq.jsontriga: JSON events.
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

create table jsdata (id serial primary key, txt text, val float, nr numeric, ok bool,
                     ts timestamptz, d date, big int8, arr int[], js jsonb);
create trigger jtest after insert or update or delete on jsdata
    for each row execute procedure pgq.jsontriga('jsonq');
insert into jsdata (txt) values ('text1');
insert into jsdata (val, nr, ok) values (1.1, 2.50, false);
insert into jsdata (txt, ts, d, big, arr, js)
    values (E'q" b\\ n\n t\t u\u00e9 \x01', '2009-09-19 11:59:48.599+00', '2009-09-19', 1, '{1,2}', '{"a": 1}');
update jsdata set txt = 'changed' where id = 1;
update jsdata set ok = true where id = 2;
delete from jsdata where id = 3;
update jsdata set id = 10 where id = 2;

-- a table name that needs JSON escaping; no primary key
create schema "Sch""ema";
create table "Sch""ema"."T\t" ("a""b" int, c text);
create trigger t after insert or update or delete on "Sch""ema"."T\t"
    for each row execute procedure pgq.jsontriga('jsonq');
insert into "Sch""ema"."T\t" values (1, 'x');
update "Sch""ema"."T\t" set c = 'y';

-- composite key, ignore, backup
create table jk (a int, b text, c text, d text, primary key (b, a));
create trigger t after insert or update or delete on jk
    for each row execute procedure pgq.jsontriga('jsonq', 'ignore=d', 'backup');
insert into jk values (1, 'x', 'c1', 'd1');
update jk set c = 'c2';
update jk set d = 'd2';
delete from jk;

-- truncate, also with a primary key
create trigger tr after truncate on jsdata for each statement execute procedure pgq.jsontriga('jsonq');
truncate jsdata;
create trigger tr after truncate on jk for each statement execute procedure pgq.jsontriga('jsonq');
truncate jk;

-- only types whose row_to_json form PgQ shares (the fast path of ours), with the values
-- that make it step aside: quoted numbers that are NULL or NaN, '":' and ',"' in strings
create table jfast (id bigserial primary key, n numeric, f float8, r real, t text, d date,
                    ts timestamptz, b bool, u uuid, i int, "Odd Key" text, iv interval);
create trigger t after insert on jfast for each row execute procedure pgq.jsontriga('jsonq');
insert into jfast (n, f, r, t, d, ts, b, u, i, "Odd Key", iv)
    values (1.50, 2.5e-10, 3, 'plain', '2020-01-02', '2020-01-02 03:04:05.6+00', true,
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', -7, 'k', '1 day');
insert into jfast (n, f, t) values (null, 'NaN', 'x');
insert into jfast (n, f, t) values (-0.0, '-Infinity', '');
insert into jfast (n, t) values (1, 'a":b ,"c":d \":e');
insert into jfast (n, t) values (2, E'tab\there "quoted" back\\slash ünï 日本');
insert into jfast (t) values ('null');
insert into jfast (id) values (100);
