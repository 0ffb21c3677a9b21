-- pgq_sql/pgq_ext/structure/install.sql: the table of contents of pgq_ext.
--
-- pgq_ext lives in the TARGET database of a remote consumer (often not the
-- queue's database): it records there which batches, events or ticks were
-- applied, in the same transaction as the consumer's writes, so that a batch
-- replayed after a crash is recognised and skipped.  It needs nothing of pgq.
--
-- The build expands every \i line into one body that is used as the plain
-- install script (psql -f), the extension script (CREATE EXTENSION pgq_ext)
-- and the extension update scripts, so every part is idempotent: running it
-- over an existing installation (ours or PgQ's pgq_ext) upgrades it in place
-- and keeps all data.

\i structure/schema.sql
\i structure/tables.sql
\i structure/functions.sql
\i structure/upgrade.sql
\i structure/grants.sql
\i structure/ext_postproc.sql
