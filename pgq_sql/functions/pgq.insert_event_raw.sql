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
--      The per-transaction count lives in a transaction-local setting, so it
--      resets by itself at commit/rollback and follows savepoint rollbacks.
--
--      This function and pgq.insert_event(7) are GENERATED from the one
--      template below by pgq._refresh_insert_dispatch(), whenever queues are
--      created or dropped and on every install/upgrade:
--      * each holds one static INSERT per event table, chosen by (queue,
--        current table).  Static statements keep their cached plans; an
--        INSERT built as a string and EXECUTEd is parsed and planned for
--        every event, which made pure PL/pgSQL about half as fast as PgQ's C
--        insert.  A queue the generated code does not know (another
--        session's uncommitted create_queue, a restored dump of an extension
--        install) takes the generic EXECUTE path: slower, never wrong;
--      * pgq.insert_event(7) (SECURITY DEFINER, the function triggers and
--        producers call) carries the same code instead of calling
--        insert_event_raw: one PL/pgSQL call less per event, about a third
--        of the cost of a single-event insert.
--      Both can still be overridden as in PgQ: create_queue/drop_queue only
--      regenerate a function whose source carries the '-- pgqpp:generated'
--      mark, so a user's own version stays until the next install/upgrade
--      (which, as in PgQ, puts the stock version back).
-- ----------------------------------------------------------------------
-- ----------------------------------------------------------------------
-- Function: pgq._refresh_insert_dispatch(1)                   (pgqpp)
--
--      Regenerates pgq.insert_event_raw and pgq.insert_event(7) from the
--      template for the queues that exist now, in the caller's transaction
--      (other sessions switch when it commits: PL/pgSQL notices a replaced
--      function).
--
-- Parameters:
--      i_force - replace them even if a user has overridden them (install
--                and upgrade); otherwise only functions carrying the
--                '-- pgqpp:generated' mark are replaced
--
-- Returns:
--      the number of queues the fast path knows
-- ----------------------------------------------------------------------
drop function if exists pgq._refresh_insert_dispatch();   -- 3.6.0 development versions

create or replace function pgq._refresh_insert_dispatch(i_force boolean default false)
returns integer as $generator$
declare
    q           record;
    i           integer;
    n           integer := 0;
    branches    text := '';
    tbl         text;
    variant     record;
    current_src text;
