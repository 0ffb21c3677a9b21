-- Triggers and roles: creating a trigger needs EXECUTE on the trigger function (pgq_writer);
-- firing one needs EXECUTE on pgq.insert_event (pgq_writer) for whoever changes the table.
-- The test roles are cluster-wide: made if missing, dropped at the end.
\set VERBOSITY terse
set client_min_messages = warning;

do $$
declare
    r text;
begin
    foreach r in array array['pgqpp_t_trg_nobody', 'pgqpp_t_trg_writer'] loop
        if not exists (select 1 from pg_roles where rolname = r) then
            execute format('create role %I login', r);
        end if;
    end loop;
end $$;
grant pgq_writer to pgqpp_t_trg_writer;

select pgq.create_queue('tq');
create table tt (id int primary key, v text);
grant all on tt to pgqpp_t_trg_nobody, pgqpp_t_trg_writer;
create table tt2 (id int primary key, v text);
grant all on tt2 to pgqpp_t_trg_nobody, pgqpp_t_trg_writer;
grant create on schema public to pgqpp_t_trg_nobody, pgqpp_t_trg_writer;

-- creating the trigger
set role pgqpp_t_trg_nobody;
create table own_n (id int primary key);
create trigger t after insert on own_n for each row execute procedure pgq.logutriga('tq');
reset role;
set role pgqpp_t_trg_writer;
create table own_w (id int primary key, v text);
create trigger t after insert or update or delete on own_w for each row execute procedure pgq.jsontriga('tq');
insert into own_w values (1, 'w');
update own_w set v = 'ww';
delete from own_w;
reset role;

create trigger t after insert or update or delete on tt for each row execute procedure pgq.logutriga('tq');
create trigger t after insert or update or delete on tt2 for each row execute procedure pgq.sqltriga('tq', 'ev_extra1=v');

-- firing it
set role pgqpp_t_trg_nobody;
insert into tt values (1, 'nobody');
insert into tt2 values (1, 'nobody');
reset role;
set role pgqpp_t_trg_writer;
insert into tt values (2, 'writer');
update tt set v = 'writer2' where id = 2;
insert into tt2 values (2, 'writer');
delete from tt where id = 2;
reset role;

select ev_type, ev_data, ev_extra1, ev_extra2 from pgq.event_template order by ev_id;

drop table own_w, own_n;
revoke create on schema public from pgqpp_t_trg_nobody, pgqpp_t_trg_writer;
drop table tt, tt2;
drop role pgqpp_t_trg_nobody;
drop role pgqpp_t_trg_writer;
