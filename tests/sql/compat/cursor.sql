-- get_batch_cursor (3 and 4 arguments): the quick rows, FETCH of the rest,
-- extra_where filters, quick_limit 0 and negative, NULL arguments.
\set VERBOSITY terse
set client_min_messages = warning;

-- FETCH through a helper that leaves out the volatile columns (time, txid)
create function public.fetch_ev(c refcursor, n integer)
returns table (ev_id bigint, ev_retry int4, ev_type text, ev_data text,
               ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
as $$
declare
    r record;
begin
    for i in 1 .. n loop
        fetch c into r;
        exit when not found;
        ev_id := r.ev_id; ev_retry := r.ev_retry; ev_type := r.ev_type; ev_data := r.ev_data;
        ev_extra1 := r.ev_extra1; ev_extra2 := r.ev_extra2;
        ev_extra3 := r.ev_extra3; ev_extra4 := r.ev_extra4;
        return next;
    end loop;
end;
$$ language plpgsql;

select pgq.create_queue('cq');
select pgq.set_queue_config('cq', 'ticker_max_lag', '0');
select pgq.set_queue_config('cq', 'ticker_idle_period', '0');
select pgq.register_consumer('cq', 'cons');
select pgq.insert_event('cq', case when i % 2 = 0 then 'even' else 'odd' end, 'data' || i)
  from generate_series(1, 10) i;
-- a second transaction, so that the batch has two txids
select pgq.insert_event('cq', 'late', 'data11');
select pgq.ticker('cq');
select pgq.next_batch('cq', 'cons');

-- quick rows, then FETCH the rest from the cursor
begin;
select ev_id, ev_type, ev_data from pgq.get_batch_cursor(1, 'c1', 3);
select * from public.fetch_ev('c1', 4);
select * from public.fetch_ev('c1', 1000);
close c1;
commit;

-- with extra_where
begin;
select ev_id, ev_type, ev_data from pgq.get_batch_cursor(1, 'c2', 2, 'ev_type = ''even''');
select * from public.fetch_ev('c2', 1000);
close c2;
commit;

-- extra_where can use every event column
begin;
select ev_id, ev_data
  from pgq.get_batch_cursor(1, 'c3', 100, 'ev_id > 8 and ev_retry is null and ev_extra1 is null');
commit;

-- quick_limit 0 (or less): no rows, only the cursor
begin;
select * from pgq.get_batch_cursor(1, 'c4', 0);
select count(*) from pg_cursors where name = 'c4';
select * from public.fetch_ev('c4', 2);
close c4;
select * from pgq.get_batch_cursor(1, 'c5', -1, 'true');
select * from public.fetch_ev('c5', 1000);
commit;

-- the cursor name is quoted
begin;
select ev_id from pgq.get_batch_cursor(1, 'Odd "name"', 1);
select * from public.fetch_ev('Odd "name"', 1);
commit;

-- the same name twice in one transaction
begin;
select ev_id from pgq.get_batch_cursor(1, 'dup', 1);
select ev_id from pgq.get_batch_cursor(1, 'dup', 1);
rollback;

-- outside a transaction block the quick rows still come (the cursor dies
-- with the statement)
select ev_id from pgq.get_batch_cursor(1, 'c6', 2);
select count(*) from pg_cursors;

-- NULLs: nothing at all (4 args), or NULL by strictness (3 args)
select * from pgq.get_batch_cursor(null, 'c7', 10, null);
select * from pgq.get_batch_cursor(1, null, 10, null);
select * from pgq.get_batch_cursor(1, 'c7', null, null);
select * from pgq.get_batch_cursor(null, 'c7', 10);
select * from pgq.get_batch_cursor(1, null, 10);
select * from pgq.get_batch_cursor(1, 'c7', null);
select count(*) from pg_cursors;

-- an unknown batch, a bad filter
select * from pgq.get_batch_cursor(999, 'c8', 10);
select * from pgq.get_batch_cursor(999, 'c8', 10, 'true');
do $$
begin
    perform pgq.get_batch_cursor(1, 'c8', 10, 'no_such_column = 1');
exception when others then
    raise warning '%', sqlerrm;  -- without the error position
end $$;

-- same events as get_batch_events
begin;
select count(*) from pgq.get_batch_cursor(1, 'c9', 1000);
commit;
select count(*) from pgq.get_batch_events(1);
select pgq.finish_batch(1);

-- an empty batch
select pgq.ticker('cq');
select pgq.next_batch('cq', 'cons');
begin;
select * from pgq.get_batch_cursor(2, 'c10', 10);
select * from public.fetch_ev('c10', 1000);
select * from pgq.get_batch_cursor(2, 'c11', 10, 'ev_id > 0');
commit;