begin
    -- concurrent CREATE OR REPLACE of one function fails; take turns
    perform pg_advisory_xact_lock(pg_catalog.hashtext('pgq._refresh_insert_dispatch'));

    for q in
        select queue_id, queue_ntables, queue_data_pfx, queue_event_seq
          from pgq.queue
         order by queue_id
    loop
        branches := branches
            || case when n = 0 then '    if' else '    elsif' end
            || ' q_id = ' || q.queue_id || ' then' || E'\n';
        for i in 0 .. q.queue_ntables - 1 loop
            tbl := pgq.quote_fqname(q.queue_data_pfx || '_' || i);
            branches := branches
                || case when i = 0 then '        if' else '        elsif' end
                || ' q_cur = ' || i || ' then' || E'\n'
                || '            new_id := nextval('
                || pg_catalog.quote_literal(pgq.quote_fqname(q.queue_event_seq)) || '::regclass);' || E'\n'
                || '            insert into ' || tbl
                || ' (ev_id, ev_time, ev_owner, ev_retry, ev_type, ev_data,'
                || ' ev_extra1, ev_extra2, ev_extra3, ev_extra4)' || E'\n'
                || '            values (@ID@, @TIME@,'
                || ' ev_owner, ev_retry, ev_type, ev_data,'
                || ' ev_extra1, ev_extra2, ev_extra3, ev_extra4);' || E'\n'
                || '            return @ID@;' || E'\n';
        end loop;
        branches := branches || '        end if;' || E'\n';
        n := n + 1;
    end loop;
    if n > 0 then
        branches := branches || '    end if;' || E'\n';
    end if;

    for variant in
        select * from (values
            ('insert_event_raw',
             'text, bigint, timestamptz, integer, integer, text, text, text, text, text, text',
             'queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer, ev_retry integer,'
             ' ev_type text, ev_data text, ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text',
             '',
             '',
             'coalesce(ev_id, new_id)', 'coalesce(ev_time, now())'),
            -- No initializers: PL/pgSQL evaluates each one as an expression on every call;
            -- a variable without one is simply NULL.
            ('insert_event',
             'text, text, text, text, text, text, text',
             'queue_name text, ev_type text, ev_data text,'
             ' ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text',
             E'    ev_id       bigint;         -- always NULL: a new id\n'
             || E'    ev_time     timestamptz;    -- always NULL: now()\n'
             || E'    ev_owner    integer;        -- always NULL\n'
             || E'    ev_retry    integer;        -- always NULL\n',
             ' security definer set search_path = pg_catalog, pg_temp',
             'new_id', 'now()')
        ) as v(fn, arg_types, args, fixed_fields, attributes, id_expr, time_expr)
    loop
        select p.prosrc into current_src
          from pg_catalog.pg_proc p
         where p.oid = pg_catalog.to_regprocedure('pgq.' || variant.fn || '(' || variant.arg_types || ')');
        if not i_force and found and current_src not like '%-- pgqpp:generated%' then
            continue;   -- the user's own version: leave it
        end if;

        execute replace(replace(replace(replace(replace($template$
create or replace function pgq.@FN@(@ARGS@)
returns bigint as $body$
-- pgqpp:generated by pgq._refresh_insert_dispatch(): edit the template in
-- pgq_sql/functions/pgq.insert_event_raw.sql, not this text.
#variable_conflict use_variable
declare
@FIXED_FIELDS@    q_id        integer;
    q_pfx       text;
    q_cur       integer;
    q_seq       text;
    q_disabled  boolean;
    q_limit     integer;
    count_key   text;
    tx_count    integer;
    q_special   boolean;
    new_id      bigint;
begin
    -- The usual event costs the SELECT, three conditions, nextval and the INSERT: every
    -- expression PL/pgSQL evaluates is set up anew in each transaction, and most
    -- transactions insert one event.  So the rare cases (no such queue, a NULL name,
    -- inserts disabled, a per-transaction limit) hide behind q_special and q_id.
    select qt.queue_id, qt.queue_data_pfx, qt.queue_cur_table, qt.queue_event_seq,
           qt.queue_disable_insert, qt.queue_per_tx_limit,
           qt.queue_disable_insert or qt.queue_per_tx_limit is not null
      into q_id, q_pfx, q_cur, q_seq, q_disabled, q_limit, q_special
      from pgq.queue qt
     where qt.queue_name = @FN@.queue_name;

    if q_special then
        if q_disabled and current_setting('session_replication_role') <> 'replica' then
            perform nextval(q_seq::regclass);   -- consumed, as in PgQ
            raise exception 'Insert into queue disallowed';
        end if;
        if q_limit is not null then
            count_key := 'pgq.tx_event_count_' || q_id;
            tx_count := coalesce(nullif(current_setting(count_key, true), ''), '0')::integer + 1;
            if tx_count > q_limit then
                perform nextval(q_seq::regclass);
                raise exception 'Queue ''%'' allows max % events from one TX', queue_name, q_limit;
            end if;
            perform set_config(count_key, tx_count::text, true);
        end if;
    end if;

    -- fast path: static INSERTs with cached plans, one per known event table
@BRANCHES@
    -- no such queue (q_id is NULL, so no branch above matched)
    if q_id is null then
        if queue_name is null then
            raise exception 'Queue name must not be NULL';
        end if;
        raise exception 'No such queue';
    end if;
    -- generic path, for a queue or table the generated code does not know
    new_id := nextval(q_seq::regclass);
    execute 'insert into ' || pgq.quote_fqname(q_pfx || '_' || q_cur)
         || ' (ev_id, ev_time, ev_owner, ev_retry, ev_type, ev_data,'
         || ' ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
         || ' values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)'
      using coalesce(ev_id, new_id), coalesce(ev_time, now()),
            ev_owner, ev_retry, ev_type, ev_data,
            ev_extra1, ev_extra2, ev_extra3, ev_extra4;
    return coalesce(ev_id, new_id);
end;
$body$ language plpgsql@ATTRIBUTES@
$template$, '@BRANCHES@', replace(replace(branches, '@ID@', variant.id_expr),
                                  '@TIME@', variant.time_expr)),
            '@FIXED_FIELDS@', variant.fixed_fields),
            '@ARGS@', variant.args), '@ATTRIBUTES@', variant.attributes),
            '@FN@', variant.fn);
    end loop;
    return n;
end;
$generator$ language plpgsql;

-- The install runs pgq.upgrade_schema() later, which regenerates them with
-- the fast path for existing queues; this makes both functions exist now.
select pgq._refresh_insert_dispatch(true);
