-- The schema itself.  Quiet NOTICEs ("already exists, skipping") on re-runs.
set client_min_messages = warning;

create schema if not exists pgq_coop;
