-- ----------------------------------------------------------------------
-- pgqpp addition: the dead-letter store (PgQ has no such table; nothing of
-- PgQ's reads it).  See pgq_sql/functions/pgq.dead_letter.sql.
--
--   pgq.dead_letter     events a consumer gave up on, kept for an operator
--                       to inspect, requeue (to that consumer) or purge
--
-- "if not exists": the file also runs over an existing installation.
-- Columns added later are added by pgq.upgrade_schema(), not here.
-- ----------------------------------------------------------------------

create table if not exists pgq.dead_letter (
    dl_id           bigserial,
    -- the queue (its dead letters go with it when it is dropped)
    dl_queue        int4        not null,
    -- the consumer that gave up (the main consumer for a cooperative
    -- subconsumer); a name, not a key: the letters outlive its registration
    dl_consumer     text        not null,
    -- when, why, and in which batch
    dl_time         timestamptz not null default now(),
    dl_reason       text        not null,
    dl_batch_id     bigint      not null,
    -- the event, as the batch delivered it
    ev_id           bigint      not null,
    ev_time         timestamptz not null,
    ev_txid         bigint,
    ev_retry        int4,
    ev_type         text,
    ev_data         text,
    ev_extra1       text,
    ev_extra2       text,
    ev_extra3       text,
    ev_extra4       text,

    constraint dead_letter_pkey primary key (dl_id),
    -- an event dies at most once per batch (a replayed batch adds nothing)
    constraint dead_letter_batch_event_uq unique (dl_batch_id, ev_id),
    constraint dl_queue_fkey foreign key (dl_queue)
                             references pgq.queue (queue_id) on delete cascade
);
-- listing: a queue's (and consumer's) newest first
create index if not exists dead_letter_queue_idx
    on pgq.dead_letter (dl_queue, dl_consumer, dl_id);
