-- ----------------------------------------------------------------------
-- Privileges (PgQ's roles; the roles are made by pgq.upgrade_schema()).
--
--   public      - read-only information functions
--   pgq_reader  - consume: register, batches, retry
--   pgq_writer  - produce: insert_event, bulk insert, triggers
--   pgq_admin   - member of both; queues, ticker, maintenance
--
-- Everything not listed here is revoked from public.
-- ----------------------------------------------------------------------

grant usage on schema pgq to public;

-- Start from nothing, then grant exactly the list below.
revoke all on all functions in schema pgq from public;
revoke all on all tables in schema pgq from public;

grant execute on function
    pgq.seq_getval(text),
    pgq.get_queue_info(),
    pgq.get_queue_info(text),
    pgq.get_consumer_info(),
    pgq.get_consumer_info(text),
    pgq.get_consumer_info(text, text),
    pgq.quote_fqname(text),
    pgq.version()
to public;

-- pgqpp: per-queue options, and the batch lookup of light batches (called
-- by batch_event_sql/batch_event_tables, which run as their caller)
grant execute on function
    pgq.get_queue_options(),
    pgq.get_queue_options(text)
to public;
grant execute on function
    pgq._find_batch(bigint, boolean),
    pgq._light_batch_id(pgq.subscription),
    pgq._batch_event_tables(int4, bigint, bigint)
to pgq_reader;
grant execute on function
    pgq.maint_clean_batches(text)
to pgq_admin;

-- Internals of the trigger functions: they run as whoever changes the table;
-- what they may do is decided by pgq.insert_event's own grant, as in PgQ.
grant execute on function
    pgq._urlencode(text),
    pgq._trg_split(text),
    pgq._trg_wrap(text),
    pgq._trg_logu_data(text, text),
    pgq._trg_json_data(text, integer, text),
    pgq._trg_stamp(oid, text),
    pgq._trg_qb_rewrite(text, text[]),
    pgq._trg_cache_build(char, oid, text, text[], boolean),
    pgq._trg_refresh(char, oid, text, text, text[], boolean, text, text),
    pgq._trg_entry(char, text, oid, text, text[], text, text, text, text, text),
    pgq._trg_names(text, text, text),
    pgq._trg_urlenc_row(text[], text[], integer),
    pgq._trg_json_row(text[], text[], integer, json),
    pgq._trg_fast(char, text, text, json),
    pgq._trg_event(char, text, text, text, text, record, record, text, text)
to public;
-- the DDL counter of the trigger cache (see pgq._trigger_support.sql)
grant select on pgq._trg_ddl_seq to public;

grant execute on function
    pgq.batch_event_sql(bigint),
    pgq.batch_event_tables(bigint),
    pgq.find_tick_helper(int4, int8, timestamptz, int8, int8, interval),
    pgq.register_consumer(text, text),
    pgq.register_consumer_at(text, text, bigint),
    pgq.unregister_consumer(text, text),
    pgq.next_batch_info(text, text),
    pgq.next_batch(text, text),
    pgq.next_batch_custom(text, text, interval, int4, interval),
    pgq.get_batch_events(bigint),
    pgq.get_batch_info(bigint),
    pgq.get_batch_cursor(bigint, text, int4, text),
    pgq.get_batch_cursor(bigint, text, int4),
    pgq.event_retry(bigint, bigint, timestamptz),
    pgq.event_retry(bigint, bigint, integer),
    pgq.event_retry_bulk(bigint, bigint[], timestamptz),
    pgq.event_retry_bulk(bigint, bigint[], integer),
    pgq.batch_retry(bigint, integer),
    pgq.force_tick(text),
    pgq.finish_batch(bigint)
to pgq_reader;

-- pgqpp: dead letters.  A consumer adds them for the batch it processes,
-- and may list them; requeue and purge are the operator's.
grant execute on function
    pgq.dead_letter_add(bigint, bigint[], text),
    pgq.dead_letter_list(text, text, integer, bigint),
    pgq.dead_letter_show(bigint)
to pgq_reader;
grant execute on function
    pgq.dead_letter_requeue(bigint[], timestamptz),
    pgq.dead_letter_purge(bigint[]),
    pgq.dead_letter_purge(text, interval)
to pgq_admin;

grant execute on function
    pgq.insert_event(text, text, text),
    pgq.insert_event(text, text, text, text, text, text, text),
    pgq.insert_event_bulk(text, text[], text[], text[], text[], text[], text[]),
    pgq.insert_event_bulk_ids(text, text[], text[], text[], text[], text[], text[]),
    pgq.current_event_table(text),
    pgq.jsontriga(),
    pgq.sqltriga(),
    pgq.logutriga()
to pgq_writer;

grant execute on function
    pgq.ticker(text, bigint, timestamptz, bigint),
    pgq.ticker(text),
    pgq.ticker(),
    pgq.maint_retry_events(),
    pgq.maint_rotate_tables_step1(text),
    pgq.maint_rotate_tables_step2(),
    pgq._old_snapshot_pids(bigint),
    pgq.maint_tables_to_vacuum(),
    pgq.maint_operations(),
    pgq.upgrade_schema(),
    pgq.grant_perms(text),
    pgq._grant_perms_from(text, text, text, text),
    pgq.tune_storage(text),
    pgq.seq_setval(text, int8),
    pgq.create_queue(text),
    pgq.drop_queue(text, bool),
    pgq.drop_queue(text),
    pgq.set_queue_config(text, text, text),
    pgq.insert_event_raw(text, bigint, timestamptz, integer, integer, text, text, text, text, text, text),
    pgq.event_retry_raw(text, text, timestamptz, bigint, timestamptz, integer, text, text, text, text, text, text)
to pgq_admin;

-- Metadata tables: readable by everyone (monitoring reads them directly),
-- writable by pgq_admin.
grant select on pgq.consumer, pgq.queue, pgq.tick, pgq.subscription to public;
grant select, insert, update, delete on pgq.consumer, pgq.queue, pgq.tick, pgq.subscription to pgq_admin;
grant select on pgq.consumer, pgq.queue, pgq.tick, pgq.subscription to pgq_reader;

-- Event tables inherit these through pgq.grant_perms().
grant select on pgq.event_template to pgq_reader;
grant select, insert, truncate on pgq.event_template to pgq_admin;

grant select, insert, update, delete on pgq.retry_queue to pgq_admin;

-- pgqpp's tables, like the metadata tables above
grant select on pgq.queue_option, pgq.batch to public;
grant select, insert, update, delete on pgq.queue_option, pgq.batch to pgq_admin;

-- pgqpp: dead letters hold event payloads: readable like the event tables
grant select on pgq.dead_letter to pgq_reader;
grant select, insert, update, delete on pgq.dead_letter to pgq_admin;
