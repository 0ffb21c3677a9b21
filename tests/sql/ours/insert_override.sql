-- pgq.insert_event(3) inserts by itself (pgq.insert_event_raw.sql), yet a user's
-- own pgq.insert_event(7) still sees every insert, as in PgQ: the event trigger
-- makes (3) a wrapper of it at once.  upgrade_schema() puts the stock code back.
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('oq');
select pgq.insert_event('oq', 'stock3', 'a') > 0 as inserted;
select p.prosecdef as insert3_is_secdef
  from pg_proc p where p.oid = 'pgq.insert_event(text,text,text)'::regprocedure;

create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text,
        ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint as $$
begin
    return pgq.insert_event_raw(queue_name, null, now(), null, null, 'user:' || ev_type, ev_data,
                                ev_extra1, ev_extra2, ev_extra3, ev_extra4);
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

select pgq.insert_event('oq', 'three', 'b') > 0 as inserted;
select pgq.insert_event('oq', 'seven', 'c', '1', null, null, null) > 0 as inserted;
select p.prosecdef as insert3_is_secdef
  from pg_proc p where p.oid = 'pgq.insert_event(text,text,text)'::regprocedure;

-- a new queue regenerates the functions: the user's (7) stays, (3) still calls it
select pgq.create_queue('oq2');
select pgq.insert_event('oq2', 'three', 'd') > 0 as inserted;

select pgq.upgrade_schema();
select pgq.insert_event('oq', 'stock3', 'e') > 0 as inserted;
select pgq.insert_event('oq', 'stock7', 'f', null, null, null, null) > 0 as inserted;

select ev_type, ev_data, ev_extra1 from pgq.event_1 order by ev_id;
select ev_type, ev_data from pgq.event_2 order by ev_id;
