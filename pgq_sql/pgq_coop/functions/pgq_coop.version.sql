-- ----------------------------------------------------------------------
-- Function: pgq_coop.version(0)
--
--      The installed version of pgq_coop: the extension's version when
--      installed with CREATE EXTENSION, the built-in one for a plain
--      install.  Never NULL.
-- ----------------------------------------------------------------------
create or replace function pgq_coop.version()
returns text as $$
    select coalesce((select extversion from pg_catalog.pg_extension
                      where extname = 'pgq_coop'),
                    '@EXT_VERSION@');
$$ language sql;
