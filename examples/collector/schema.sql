-- The collector's tables and queues (docs/example-collector.md). Run once in the database
-- of the queue, with pgq and pgq_coop installed:  psql -d mail -f schema.sql
--
-- Jobs: events of queue 'collect_jobs', ev_type 'collect', ev_data the mailbox, ev_extra1
-- the source. Follow-ups: queue 'collected', ev_type 'mailbox.collected', one per job done.

select pgq.create_queue('collect_jobs');
select pgq.create_queue('collected');
-- Small batches: a worker takes a whole batch and fetches its jobs one after the other, so
-- the jobs spread over the workers only if there are many batches. Tick after 3 jobs, or
-- half a second after the first one.
select pgq.set_queue_config('collect_jobs', 'ticker_max_count', '3');
select pgq.set_queue_config('collect_jobs', 'ticker_max_lag', '0.5 seconds');

-- A letter is stored once per (source, mailbox, uid): a second insert is an error that
-- rolls the whole batch back, never a silent duplicate.
create table collected_letters (
    source     text not null,
    mailbox    text not null,
    uid        text not null,
    sender     text not null,
    subject    text not null,
    body       text not null,
    job_id     bigint not null,             -- the job event's ev_id
    fetched_at timestamptz not null default now(),
    primary key (source, mailbox, uid)
);

-- One row per job done, by the worker that did it (no key: a job done twice would show).
create table collected_jobs (
    job_id   bigint not null,
    source   text not null,
    mailbox  text not null,
    letters  integer not null,
    attempts integer not null,              -- 1 + ev_retry
    worker   text not null,
    done_at  timestamptz not null default now()
);
