-- ----------------------------------------------------------------------
-- Function: pgq.maint_operations(0)
--
--      The maintenance work list, in the order to run it, one statement
--      (transaction) each.  The daemon calls func_name(func_arg), or runs
--      "vacuum func_arg"; a function that returns non-zero is called again.
--
--      1. rotation step 1 for each queue due for rotation
--      2. rotation step 2, if anything is waiting for it
--      2b. (pgqpp) pgq.maint_clean_batches for each queue with old light
--          batches (pgq.batch rows that can no longer be open); never
--          listed for queues that do not use the option light_batches
--      3. each queue's extra maintenance functions (queue_extra_maint)
--      4. vacuum of metadata tables (only with autovacuum off)
--      5. pgq_node / londiste periodic jobs, when those are installed
--
-- Differences from PgQ (intentional):
--      an empty queue_extra_maint array ('{}') lists nothing (PgQ fails
--      with 'lower bound of FOR loop cannot be null'); pgq_node root queues
--      are listed by name (PgQ: in no particular order).
-- ----------------------------------------------------------------------
create or replace function pgq.maint_operations(out func_name text, out func_arg text)
returns setof record as $$
declare
    ops     record;
    fn      text;
    qname   text;
    step2   boolean := false;
    installed text[];
begin
    for qname in
        select queue_name from pgq.queue
         where queue_rotation_period is not null
           and queue_switch_step2 is not null
           and queue_switch_time + queue_rotation_period < current_timestamp
         order by queue_name
    loop
        func_name := 'pgq.maint_rotate_tables_step1';
        func_arg := qname;
        return next;
        step2 := true;
    end loop;

    if step2 or exists (select 1 from pgq.queue where queue_switch_step2 is null) then
        func_name := 'pgq.maint_rotate_tables_step2';
        func_arg := null;
        return next;
    end if;

    for qname in
        select q.queue_name from pgq.queue q
         where exists (select 1 from pgq.batch x
                        where x.batch_queue = q.queue_id
                          and (exists (select 1 from pgq.batch newer
                                        where newer.batch_queue = x.batch_queue
                                          and newer.batch_consumer = x.batch_consumer
                                          and newer.batch_id > x.batch_id)
                               or not exists (select 1 from pgq.subscription s
                                               where s.sub_queue = x.batch_queue
                                                 and s.sub_consumer = x.batch_consumer
                                                 and s.sub_id = x.batch_sub_id)))
         order by q.queue_name
    loop
        func_name := 'pgq.maint_clean_batches';
        func_arg := qname;
        return next;
    end loop;

    for ops in
        select queue_name, queue_extra_maint from pgq.queue
         where queue_extra_maint is not null
         order by queue_name
    loop
        foreach fn in array ops.queue_extra_maint loop
            func_name := fn;
            func_arg := ops.queue_name;
            return next;
        end loop;
    end loop;

    for func_arg in select pgq.maint_tables_to_vacuum() loop
        func_name := 'vacuum';
        return next;
    end loop;

    -- jobs of companion schemas, when they are installed
    select array_agg(n.nspname || '.' || p.proname) into installed
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where (n.nspname, p.proname) in (('pgq_node', 'maint_watermark'),
                                      ('londiste', 'root_check_seqs'),
                                      ('londiste', 'periodic_maintenance'));

    if 'pgq_node.maint_watermark' = any (installed) then
        for qname in execute
            'select queue_name from pgq_node.node_info where node_type = ''root'' order by queue_name'
        loop
            func_name := 'pgq_node.maint_watermark';
            func_arg := qname;
            return next;
        end loop;
    end if;

    if 'londiste.root_check_seqs' = any (installed) then
        for qname in execute
            'select distinct s.queue_name from londiste.seq_info s'
            ' join pgq_node.node_info n on n.queue_name = s.queue_name'
            ' where s.local and n.node_type = ''root'' order by 1'
        loop
            func_name := 'londiste.root_check_seqs';
            func_arg := qname;
            return next;
        end loop;
    end if;

    if 'londiste.periodic_maintenance' = any (installed) then
        func_name := 'londiste.periodic_maintenance';
        func_arg := null;
        return next;
    end if;
end;
$$ language plpgsql;
