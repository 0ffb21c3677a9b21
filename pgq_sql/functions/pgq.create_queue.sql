-- ----------------------------------------------------------------------
-- Function: pgq.create_queue(1)
--
--      Creates a queue: its row in pgq.queue, its sequences, the event
--      table pgq.event_<id> with children pgq.event_<id>_0..N-1, and the
--      first tick (consumers need one to register).
--
-- Returns:
--      1 if created, 0 if the queue already exists
--
-- Errors:
--      'Invalid NULL value'
-- ----------------------------------------------------------------------
create or replace function pgq.create_queue(i_queue_name text)
returns integer as $$
declare
    q_id        integer;
    data_pfx    text;
    event_seq   text;
    tick_seq    text;
    ntables     integer;
    tbl         text;
    i           integer;
begin
    if i_queue_name is null then
        raise exception 'Invalid NULL value';
    end if;

    perform 1 from pgq.queue where queue_name = i_queue_name;
    if found then
        return 0;
    end if;

    q_id := nextval('pgq.queue_queue_id_seq');
    data_pfx := 'pgq.event_' || q_id;
    event_seq := data_pfx || '_id_seq';
    tick_seq := data_pfx || '_tick_seq';

    -- a concurrent create_queue of the same name wins quietly
    insert into pgq.queue (queue_id, queue_name, queue_data_pfx,
                           queue_event_seq, queue_tick_seq)
    values (q_id, i_queue_name, data_pfx, event_seq, tick_seq)
    on conflict (queue_name) do nothing
    returning queue_ntables into ntables;
    if not found then
        return 0;
    end if;

    execute 'create sequence ' || pgq.quote_fqname(tick_seq);
    execute 'create sequence ' || pgq.quote_fqname(event_seq);

    execute 'create table ' || pgq.quote_fqname(data_pfx)
         || ' () inherits (pgq.event_template)';
    for i in 0 .. ntables - 1 loop
        tbl := data_pfx || '_' || i;
        execute 'create table ' || pgq.quote_fqname(tbl)
             || ' () inherits (' || pgq.quote_fqname(data_pfx) || ')';
        execute 'alter table ' || pgq.quote_fqname(tbl)
             || ' alter column ev_id set default nextval('
             || pg_catalog.quote_literal(event_seq) || ')';
        execute 'create index ' || pg_catalog.quote_ident(split_part(tbl, '.', 2) || '_txid_idx')
             || ' on ' || pgq.quote_fqname(tbl) || ' (ev_txid)';
    end loop;

    perform pgq.grant_perms(i_queue_name);
    perform pgq.tune_storage(i_queue_name);
    perform pgq._refresh_insert_dispatch();

    -- the first tick, inserted directly: pgq.ticker() insists on READ
    -- COMMITTED, and a queue may be created in any transaction
    insert into pgq.tick (tick_queue, tick_id, tick_event_seq)
    values (q_id, nextval(tick_seq::regclass), pgq.seq_getval(event_seq));
    return 1;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
