-- ----------------------------------------------------------------------
-- Function: pgq.insert_event_raw(11)
--
--      Appends one event to the queue's current event table.  Every insert
--      path (insert_event, triggers, the retry mover) ends here.
--
-- Parameters:
--      queue_name  - queue to insert into
--      ev_id       - event id, NULL: take the next value of the queue's sequence
--      ev_time     - event time, NULL: now()
--      ev_owner    - NULL, or the sub_id this (retry) event is meant for
--      ev_retry    - retry count, NULL for new events
--      ev_type, ev_data, ev_extra1..4 - the payload
--
-- Returns:
--      the event id
--
-- Errors:
--      'Queue name must not be NULL', 'No such queue',
--      'Insert into queue disallowed' (queue_disable_insert, unless the
--      session runs with session_replication_role = replica),
--      'Queue ''<name>'' allows max <n> events from one TX' (queue_per_tx_limit)
--
-- Notes:
--      A sequence value is consumed even when the insert is refused, like
--      PgQ's C version (its tests' expected ids depend on it).
--      The INSERT itself goes through pgq._insert_event_dispatch (static,
--      plan-cached statements); see there.
--      The per-transaction count lives in a transaction-local setting, so it
--      resets by itself at commit/rollback and follows savepoint rollbacks.
-- ----------------------------------------------------------------------
create or replace function pgq.insert_event_raw(
    queue_name text, ev_id bigint, ev_time timestamptz,
    ev_owner integer, ev_retry integer, ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint as $$
#variable_conflict use_variable
declare
    q           record;
    count_key   text;
    tx_count    integer;
    new_id      bigint;
begin
    if queue_name is null then
        raise exception 'Queue name must not be NULL';
    end if;

    select qt.queue_id, qt.queue_data_pfx, qt.queue_cur_table, qt.queue_event_seq,
           qt.queue_disable_insert, qt.queue_per_tx_limit
      into q
      from pgq.queue qt
     where qt.queue_name = insert_event_raw.queue_name;
    if not found then
        raise exception 'No such queue';
    end if;

    if q.queue_disable_insert
       and current_setting('session_replication_role') <> 'replica'
    then
        perform nextval(q.queue_event_seq::regclass);   -- consumed, as in PgQ
        raise exception 'Insert into queue disallowed';
    end if;

    if q.queue_per_tx_limit is not null then
        count_key := 'pgq.tx_event_count_' || q.queue_id;
        tx_count := coalesce(nullif(current_setting(count_key, true), ''), '0')::integer + 1;
        if tx_count > q.queue_per_tx_limit then
            perform nextval(q.queue_event_seq::regclass);
            raise exception 'Queue ''%'' allows max % events from one TX',
                            queue_name, q.queue_per_tx_limit;
        end if;
        perform set_config(count_key, tx_count::text, true);
    end if;

    -- fast path: a static INSERT with a cached plan
    new_id := pgq._insert_event_dispatch(q.queue_id, q.queue_cur_table, ev_id, ev_time,
                                         ev_owner, ev_retry, ev_type, ev_data,
                                         ev_extra1, ev_extra2, ev_extra3, ev_extra4);
    if new_id is not null then
        return new_id;
    end if;

    -- generic path, for a queue the dispatcher does not know (yet)
    new_id := nextval(q.queue_event_seq::regclass);
    execute 'insert into ' || pgq.quote_fqname(q.queue_data_pfx || '_' || q.queue_cur_table)
         || ' (ev_id, ev_time, ev_owner, ev_retry, ev_type, ev_data,'
         || ' ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
         || ' values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)'
      using coalesce(ev_id, new_id), coalesce(ev_time, now()),
            ev_owner, ev_retry, ev_type, ev_data,
            ev_extra1, ev_extra2, ev_extra3, ev_extra4;
    return coalesce(ev_id, new_id);
end;
$$ language plpgsql;
