-- ----------------------------------------------------------------------
-- Function: pgq.batch_event_sql(1)
--
--      Builds the query that returns a batch's events, ordered by ev_id
--      (the text ends in ' order by 1'; get_batch_cursor relies on that).
--
--      A batch holds the transactions visible in the current tick's snapshot
--      and not in the previous one's, plus retry events owned by the
--      consumer.  Those are:
--        * txids in [xmax(prev), xmax(cur)]: started after the previous tick,
--          checked against both snapshots (an index range scan on ev_txid);
--        * txids that were running at the previous tick and finished by the
--          current one: listed explicitly, since scanning from xmin(prev)
--          would read everything a long transaction holds back.  Those close
--          below xmax(prev) are folded into the range to keep the list short.
--
--      Batches of both kinds (see pgq._find_batch); the batch is looked up
--      once, and its tables are chosen as by pgq.batch_event_tables.
--
-- Errors:
--      'batch not found', 'could not construct sql for batch <id>'
-- ----------------------------------------------------------------------
create or replace function pgq.batch_event_sql(x_batch_id bigint)
returns text as $$
declare
    b               record;
    tx_start        bigint;
    tx_end          bigint;
    finished_list   text := '';
    txid            bigint;
    tbl             text;
    part            text;
    sql             text := '';
    select_fields   text := 'select ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,'
                            ' ev_extra1, ev_extra2, ev_extra3, ev_extra4';
    retry_expr      text;
begin
    select f.prev_tick_id as sub_last_tick, f.cur_tick_id as sub_next_tick,
           f.sub_id, f.queue_id as sub_queue,
           last.tick_snapshot as last_snapshot, cur.tick_snapshot as cur_snapshot
      into b
      from pgq._find_batch(x_batch_id, false) f
      join pgq.tick last on last.tick_queue = f.queue_id and last.tick_id = f.prev_tick_id
      join pgq.tick cur on cur.tick_queue = f.queue_id and cur.tick_id = f.cur_tick_id;
    if not found then
        raise exception 'batch not found';
    end if;

    tx_start := txid_snapshot_xmax(b.last_snapshot);
    tx_end := txid_snapshot_xmax(b.cur_snapshot);

    -- transactions running at the previous tick, finished at the current one
    for txid in
        select p.id
          from txid_snapshot_xip(b.last_snapshot) as p(id)
         where p.id not in (select c.id from txid_snapshot_xip(b.cur_snapshot) as c(id))
         order by p.id desc
    loop
        if txid >= tx_start - 100 then
            tx_start := txid;
        elsif finished_list = '' then
            finished_list := txid::text;
        else
            finished_list := finished_list || ',' || txid;
        end if;
    end loop;

    retry_expr := ' and (ev_owner is null or ev_owner = ' || b.sub_id || ')';

    for tbl in select pgq._batch_event_tables(b.sub_queue, b.sub_last_tick, b.sub_next_tick) loop
        part := select_fields
             || ' from pgq.tick cur, pgq.tick last, ' || pgq.quote_fqname(tbl) || ' ev'
             || ' where cur.tick_id = ' || b.sub_next_tick
             || ' and cur.tick_queue = ' || b.sub_queue
             || ' and last.tick_id = ' || b.sub_last_tick
             || ' and last.tick_queue = ' || b.sub_queue
             || ' and ev.ev_txid >= ' || tx_start
             || ' and ev.ev_txid <= ' || tx_end
             || ' and txid_visible_in_snapshot(ev.ev_txid, cur.tick_snapshot)'
             || ' and not txid_visible_in_snapshot(ev.ev_txid, last.tick_snapshot)'
             || retry_expr;
        if finished_list <> '' then
            part := part || ' union all ' || select_fields
                 || ' from ' || pgq.quote_fqname(tbl) || ' ev'
                 || ' where ev.ev_txid in (' || finished_list || ')'
                 || retry_expr;
        end if;
        if sql = '' then
            sql := part;
        else
            sql := sql || ' union all ' || part;
        end if;
    end loop;

    if sql = '' then
        raise exception 'could not construct sql for batch %', x_batch_id;
    end if;
    return sql || ' order by 1';
end;
$$ language plpgsql;
