-- ----------------------------------------------------------------------
-- Function: pgq.version(0)
--
--      The installed version: the extension's version when installed with
--      CREATE EXTENSION, the built-in one for a plain install.  Never NULL:
--      stock pgqd ignores a database whose pgq.version() is NULL.
-- ----------------------------------------------------------------------
create or replace function pgq.version()
returns text as $$
    select coalesce((select extversion from pg_catalog.pg_extension
                      where extname = 'pgq'),
                    '@PGQ_VERSION@');
$$ language sql;
