-- ----------------------------------------------------------------------
-- Function: pgq_ext.version(0)
--
--      The installed version of pgq_ext: the extension's version when
--      installed with CREATE EXTENSION, the built-in one for a plain
--      install.  Never NULL.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.version()
returns text as $$
    select coalesce((select extversion from pg_catalog.pg_extension
                      where extname = 'pgq_ext'),
                    '@EXT_VERSION@');
$$ language sql;
