-- ----------------------------------------------------------------------
-- Functions of pgq_ext (PgQ's pgq_ext 3.3 API).
--
-- Each tracking function has a full form (consumer, subconsumer, ...),
-- SECURITY DEFINER with a pinned search_path, and a short form without the
-- subconsumer (it passes '') that runs as its caller.
--
-- Exactly-once into the target database ("RemoteConsumer"), per batch:
--   in the target transaction:
--      if pgq_ext.is_batch_done(consumer, batch_id): skip the batch
--      apply the batch's events
--      pgq_ext.set_batch_outcome(...) for the events it retried (pgqpp)
--      pgq_ext.set_batch_done(consumer, batch_id)
--      commit
--   then the retries and pgq.finish_batch(batch_id) in the queue's
--   database, commit.
-- A crash between the two commits replays the batch (same batch id),
-- which is_batch_done then recognises; get_batch_outcomes gives back the
-- retries to hand to the queue with finish_batch.
-- ----------------------------------------------------------------------

-- Group: Batch tracking
\i functions/pgq_ext.batch_tracking.sql
\i functions/pgq_ext.batch_outcomes.sql

-- Group: Event tracking
\i functions/pgq_ext.event_tracking.sql

-- Group: Tick tracking
\i functions/pgq_ext.tick_tracking.sql

-- Group: Installation
\i functions/pgq_ext.upgrade_schema.sql
\i functions/pgq_ext.version.sql
