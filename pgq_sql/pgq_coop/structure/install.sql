-- pgq_sql/pgq_coop/structure/install.sql: the table of contents of pgq_coop.
--
-- Cooperative consumers: several processes ("subconsumers") share one
-- consumer's position, each taking whole batches.  pgq_coop installs next to
-- pgq (ours, or PgQ's own) and keeps its state in pgq's tables: a subconsumer
-- is a pgq subscription named '<consumer>.<subconsumer>' that shares the main
-- consumer's sub_id.  No tables of its own.
--
-- The build expands every \i line into one body used as the plain install
-- script (psql -f), the extension script (CREATE EXTENSION pgq_coop, which
-- requires pgq) and the extension update scripts: it must be idempotent.

\i structure/schema.sql
\i structure/functions.sql
\i structure/grants.sql
