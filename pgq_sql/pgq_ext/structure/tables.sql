-- ----------------------------------------------------------------------
-- Tables of schema pgq_ext (PgQ's pgq_ext 3.x layout).  Every table is
-- keyed by the consumer's name and a subconsumer name ('' for a consumer
-- that has none; the short forms of the functions pass '').
--
--   pgq_ext.completed_tick   last tick applied      (SerialConsumer)
--   pgq_ext.completed_batch  last batch applied     (RemoteConsumer)
--   pgq_ext.completed_event  events applied of the batch in progress
--   pgq_ext.partial_batch    the batch whose events are being tracked
--   pgq_ext.batch_outcome    retries and dead letters of the last batch (pgqpp)
--
-- "if not exists": the file also runs over an existing installation.
-- Tables of older pgq_ext versions (no subconsumer_id) are brought up to
-- date by pgq_ext.upgrade_schema(), not here.
-- ----------------------------------------------------------------------

create table if not exists pgq_ext.completed_tick (
    consumer_id     text        not null,
    subconsumer_id  text        not null,
    last_tick_id    bigint      not null,

    constraint completed_tick_pkey primary key (consumer_id, subconsumer_id)
);

create table if not exists pgq_ext.completed_batch (
    consumer_id     text        not null,
    subconsumer_id  text        not null,
    last_batch_id   bigint      not null,

    constraint completed_batch_pkey primary key (consumer_id, subconsumer_id)
);

create table if not exists pgq_ext.completed_event (
    consumer_id     text        not null,
    subconsumer_id  text        not null,
    batch_id        bigint      not null,
    event_id        bigint      not null,

    constraint completed_event_pkey
        primary key (consumer_id, subconsumer_id, batch_id, event_id)
);

create table if not exists pgq_ext.partial_batch (
    consumer_id     text        not null,
    subconsumer_id  text        not null,
    cur_batch_id    bigint      not null,

    constraint partial_batch_pkey primary key (consumer_id, subconsumer_id)
);

-- pgqpp: see pgq_sql/pgq_ext/functions/pgq_ext.batch_outcomes.sql
create table if not exists pgq_ext.batch_outcome (
    consumer_id     text        not null,
    subconsumer_id  text        not null,
    batch_id        bigint      not null,
    event_id        bigint      not null,
    retry_seconds   bigint,                 -- a retry after this many seconds, or
    dead_reason     text,                   -- a dead letter for this reason

    constraint batch_outcome_pkey
        primary key (consumer_id, subconsumer_id, batch_id, event_id),
    constraint batch_outcome_retry_or_dead
        check ((retry_seconds is null) <> (dead_reason is null))
);
