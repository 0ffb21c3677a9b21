-- The primary database (after mail_schema.sql and pgq): integrity, the queue 'mail' and the
-- change capture of letters. Folder operations are queued by the application instead
-- (mail_load's folder_ops.cpp, pgqpp::insert_event in the same transaction): see
-- docs/example-mail-mirror.md for why each way.
alter table mail.letters drop constraint if exists letters_folder_fk;
alter table mail.letters add constraint letters_folder_fk
    foreign key (folder_id) references mail.folders (id);

select pgq.create_queue('mail');
-- A batch at least every half second while letters arrive (ticks need a ticker running:
-- pgqpp-ticker, or pgqd).
select pgq.set_queue_config('mail', 'ticker_max_lag', '0.5 s');

-- Every new letter, flag change, move and delete becomes an event of the same transaction:
-- ev_type {"op":"INSERT|UPDATE|DELETE","table":["mail","letters"],"pkey":["id"]}, ev_data the
-- whole row as JSON (for DELETE the old row). No application code can forget it.
drop trigger if exists letters_capture on mail.letters;
create trigger letters_capture
    after insert or update or delete on mail.letters
    for each row execute procedure pgq.jsontriga('mail');

-- The mirror's consumer exists from now on, whether or not its daemon runs: every change
-- from here on waits in the queue for it.
select pgq.register_consumer('mail', 'mail_mirror');
