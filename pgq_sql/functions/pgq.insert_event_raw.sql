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
--      This function and pgq.insert_event(7) and (3) are GENERATED from the
--      one template below by pgq._refresh_insert_dispatch(), whenever queues
--      are created or dropped and on every install/upgrade:
--      * each holds one static INSERT per event table, chosen by (queue,
--        current table).  Static statements keep their cached plans; an
--        INSERT built as a string and EXECUTEd is parsed and planned for
--        every event, which made pure PL/pgSQL about half as fast as PgQ's C
--        insert.  A queue the generated code does not know (another
--        session's uncommitted create_queue, a restored dump of an extension
--        install) takes the generic EXECUTE path: slower, never wrong;
--      * pgq.insert_event(7) and (3) (SECURITY DEFINER, the functions
--        triggers and producers call) carry the same code instead of calling
--        insert_event_raw, and (3) does not call (7): one PL/pgSQL call per
--        event instead of PgQ's two plus C.  Their outer block has three
--        variables and evaluates two conditions: PL/pgSQL sets up each
--        variable on every call and each expression in every transaction.
--      Each can still be overridden as in PgQ: create_queue/drop_queue only
--      regenerate a function whose source carries the '-- pgqpp:generated'
--      mark, so a user's own version stays until the next install/upgrade
--      (which, as in PgQ, puts the stock version back).  While the user's
--      own insert_event(7) is in place, (3) is generated as a wrapper that
--      calls it; the event trigger pgq_trigger_cache regenerates (3) when
--      insert_event(7) is replaced, so this holds at once.
-- ----------------------------------------------------------------------
-- ----------------------------------------------------------------------
-- Function: pgq._refresh_insert_dispatch(1)                   (pgqpp)
--
--      Regenerates pgq.insert_event_raw and pgq.insert_event(7) and (3) from
--      the template for the queues that exist now, in the caller's transaction
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
    variant     record;
    q           record;
    i           integer;
    stmt        text;
    fast        text;       -- branches on (q_fast, q_cur): the usual event
    slow        text;       -- the same branches after the checks of the rare cases
    current_src text;
begin
    -- concurrent CREATE OR REPLACE of one function fails; take turns
    perform pg_advisory_xact_lock(pg_catalog.hashtext('pgq._refresh_insert_dispatch'));

    for variant in
        select * from (values
            ('insert_event_raw',
             'text, bigint, timestamptz, integer, integer, text, text, text, text, text, text',
             'queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer, ev_retry integer,'
             ' ev_type text, ev_data text, ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text',
             '',
             E'new_id := nextval(@SEQ@);\n'
             || E'insert into @TBL@ (ev_id, ev_time, ev_owner, ev_retry, ev_type, ev_data,'
             || E' ev_extra1, ev_extra2, ev_extra3, ev_extra4)\n'
             || E'values (coalesce(ev_id, new_id), coalesce(ev_time, now()), ev_owner, ev_retry,'
             || E' ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4);\n'
             || E'return coalesce(ev_id, new_id);\n',
             'coalesce(ev_id, new_id), coalesce(ev_time, now()), ev_owner, ev_retry,'
             ' ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4',
             'coalesce(ev_id, new_id)'),
            -- The functions producers and triggers call: only the columns they set, the
            -- id from the sequence inside the INSERT (no variables, no extra expression).
            ('insert_event',
             'text, text, text, text, text, text, text',
             'queue_name text, ev_type text, ev_data text,'
             ' ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text',
             ' security definer set search_path = pg_catalog, pg_temp',
             E'insert into @TBL@ as ev (ev_id, ev_time, ev_type, ev_data,'
             || E' ev_extra1, ev_extra2, ev_extra3, ev_extra4)\n'
             || E'values (nextval(@SEQ@), now(), ev_type, ev_data,'
             || E' ev_extra1, ev_extra2, ev_extra3, ev_extra4)\n'
             || E'returning ev.ev_id into new_id;\n'
             || E'return new_id;\n',
             'new_id, now(), null::integer, null::integer,'
             ' ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4',
             'new_id'),
            -- after insert_event(7): it becomes a wrapper of a (7) the user overrode
            ('insert_event',
             'text, text, text',
             'queue_name text, ev_type text, ev_data text',
             ' security definer set search_path = pg_catalog, pg_temp',
             E'insert into @TBL@ as ev (ev_id, ev_time, ev_type, ev_data)\n'
             || E'values (nextval(@SEQ@), now(), ev_type, ev_data)\n'
             || E'returning ev.ev_id into new_id;\n'
             || E'return new_id;\n',
             'new_id, now(), null::integer, null::integer,'
             ' ev_type, ev_data, null::text, null::text, null::text, null::text',
             'new_id')
        ) as v(fn, arg_types, args, attributes, insert_stmt, generic_using, result)
    loop
        select p.prosrc into current_src
          from pg_catalog.pg_proc p
         where p.oid = pg_catalog.to_regprocedure('pgq.' || variant.fn || '(' || variant.arg_types || ')');
        if not i_force and found and current_src not like '%-- pgqpp:generated%' then
            continue;   -- the user's own version: leave it
        end if;

        if variant.arg_types = 'text, text, text' and not exists (
                select 1 from pg_catalog.pg_proc p
                 where p.oid = pg_catalog.to_regprocedure(
                                   'pgq.insert_event(text, text, text, text, text, text, text)')
                   and p.prosrc like '%-- pgqpp:generated%') then
            -- The user's own insert_event(7) must see every insert, as in PgQ.
            create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text)
            returns bigint as $wrapper$
