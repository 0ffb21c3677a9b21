-- ----------------------------------------------------------------------
-- pgqpp additions: new functions only; no PgQ function changes meaning.
-- ----------------------------------------------------------------------

-- Group: Bulk enqueue and bulk retry
\i functions/pgq.insert_event_bulk.sql
\i functions/pgq.event_retry_bulk.sql

-- Group: Light batches (queue option light_batches) and per-queue options
\i functions/pgq._find_batch.sql
\i functions/pgq.get_queue_options.sql
\i functions/pgq.maint_clean_batches.sql

-- Group: Dead letters
\i functions/pgq.dead_letter.sql
