-- ----------------------------------------------------------------------
-- Internal functions: used by the public API, the ticker and maintenance.
-- ----------------------------------------------------------------------

-- Group: Names and sequences
\i functions/pgq.quote_fqname.sql
\i functions/pgq.seq_funcs.sql

-- Group: Low-level event insert (generated, see the file)
\i functions/pgq.insert_event_raw.sql

-- Group: Batch contents
\i functions/pgq.batch_event_tables.sql
\i functions/pgq.batch_event_sql.sql
\i functions/pgq.find_tick_helper.sql

-- Group: Retry internals
\i functions/pgq.event_retry_raw.sql
\i functions/pgq._retry_batch_events.sql

-- Group: Ticker
\i functions/pgq.ticker.sql
\i functions/pgq.force_tick.sql

-- Group: Maintenance
\i functions/pgq.maint_retry_events.sql
\i functions/pgq._old_snapshot_pids.sql
\i functions/pgq.maint_rotate_tables.sql
\i functions/pgq.maint_tables_to_vacuum.sql
\i functions/pgq.maint_operations.sql

-- Group: Queue storage and privileges
\i functions/pgq.grant_perms.sql
\i functions/pgq.tune_storage.sql

-- Group: Versioning
\i functions/pgq.upgrade_schema.sql
\i functions/pgq.version.sql
