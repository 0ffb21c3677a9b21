-- ----------------------------------------------------------------------
-- Event tracking: for consumers that apply a batch in several target
-- transactions, event by event.  Only the events of the batch in progress
-- are kept (pgq_ext.partial_batch names it): when a consumer starts
-- recording events of another batch, those of the previous one are deleted.
-- (Batch tracking is cheaper: one row per batch, not per event.)
-- ----------------------------------------------------------------------

-- ----------------------------------------------------------------------
-- Function: pgq_ext.is_event_done(4)
--
--      Whether an event of a batch was recorded by set_event_done.
--
-- Parameters:
--      a_consumer      - the consumer's name
--      a_subconsumer   - the subconsumer's name, '' if none
--      a_batch_id      - the batch
--      a_event_id      - the event
--
-- Returns:
--      true if done, false otherwise
-- ----------------------------------------------------------------------
create or replace function pgq_ext.is_event_done(
    a_consumer text, a_subconsumer text, a_batch_id bigint, a_event_id bigint)
returns boolean as $$
begin
    return exists (select 1 from pgq_ext.completed_event e
                    where e.consumer_id = a_consumer
                      and e.subconsumer_id = a_subconsumer
                      and e.batch_id = a_batch_id
                      and e.event_id = a_event_id);
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.is_event_done(3)
--
--      is_event_done for a consumer without subconsumers.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.is_event_done(
    a_consumer text, a_batch_id bigint, a_event_id bigint)
returns boolean as $$
    select pgq_ext.is_event_done(a_consumer, '', a_batch_id, a_event_id);
$$ language sql;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.set_event_done(4)
--
--      Records an event of a batch as applied.  The first event of a new
--      batch deletes the records of the previous batch.
--
-- Parameters:
--      a_consumer      - the consumer's name
--      a_subconsumer   - the subconsumer's name, '' if none
--      a_batch_id      - the batch
--      a_event_id      - the event
--
-- Returns:
--      false if the event was done already, true otherwise
-- ----------------------------------------------------------------------
create or replace function pgq_ext.set_event_done(
    a_consumer text, a_subconsumer text, a_batch_id bigint, a_event_id bigint)
returns boolean as $$
declare
    old_id  bigint;
begin
    -- the consumer's batch in progress, locked (or created)
    loop
        select p.cur_batch_id into old_id
          from pgq_ext.partial_batch p
         where p.consumer_id = a_consumer
           and p.subconsumer_id = a_subconsumer
           for update;
        exit when found;
        insert into pgq_ext.partial_batch (consumer_id, subconsumer_id, cur_batch_id)
        values (a_consumer, a_subconsumer, a_batch_id)
        on conflict (consumer_id, subconsumer_id) do nothing;
        if found then
            old_id := a_batch_id;
            exit;
        end if;
    end loop;

    if old_id is distinct from a_batch_id then
        update pgq_ext.partial_batch
           set cur_batch_id = a_batch_id
         where consumer_id = a_consumer
           and subconsumer_id = a_subconsumer;
        delete from pgq_ext.completed_event
         where consumer_id = a_consumer
           and subconsumer_id = a_subconsumer
           and batch_id <> a_batch_id;
    end if;

    insert into pgq_ext.completed_event (consumer_id, subconsumer_id, batch_id, event_id)
    values (a_consumer, a_subconsumer, a_batch_id, a_event_id)
    on conflict do nothing;
    return found;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.set_event_done(3)
--
--      set_event_done for a consumer without subconsumers.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.set_event_done(
    a_consumer text, a_batch_id bigint, a_event_id bigint)
returns boolean as $$
    select pgq_ext.set_event_done(a_consumer, '', a_batch_id, a_event_id);
$$ language sql;
