-- Payloads of logutriga, sqltriga and jsontriga for the column types people put in tables,
-- with extreme values, NULLs, and several DateStyle/TimeZone/IntervalStyle settings.
-- Events are printed by a stub pgq.insert_event (see trigger_logutriga.sql).
\set VERBOSITY terse
set client_min_messages = warning;
create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint as $$
begin
    raise warning '% % % % %', ev_type, ev_data, quote_nullable(ev_extra2),
        quote_nullable(ev_extra3), quote_nullable(ev_extra4);
    return 1;
end;
$$ language plpgsql;

create type mood as enum ('sad', 'ok', 'happy');
create type pair as (a int, b text);
create domain posint as int check (value > 0);
create domain shorttext as varchar(10);
create domain numdom as numeric(10,2);

-- numbers
create table tnum (id int primary key, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
                   n numeric, n2 numeric(12,4), m money, o oid, d posint, nd numdom);
create trigger l after insert or update or delete on tnum for each row execute procedure pgq.logutriga('q');
create trigger s after insert or update or delete on tnum for each row execute procedure pgq.sqltriga('q');
create trigger j after insert or update or delete on tnum for each row execute procedure pgq.jsontriga('q');
insert into tnum values (1, -32768, -2147483648, -9223372036854775808, -3.4e38, -1.7976931348623157e308,
                         -123456789012345678901234567890.123456789, 0.0001, '-92233720368547758.08', 0, 1, -1.5);
insert into tnum values (2, 32767, 2147483647, 9223372036854775807, 3.4e38, 1.7976931348623157e308,
                         1e-100, 99999999.9999, '92233720368547758.07', 4294967295, 2147483647, 99999999.99);
insert into tnum values (3, 0, 0, 0, 'NaN', 'NaN', 'NaN', 0, 0, 1, 3, 0);
insert into tnum values (4, null, null, null, 'Infinity', '-Infinity', 'Infinity', null, null, null, null, null);
insert into tnum values (5, 1, 1, 1, 1.5e-45, 5e-324, '-Infinity', 1, 1, 1, 1, 1);
insert into tnum values (6, 1, 1, 1, -0, '-0', 0.000, -0.0, 0.01, 1, 1, 0);
update tnum set f8 = 0 where id = 6;
update tnum set n = 0.0 where id = 6;
update tnum set n = 1 where id = 6;
delete from tnum where id = 6;

-- text, bytes, bool, uuid, json
create table ttext (id int primary key, t text, vc varchar(20), c char(5), nm name, ch "char",
                    b bytea, bo bool, u uuid, j json, jb jsonb, x xml, sd shorttext, e mood);
create trigger l after insert or update or delete on ttext for each row execute procedure pgq.logutriga('q');
create trigger s after insert or update or delete on ttext for each row execute procedure pgq.sqltriga('q');
create trigger j after insert or update or delete on ttext for each row execute procedure pgq.jsontriga('q');
insert into ttext values (1, E'quote'' dq" bs\\ nl\n cr\r tab\t nul-ish \x01 \x1f del\x7f', 'a,b', 'ab',
                          'name', 'x', E'\\x00ff10', true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                          '{"a": [1, "x", null], "b": "é"}', '{"b": 2, "a": "\u00e9"}', '<a x="1">t</a>', 'dom', 'happy');
insert into ttext values (2, '', '', '', '', ' ', '', false, null, 'null', 'null', null, '', 'sad');
insert into ttext values (3, null, null, null, null, null, null, null, null, null, null, null, null, null);
insert into ttext values (4, 'ünïcödé ✓ 日本 🎉', 'NULL', 'NULL', 'null', '"', E'\\x', true, '00000000-0000-0000-0000-000000000000',
                          '"str"', '"str"', '', 'x', 'ok');
insert into ttext values (5, '(a,b)', '{1,2}', '"', ' lead', '\', E'\\x5c22', false, null,
                          '[1, 2]', '[]', null, ' ', null);
insert into ttext values (6, '%25 + & = ? / # ~ * ! @ $ ^ ( ) [ ] { } | ; : < > ` ''', 'sp ace', 'x,y', 'a"b', ',', null, null, null,
                          ' {"k" : "v"} ', '{"k":"v"}', null, null, null);
insert into ttext values (7, E'\\', E'\\\\', E'a\\', E'"\\"', '(', null, null, null,
                          '{"a":"\\""}', '{"a":"\\""}', null, null, null);
update ttext set t = 'changed', j = '{"a": [1, "x", null], "b": "é"}' where id = 1;
update ttext set jb = '{"a": "\u00e9", "b": 2}' where id = 1;
update ttext set c = 'ab   ' where id = 1;
delete from ttext where id = 1;

-- date and time in several settings
create table ttime (id int primary key, d date, t time, tz timetz, ts timestamp, tstz timestamptz,
                    iv interval, ts0 timestamp(0), tstz3 timestamptz(3));
create trigger l after insert or update or delete on ttime for each row execute procedure pgq.logutriga('q');
create trigger s after insert or update or delete on ttime for each row execute procedure pgq.sqltriga('q');
create trigger j after insert or update or delete on ttime for each row execute procedure pgq.jsontriga('q');
set timezone = 'UTC';
insert into ttime values (1, '2009-09-19', '11:59:48.599', '11:59:48.599+02', '2009-09-19 11:59:48.599',
                          '2009-09-19 11:59:48.599+00', '1 day 02:03:04.5', '2009-09-19 11:59:48.599',
                          '2009-09-19 11:59:48.5999+00');
