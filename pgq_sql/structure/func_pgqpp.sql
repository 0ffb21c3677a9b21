-- ----------------------------------------------------------------------
-- pgqpp additions: new functions only; no PgQ function changes meaning.
-- ----------------------------------------------------------------------

-- Group: Bulk enqueue and bulk retry
\i functions/pgq.insert_event_bulk.sql
\i functions/pgq.event_retry_bulk.sql
