-- ----------------------------------------------------------------------
-- Tables of schema pgq (names, columns and constraints as in PgQ 3.x, so
-- that tools reading them directly keep working).
--
--   pgq.consumer        consumer name -> id
--   pgq.queue           one row per queue: its settings and rotation state
--   pgq.tick            ticks: snapshots that cut the event stream into batches
--   pgq.subscription    one row per (queue, consumer): the consumer's position
--   pgq.event_template  parent of every event table (pgq.event_N, pgq.event_N_i)
--   pgq.retry_queue     events waiting to be re-delivered to one consumer
--
-- Every statement is "if not exists": the file also runs over an existing
-- installation.  Columns added after the first release are added by
-- pgq.upgrade_schema(), not here.
-- ----------------------------------------------------------------------

create table if not exists pgq.consumer (
    co_id       serial,
    co_name     text        not null,

    constraint consumer_pkey primary key (co_id),
    constraint consumer_name_uq unique (co_name)
);

create table if not exists pgq.queue (
    queue_id                    serial,
    queue_name                  text        not null,

    queue_ntables               integer     not null default 3,
    queue_cur_table             integer     not null default 0,
    queue_rotation_period       interval    not null default '2 hours',
    -- txid of the transaction that did the last rotation (step 1)
    queue_switch_step1          bigint      not null default txid_current(),
    -- txid of a later transaction that sees the rotation; NULL = step 2 pending
    queue_switch_step2          bigint               default txid_current(),
    queue_switch_time           timestamptz not null default now(),

    queue_external_ticker       boolean     not null default false,
    queue_disable_insert        boolean     not null default false,
    queue_ticker_paused         boolean     not null default false,

    queue_ticker_max_count      integer     not null default 500,
    queue_ticker_max_lag        interval    not null default '3 seconds',
    queue_ticker_idle_period    interval    not null default '1 minute',
    queue_per_tx_limit          integer,

    queue_data_pfx              text        not null,
    queue_event_seq             text        not null,
    queue_tick_seq              text        not null,

    queue_extra_maint           text[],

    constraint queue_pkey primary key (queue_id),
    constraint queue_name_uq unique (queue_name)
);

create table if not exists pgq.tick (
    tick_queue                  int4            not null,
    tick_id                     bigint          not null,
    tick_time                   timestamptz     not null default now(),
    tick_snapshot               txid_snapshot   not null default txid_current_snapshot(),
    tick_event_seq              bigint          not null,

    constraint tick_pkey primary key (tick_queue, tick_id),
    constraint tick_queue_fkey foreign key (tick_queue)
                               references pgq.queue (queue_id)
);

-- Batch ids are global across queues.
create sequence if not exists pgq.batch_id_seq;

create table if not exists pgq.subscription (
    -- Not unique: cooperative subconsumers share the main consumer's sub_id.
    sub_id          serial      not null,
    sub_queue       int4        not null,
    sub_consumer    int4        not null,
    sub_last_tick   bigint,
    sub_active      timestamptz not null default now(),
    sub_batch       bigint,
    sub_next_tick   bigint,

    constraint subscription_pkey primary key (sub_queue, sub_consumer),
    constraint subscription_batch_idx unique (sub_batch),
    constraint sub_queue_fkey foreign key (sub_queue)
                              references pgq.queue (queue_id),
    constraint sub_consumer_fkey foreign key (sub_consumer)
                                 references pgq.consumer (co_id)
);

create table if not exists pgq.event_template (
    ev_id           bigint          not null,
    ev_time         timestamptz     not null,

    ev_txid         bigint          not null default txid_current(),
    -- NULL: for every consumer; a sub_id: a retried event for that consumer only
    ev_owner        int4,
    ev_retry        int4,

    ev_type         text,
    ev_data         text,
    ev_extra1       text,
    ev_extra2       text,
    ev_extra3       text,
    ev_extra4       text
);

create table if not exists pgq.retry_queue (
    ev_retry_after  timestamptz     not null,
    ev_queue        int4            not null,

    like pgq.event_template,

    constraint rq_pkey primary key (ev_owner, ev_id),
    constraint rq_queue_id_fkey foreign key (ev_queue)
                                references pgq.queue (queue_id)
);
alter table pgq.retry_queue alter column ev_owner set not null;
alter table pgq.retry_queue alter column ev_txid drop not null;
create index if not exists rq_retry_idx on pgq.retry_queue (ev_retry_after);

-- ----------------------------------------------------------------------
-- pgqpp additions (PgQ has no such tables; nothing of PgQ's reads them).
--
--   pgq.queue_option    per-queue options beyond PgQ's columns of pgq.queue
--   pgq.batch           batches opened in "light batches" mode
-- ----------------------------------------------------------------------

-- Per-queue options that PgQ does not have, set with pgq.set_queue_config()
-- and listed by pgq.get_queue_options().  A separate table rather than new
-- columns of pgq.queue, so that pgq.queue stays exactly PgQ's (tools read it
-- with select *).  Only values that differ from the default are stored.
create table if not exists pgq.queue_option (
    qo_queue        int4        not null,
    qo_name         text        not null,
    qo_value        text        not null,

    constraint queue_option_pkey primary key (qo_queue, qo_name),
    constraint qo_queue_fkey foreign key (qo_queue)
                             references pgq.queue (queue_id)
);

-- Batches of queues with the option light_batches: next_batch records the
-- batch here instead of in pgq.subscription.sub_batch, so that the consumer's
-- subscription row only changes unindexed columns (HOT updates: no new index
-- entries, no unique check, even while the xmin horizon is held back).
-- Insert-only on the hot path.  A row is the consumer's open batch while it
-- is the consumer's newest row here and the subscription still shows its
-- ticks as open (sub_last_tick, sub_next_tick); see pgq._find_batch().
-- Older rows are deleted by pgq.maint_clean_batches().  No foreign keys: a
-- key check would lock the queue and consumer rows on every batch.
-- batch_sub_ctid is a hint: where next_batch left the subscription row's new
-- version, so that finish_batch finds it without passing the old versions
-- (checked on use; if the row moved, it is looked up by key).
create table if not exists pgq.batch (
    batch_id        bigint      not null,
    batch_queue     int4        not null,
    batch_consumer  int4        not null,
    batch_sub_id    int4        not null,
    batch_prev_tick bigint      not null,
    batch_cur_tick  bigint      not null,
    batch_sub_ctid  tid,

    constraint batch_pkey primary key (batch_id)
);
-- a consumer's newest batch
create index if not exists batch_consumer_idx
    on pgq.batch (batch_queue, batch_consumer, batch_id);
