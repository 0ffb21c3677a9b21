-- ----------------------------------------------------------------------
-- Function: pgq_ext.is_batch_done(3)
--
--      Whether a batch was applied: it is the last batch recorded by
--      set_batch_done for this consumer and subconsumer.  Batch ids are
--      compared for equality only: a batch replayed after a crash keeps its
--      id, and a rewound consumer gets new (larger) ones.
--
-- Parameters:
--      a_consumer      - the consumer's name
--      a_subconsumer   - the subconsumer's name, '' if none
--      a_batch_id      - the batch
--
-- Returns:
--      true if done; false otherwise (also for a consumer never seen)
-- ----------------------------------------------------------------------
create or replace function pgq_ext.is_batch_done(
    a_consumer text, a_subconsumer text, a_batch_id bigint)
returns boolean as $$
declare
    last_id bigint;
begin
    select b.last_batch_id into last_id
      from pgq_ext.completed_batch b
     where b.consumer_id = a_consumer
       and b.subconsumer_id = a_subconsumer;
    if not found then
        return false;
    end if;
    return coalesce(last_id = a_batch_id, false);
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.is_batch_done(2)
--
--      is_batch_done for a consumer without subconsumers.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.is_batch_done(a_consumer text, a_batch_id bigint)
returns boolean as $$
    select pgq_ext.is_batch_done(a_consumer, '', a_batch_id);
$$ language sql;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.set_batch_done(3)
--
--      Records a batch as applied; call it in the transaction that applies
--      the batch, before committing it.  Only the last batch is kept: a new
--      one also forgets the outcomes (set_batch_outcome) of earlier ones.
--      Concurrent calls for the same consumer are serialised on its row:
--      only one of them sees the batch as new.
--
-- Parameters:
--      a_consumer      - the consumer's name
--      a_subconsumer   - the subconsumer's name, '' if none
--      a_batch_id      - the batch; ids <= 0 are not recorded
--
-- Returns:
--      false if the batch was done already, true otherwise
-- ----------------------------------------------------------------------
create or replace function pgq_ext.set_batch_done(
    a_consumer text, a_subconsumer text, a_batch_id bigint)
returns boolean as $$
begin
    if not coalesce(a_batch_id > 0, false) then
        return not pgq_ext.is_batch_done(a_consumer, a_subconsumer, a_batch_id);
    end if;
    -- the WHERE of DO UPDATE is checked on the locked, newest row: a batch
    -- recorded meanwhile by another transaction counts as done
    insert into pgq_ext.completed_batch as b (consumer_id, subconsumer_id, last_batch_id)
    values (a_consumer, a_subconsumer, a_batch_id)
    on conflict (consumer_id, subconsumer_id) do update
       set last_batch_id = excluded.last_batch_id
     where b.last_batch_id <> excluded.last_batch_id;
    if not found then
        return false;
    end if;
    delete from pgq_ext.batch_outcome o
     where o.consumer_id = a_consumer
       and o.subconsumer_id = a_subconsumer
       and o.batch_id <> a_batch_id;
    return true;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.set_batch_done(2)
--
--      set_batch_done for a consumer without subconsumers.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.set_batch_done(a_consumer text, a_batch_id bigint)
returns boolean as $$
    select pgq_ext.set_batch_done(a_consumer, '', a_batch_id);
$$ language sql;
