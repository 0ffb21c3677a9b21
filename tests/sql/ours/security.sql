-- pgqpp hardening: every SECURITY DEFINER function pins its search_path, and
-- objects a caller plants in its own session (pg_temp, search_path) are not
-- used with the definer's privileges.
\set VERBOSITY terse
set client_min_messages = warning;

-- no SECURITY DEFINER function without a fixed search_path
select p.oid::regprocedure as unpinned
  from pg_proc p
 where p.pronamespace = 'pgq'::regnamespace and p.prosecdef
   and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%');
select count(*) > 20 as many_secdef,
       bool_and(proconfig = array['search_path=pg_catalog, pg_temp']) as all_pinned_alike
  from pg_proc where pronamespace = 'pgq'::regnamespace and prosecdef;

-- a role that may consume, and tries to get the definer's privileges
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'pgqpp_t_evil') then
        create role pgqpp_t_evil login;
    end if;
end $$;
grant pgq_reader to pgqpp_t_evil;
grant pgq_writer to pgqpp_t_evil;
grant create on schema public to pgqpp_t_evil;

select pgq.create_queue('secq');
select pgq.set_queue_config('secq', 'ticker_max_lag', '0');
select pgq.register_consumer('secq', 'c');
select pgq.insert_event('secq', 't', 'd' || i) from generate_series(1, 3) i;
select pgq.ticker('secq');
select pgq.next_batch('secq', 'c');

set role pgqpp_t_evil;
-- 1. a temp table with a trigger under the name of the retry cache
create temp table pgq_retry_cache (batch_id bigint, ev_id bigint, ev_time timestamptz,
    ev_retry int4, ev_type text, ev_data text, ev_extra1 text, ev_extra2 text,
    ev_extra3 text, ev_extra4 text);
create function pg_temp.evil() returns trigger language plpgsql as $$
begin
    raise exception 'trigger ran as %', current_user;
end $$;
create trigger evil before insert or delete or update on pg_temp.pgq_retry_cache
   for each statement execute function pg_temp.evil();
create temp view pgq_retry_batch_cache as select 1 as ev_id;
set pgq.retry_cache_batch = '1';
begin;
select pgq.event_retry_bulk(1, array[1, 2], 60);
select pgq.event_retry(1, 3, 60);
commit;
-- 2. look-alike functions first in search_path
create function public.txid_current() returns bigint language sql as 'select 1::bigint';
create function public.now() returns timestamptz language sql as $$select '2000-01-01'::timestamptz$$;
create function public.quote_ident(text) returns text language sql as $$select 'x'$$;
create function public.nextval(regclass) returns bigint language sql as 'select 1::bigint';
set search_path = public, pg_catalog;
select pgq.insert_event('secq', 't', 'with evil search_path') > 0 as inserted;
select pgq.finish_batch(1);
reset search_path;
reset role;

-- nothing ran with the definer's privileges; the retries and the event are normal
select ev_id, ev_retry, ev_data from pgq.retry_queue order by ev_id;
select ev_data, ev_time > '2001-01-01' as real_time, ev_txid > 1 as real_txid
  from pgq.event_template where ev_data like 'with%';

drop function public.txid_current(), public.now(), public.quote_ident(text), public.nextval(regclass);
revoke create on schema public from pgqpp_t_evil;
drop owned by pgqpp_t_evil;
drop role pgqpp_t_evil;