insert into ttime values (2, 'infinity', '24:00', '00:00-15:59', '-infinity', 'infinity',
                          '-178000000 years', 'epoch', '1999-12-31 23:59:59.999999+00');
insert into ttime values (3, '0044-03-15 BC', '00:00:00.000001', '23:59:59.999999+15:59',
                          '4713-01-01 00:00:00 BC', '294276-12-31 23:59:59.999999+00',
                          '1 mon -2 days 3 hours', '2000-02-29 12:00', '2000-02-29 12:00:00.123+00');
insert into ttime values (4, null, null, null, null, null, null, null, null);
set timezone = 'America/New_York';
insert into ttime values (5, '2009-07-01', '12:00', '12:00-04', '2009-07-01 12:00', '2009-07-01 12:00+00',
                          '-1 day', '2009-07-01 12:00', '2009-01-01 12:00+00');
set timezone = 'Asia/Kolkata';
insert into ttime values (6, '2009-07-01', '12:00', '12:00+05:30', '2009-07-01 12:00', '2009-07-01 12:00+00',
                          '1 year 2 months', '2009-07-01 12:00', '1900-01-01 00:00+00');
set datestyle = 'SQL, DMY';
insert into ttime values (7, '2009-07-01', '12:00', '12:00+05:30', '2009-07-01 12:00', '2009-07-01 12:00+00',
                          '3 days', '2009-07-01 12:00', '2009-07-01 12:00:00.5+00');
set datestyle = 'Postgres, MDY';
set intervalstyle = 'sql_standard';
insert into ttime values (8, '2009-07-01', '12:00', '12:00+05:30', '2009-07-01 12:00', '2009-07-01 12:00+00',
                          '1 year 2 months 3 days 04:05:06', '2009-07-01 12:00', '2009-07-01 12:00+00');
set datestyle = 'German';
set intervalstyle = 'iso_8601';
set timezone = 'Europe/Berlin';
insert into ttime values (9, '2009-07-01', '12:00', '12:00+05:30', '2009-07-01 12:00', '2009-07-01 12:00+00',
                          '1 year 2 months 3 days 04:05:06.7', '2009-07-01 12:00', '2009-07-01 12:00+00');
set intervalstyle = 'postgres_verbose';
update ttime set iv = '25 hours' where id = 9;
update ttime set iv = '1 day 1 hour' where id = 9;
reset datestyle;
reset intervalstyle;
set timezone = 'UTC';
update ttime set tstz = '2009-07-01 14:00+02' where id = 5;
delete from ttime where id = 9;

-- arrays, composites, ranges, geometry, network, bits, text search
create table tmisc (id int primary key, ai int[], at text[], an numeric[], a2 int[][], ab bool[],
                    ats timestamptz[], p pair, pa pair[], r int4range, nr numrange,
                    pt point, bx box, ci circle, ln line, ls lseg, pth path, pg polygon,
                    ip inet, cr cidr, mac macaddr, bt bit(4), vb varbit, tv tsvector, tq tsquery,
                    e mood[], jb jsonb[]);
create trigger l after insert or update or delete on tmisc for each row execute procedure pgq.logutriga('q');
create trigger s after insert or update or delete on tmisc for each row execute procedure pgq.sqltriga('q');
create trigger j after insert or update or delete on tmisc for each row execute procedure pgq.jsontriga('q');
insert into tmisc values (1, '{1,NULL,3}', '{"a b","c,d",NULL,"NULL","",e}', '{1.50,NaN}', '{{1,2},{3,4}}',
                          '{t,f,NULL}', '{"2009-09-19 11:59:48+00",infinity}', '(1,"x y")',
                          array['(1,a)'::pair, null, '(,)'], '[1,10)', '(1.5,2.50]',
                          '(1.5,-2)', '((0,0),(1,1))', '<(0,0),2>', '{1,-1,0}', '[(0,0),(1,1)]',
                          '((0,0),(1,1),(2,0))', '((0,0),(1,1),(2,0))',
                          '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'101',
                          'a fat cat', 'fat & rat', '{sad,happy}', array['{"a":1}'::jsonb, 'null']);
insert into tmisc values (2, '{}', '{}', '{}', '{}', '{}', '{}', '(,)', '{}', 'empty', '[,]',
                          '(0,0)', '((0,0),(0,0))', '<(0,0),0>', '{0,1,0}', '[(0,0),(0,0)]',
                          '[(0,0)]', '((0,0))', '::1', '::/0', '00:00:00:00:00:00', B'0000', B'',
                          '', '', '{}', '{}');
insert into tmisc (id, ai, a2) values (3, '[2:3]={7,8}', '[0:1][1:2]={{1,2},{3,4}}');
insert into tmisc (id) values (4);
update tmisc set an = '{1.5,NaN}' where id = 1;
update tmisc set p = '(1,"x y")', nr = '(1.50,2.5]' where id = 1;
update tmisc set bx = '((1,1),(0,0))' where id = 1;
update tmisc set bx = '((2,2),(1,1))' where id = 1;
delete from tmisc where id = 1;
