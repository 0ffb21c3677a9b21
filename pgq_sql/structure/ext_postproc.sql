-- ----------------------------------------------------------------------
-- When installed as an extension, pg_dump must dump the rows of the
-- metadata tables (they are extension members, whose data is otherwise
-- skipped).  Outside CREATE/ALTER EXTENSION this is a no-op.
-- ----------------------------------------------------------------------
do $$
begin
    if exists (select 1 from pg_catalog.pg_depend d
                 join pg_catalog.pg_extension e on e.oid = d.refobjid
                where e.extname = 'pgq'
                  and d.classid = 'pg_catalog.pg_namespace'::regclass
                  and d.objid = 'pgq'::regnamespace
                  and d.deptype = 'e')
    then
        perform pg_catalog.pg_extension_config_dump('pgq.queue', '');
        perform pg_catalog.pg_extension_config_dump('pgq.consumer', '');
        perform pg_catalog.pg_extension_config_dump('pgq.tick', '');
        perform pg_catalog.pg_extension_config_dump('pgq.subscription', '');
        perform pg_catalog.pg_extension_config_dump('pgq.event_template', '');
        perform pg_catalog.pg_extension_config_dump('pgq.retry_queue', '');
        perform pg_catalog.pg_extension_config_dump('pgq.batch_id_seq', '');
        -- the serial columns' sequences too, or a restore restarts them at 1
        perform pg_catalog.pg_extension_config_dump('pgq.queue_queue_id_seq', '');
        perform pg_catalog.pg_extension_config_dump('pgq.consumer_co_id_seq', '');
        perform pg_catalog.pg_extension_config_dump('pgq.subscription_sub_id_seq', '');
        -- pgqpp's tables: per-queue options, light batches (an open one too)
        perform pg_catalog.pg_extension_config_dump('pgq.queue_option', '');
        perform pg_catalog.pg_extension_config_dump('pgq.batch', '');
        -- pgqpp's dead letters
        perform pg_catalog.pg_extension_config_dump('pgq.dead_letter', '');
        perform pg_catalog.pg_extension_config_dump('pgq.dead_letter_dl_id_seq', '');
    end if;
end;
$$;
