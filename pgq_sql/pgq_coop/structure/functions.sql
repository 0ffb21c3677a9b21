-- ----------------------------------------------------------------------
-- Functions of pgq_coop (PgQ's pgq_coop 3.4 API).
--
-- A subconsumer's loop:
--   1. pgq_coop.register_subconsumer(queue, consumer, sub)     once (optional:
--                                                              next_batch registers)
--   2. pgq_coop.next_batch(queue, consumer, sub[, dead_interval]) -> batch_id
--                                                              NULL: nothing yet, sleep
--   3. pgq.get_batch_events(batch_id) or pgq.get_batch_cursor + FETCH
--   4. pgq.event_retry(batch_id, ev_id, seconds)               optional
--   5. pgq_coop.finish_batch(batch_id)
--   6. commit, goto 2
--   pgq_coop.unregister_subconsumer(queue, consumer, sub, 0) when leaving.
--
-- Batches are handed out in tick order, to whichever subconsumer asks
-- first; they may finish in any order.  The main consumer's position moves
-- as soon as a batch is handed out; rotation is held back by the oldest
-- unfinished subconsumer batch (its sub_last_tick).
-- ----------------------------------------------------------------------

-- Group: Subconsumers
\i functions/pgq_coop._lock_main.sql
\i functions/pgq_coop.register_subconsumer.sql
\i functions/pgq_coop.unregister_subconsumer.sql

-- Group: Batches
\i functions/pgq_coop.next_batch.sql
\i functions/pgq_coop.finish_batch.sql

-- Group: Installation
\i functions/pgq_coop.version.sql