-- pgqpp:generated by pgq._refresh_insert_dispatch(): pgq.insert_event(7) is the
-- user's own, so this calls it (the stock version carries the insert itself).
begin
    return pgq.insert_event(queue_name, ev_type, ev_data, null, null, null, null);
end;
$wrapper$ language plpgsql;
            continue;
        end if;

        fast := '';
        slow := '';
        for q in
            select queue_id, queue_ntables, queue_data_pfx, queue_event_seq
              from pgq.queue
             order by queue_id
        loop
            fast := fast || case when fast = '' then '    if' else '    elsif' end
                         || ' q_fast = ' || q.queue_id || E' then\n';
            slow := slow || case when slow = '' then '        if' else '        elsif' end
                         || ' q.queue_id = ' || q.queue_id || E' then\n';
            for i in 0 .. q.queue_ntables - 1 loop
                stmt := replace(replace(rtrim(variant.insert_stmt, E'\n'),
                            '@TBL@', pgq.quote_fqname(q.queue_data_pfx || '_' || i)),
                            '@SEQ@', pg_catalog.quote_literal(pgq.quote_fqname(q.queue_event_seq))
                                     || '::regclass');
                fast := fast || case when i = 0 then '        if' else '        elsif' end
                             || ' q_cur = ' || i || E' then\n'
                             || '            ' || replace(stmt, E'\n', E'\n            ') || E'\n';
                slow := slow || case when i = 0 then '            if' else '            elsif' end
                             || ' q.queue_cur_table = ' || i || E' then\n'
                             || '                ' || replace(stmt, E'\n', E'\n                ') || E'\n';
            end loop;
            fast := fast || E'        end if;\n';
            slow := slow || E'            end if;\n';
        end loop;
        if fast <> '' then
            fast := fast || E'    end if;\n';
            slow := slow || E'        end if;\n';
        end if;

        execute replace(replace(replace(replace(replace(replace(replace(replace($template$
create or replace function pgq.@FN@(@ARGS@)
returns bigint as $body$
-- pgqpp:generated by pgq._refresh_insert_dispatch(): edit the template in
-- pgq_sql/functions/pgq.insert_event_raw.sql, not this text.
#variable_conflict use_variable
declare
    -- The usual event costs this block: one SELECT, two conditions and the INSERT.
    -- PL/pgSQL sets up every variable of the block on each call and every expression
    -- anew in each transaction, and most transactions insert one event; so the rare
    -- cases (no such queue, a NULL name, inserts disabled, a per-transaction limit)
    -- and their variables live in the inner block.
    q_fast      integer;    -- the queue's id; NULL: no such queue, or a check is due
    q_cur       integer;
    new_id      bigint;
begin
    select case when not qt.queue_disable_insert and qt.queue_per_tx_limit is null
                then qt.queue_id end,
           qt.queue_cur_table
      into q_fast, q_cur
      from pgq.queue qt
     where qt.queue_name = @FN@.queue_name;

    -- fast path: static INSERTs with cached plans, one per known event table
@FAST@
    declare
        q           pgq.queue%rowtype;
        count_key   text;
        tx_count    integer;
    begin
        select * into q from pgq.queue qt where qt.queue_name = @FN@.queue_name;
        if not found then
            if queue_name is null then
                raise exception 'Queue name must not be NULL';
            end if;
            raise exception 'No such queue';
        end if;
        if q.queue_disable_insert and current_setting('session_replication_role') <> 'replica' then
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

        -- checked: the same static INSERTs
@SLOW@
        -- generic path, for a queue or table the generated code does not know
        new_id := nextval(q.queue_event_seq::regclass);
        execute 'insert into ' || pgq.quote_fqname(q.queue_data_pfx || '_' || q.queue_cur_table)
             || ' (ev_id, ev_time, ev_owner, ev_retry, ev_type, ev_data,'
             || ' ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
             || ' values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)'
          using @USING@;
        return @RESULT@;
    end;
end;
$body$ language plpgsql@ATTRIBUTES@
$template$, '@FAST@', fast), '@SLOW@', slow),
            '@USING@', variant.generic_using), '@RESULT@', variant.result),
            '@ARGS@', variant.args), '@ATTRIBUTES@', variant.attributes),
            '@FN@', variant.fn), E'\n\n\n', E'\n\n');
    end loop;
    return (select count(*) from pgq.queue);
end;
$generator$ language plpgsql;

-- The install runs pgq.upgrade_schema() later, which regenerates them with
-- the fast path for existing queues; this makes the functions exist now.
select pgq._refresh_insert_dispatch(true);
