-- The mirror database (after mail_schema.sql and pgq_ext): a log of the batches applied,
-- one row per batch, written by mail_mirror_daemon in the transaction that applies the
-- batch. A batch is the events between two ticks: (prev_tick_id, tick_id) names it even when
-- it comes again under a new batch id, and the unique key makes applying it twice fail.
-- mail_verify --count-events checks that the events applied are exactly the events of the
-- primary's queue.
create table if not exists mail.applied_batches (
    batch_id     bigint not null,
    prev_tick_id bigint not null,
    tick_id      bigint not null,
    events       int not null,
    applied_at   timestamptz not null default now(),
    unique (prev_tick_id, tick_id)
);

-- How mail_mirror_daemon applies letter changes: it copies them (COPY, text format) into
-- this session's staging table, then calls mail.apply_letters_stage(). Each line: the
-- operation ('I', 'U' or 'D'), its place n in the chunk, the row (the whole letter; for 'D'
-- the old row). A temporary table: private to the session, no WAL.
create or replace function mail.create_letters_stage() returns void
language plpgsql as $$
begin
    if to_regclass('pg_temp.letters_stage') is null then
        create temp table letters_stage (op "char" not null, n int not null, like mail.letters);
    end if;
end $$;

-- The last change of each letter wins (every event carries the whole row, so the last one is
-- the letter's state): a delete deletes, an insert or update upserts the whole row. The
-- counters follow through the statement triggers of mail_schema.sql. Empties the stage.
--
-- Most chunks only add letters newer than any the mirror has (new mail, or a backlog being
-- replayed): then a plain INSERT does it, a third cheaper than the upsert, which first
-- probes the key of every row and writes it speculatively. Both checks are exact (nothing
-- but inserts, every id above the mirror's highest), so any other chunk takes the upsert.
create or replace function mail.apply_letters_stage() returns void
language plpgsql as $$
begin
    if not exists (select 1 from pg_temp.letters_stage where op <> 'I')
       and (select min(id) from pg_temp.letters_stage)
           > coalesce((select max(id) from mail.letters), 0) then
        insert into mail.letters (id, folder_id, subject, sender, recipients, sent_at,
                                  received_at, seen, flagged, answered, labels, size)
        select id, folder_id, subject, sender, recipients, sent_at, received_at,
               seen, flagged, answered, labels, size
          from (select distinct on (id) * from pg_temp.letters_stage order by id, n desc) latest;
    else
        with latest as (
            select distinct on (id) * from pg_temp.letters_stage order by id, n desc
        ), deleted as (
            delete from mail.letters m using latest
             where latest.op = 'D' and m.id = latest.id
        )
        insert into mail.letters (id, folder_id, subject, sender, recipients, sent_at,
                                  received_at, seen, flagged, answered, labels, size)
        select id, folder_id, subject, sender, recipients, sent_at, received_at,
               seen, flagged, answered, labels, size
          from latest where op <> 'D'
        on conflict (id) do update set
            folder_id = excluded.folder_id, subject = excluded.subject, sender = excluded.sender,
            recipients = excluded.recipients, sent_at = excluded.sent_at,
            received_at = excluded.received_at, seen = excluded.seen, flagged = excluded.flagged,
            answered = excluded.answered, labels = excluded.labels, size = excluded.size;
    end if;
    truncate pg_temp.letters_stage;
end $$;

-- The same from JSON, for clients that do not want to parse the rows themselves (the python
-- consumer of bench/run replay_backlog): `lines` holds one change per line, in queue order:
-- 'I', 'U' or 'D', then the row as pgq.jsontriga wrote it (ev_data: JSON, no raw newline).
-- Slower: PostgreSQL parses each row's JSON, then each value. Meant for many changes per
-- call (the stage is a temporary table: a call costs a TRUNCATE).
create or replace function mail.apply_letter_changes(lines text) returns void
language plpgsql as $$
begin
    perform mail.create_letters_stage();
    insert into pg_temp.letters_stage
    select left(line, 1), n, l.*
      from string_to_table(lines, E'\n') with ordinality as t(line, n)
     cross join lateral json_populate_record(null::mail.letters, substr(line, 2)::json) l;
    perform mail.apply_letters_stage();
end $$;
