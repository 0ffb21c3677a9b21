-- ----------------------------------------------------------------------
-- Public API (PgQ 3.x compatible).
--
-- The consumer protocol:
--   1. pgq.register_consumer(queue, consumer)          once
--   2. pgq.next_batch(queue, consumer) -> batch_id      NULL: nothing yet, sleep
--   3. pgq.get_batch_events(batch_id)                   or get_batch_cursor + FETCH
--   4. pgq.event_retry(batch_id, ev_id, seconds)        for events to see again later
--   5. pgq.finish_batch(batch_id)                       always, even for empty batches
--   6. commit, goto 2
--
-- Producers call pgq.insert_event() inside their own transaction; the event
-- exists if and only if that transaction commits.
-- ----------------------------------------------------------------------

-- Group: Queue administration
\i functions/pgq.create_queue.sql
\i functions/pgq.drop_queue.sql
\i functions/pgq.set_queue_config.sql

-- Group: Producing events
\i functions/pgq.insert_event.sql
\i functions/pgq.current_event_table.sql

-- Group: Consumer registration
\i functions/pgq.register_consumer.sql
\i functions/pgq.unregister_consumer.sql

-- Group: Batches
\i functions/pgq.next_batch.sql
\i functions/pgq.get_batch_events.sql
\i functions/pgq.get_batch_cursor.sql
\i functions/pgq.event_retry.sql
\i functions/pgq.batch_retry.sql
\i functions/pgq.finish_batch.sql

-- Group: Information
\i functions/pgq.get_queue_info.sql
\i functions/pgq.get_consumer_info.sql
\i functions/pgq.get_batch_info.sql

-- Group: Triggers (change capture: table rows become events)
\i functions/pgq._trigger_support.sql
\i functions/pgq.logutriga.sql
\i functions/pgq.sqltriga.sql
\i functions/pgq.jsontriga.sql
