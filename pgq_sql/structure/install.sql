-- pgq_sql/structure/install.sql: the table of contents of the queue.
--
-- The build expands every \i line (recursively) into one script body that is
-- used three ways: the plain install script (psql -f), the extension script
-- (CREATE EXTENSION pgq) and the extension update script.  So every part must
-- be idempotent: running it over an existing installation upgrades it in
-- place and keeps all data.

\i structure/schema.sql
\i structure/tables.sql
\i structure/tables_dead_letter.sql
\i structure/func_internal.sql
\i structure/func_public.sql
\i structure/func_pgqpp.sql
\i structure/upgrade.sql
\i structure/grants.sql
\i structure/ext_postproc.sql
