-- Bring tables and roles up to date.  On a fresh install this finds nothing
-- to do; over an older installation (ours or PgQ's) it adds what is missing.
select pgq.upgrade_schema();
