-- ----------------------------------------------------------------------
-- When installed as an extension, pg_dump must dump the rows of the
-- tracking tables (they are extension members, whose data is otherwise
-- skipped).  Outside CREATE/ALTER EXTENSION this is a no-op.
-- ----------------------------------------------------------------------
do $$
begin
    if exists (select 1 from pg_catalog.pg_depend d
                 join pg_catalog.pg_extension e on e.oid = d.refobjid
                where e.extname = 'pgq_ext'
                  and d.classid = 'pg_catalog.pg_namespace'::regclass
                  and d.objid = 'pgq_ext'::regnamespace
                  and d.deptype = 'e')
    then
        perform pg_catalog.pg_extension_config_dump('pgq_ext.completed_tick', '');
        perform pg_catalog.pg_extension_config_dump('pgq_ext.completed_batch', '');
        perform pg_catalog.pg_extension_config_dump('pgq_ext.completed_event', '');
        perform pg_catalog.pg_extension_config_dump('pgq_ext.partial_batch', '');
        perform pg_catalog.pg_extension_config_dump('pgq_ext.batch_outcome', '');
    end if;
end;
$$;
