-- ----------------------------------------------------------------------
-- Batch outcomes (pgqpp; PgQ's pgq_ext has none): the events of a batch
-- that the consumer retried or dead-lettered, recorded in the target
-- transaction that applies the batch, next to set_batch_done.
--
-- Why: the retries belong in the queue's database, which a remote consumer
-- commits after the target.  Committed before the target, they come back a
-- second time when the consumer dies between the two commits and the batch
-- is redone; committed with finish_batch (Python's RemoteConsumer), they
-- are lost when it dies after the target's commit, because the restart
-- skips the batch as done.  Recorded here, they commit with the batch: a
-- restart that finds the batch done reads them back and hands them to the
-- queue with finish_batch, exactly once.
--
-- Only the last batch's outcomes are kept: set_batch_done of another batch
-- deletes those of the consumer's earlier batches.
-- ----------------------------------------------------------------------

-- ----------------------------------------------------------------------
-- Function: pgq_ext.set_batch_outcome(6)
--
--      Records the outcome of events of a batch: a retry after
--      a_retry_seconds, or a dead letter with a_dead_reason (exactly one of
--      the two).  An event recorded twice keeps the later outcome.
--
-- Parameters:
--      a_consumer      - the consumer's name
--      a_subconsumer   - the subconsumer's name, '' if none
--      a_batch_id      - the batch
--      a_event_ids     - the events
--      a_retry_seconds - retry them after this many seconds (>= 0), or NULL
--      a_dead_reason   - dead-letter them for this reason, or NULL
--
-- Returns:
--      the number of events recorded
-- ----------------------------------------------------------------------
create or replace function pgq_ext.set_batch_outcome(
    a_consumer text, a_subconsumer text, a_batch_id bigint, a_event_ids bigint[],
    a_retry_seconds bigint, a_dead_reason text)
returns integer as $$
declare
    cnt integer;
begin
    if a_consumer is null or a_subconsumer is null or a_batch_id is null then
        raise exception 'set_batch_outcome: consumer, subconsumer and batch_id must not be NULL';
    end if;
    if (a_retry_seconds is null) = (a_dead_reason is null) then
        raise exception 'set_batch_outcome: give exactly one of retry_seconds and dead_reason, not %',
            case when a_retry_seconds is null then 'neither' else 'both' end;
    end if;
    if a_retry_seconds < 0 then
        raise exception 'set_batch_outcome: retry_seconds must be >= 0, not %', a_retry_seconds;
    end if;
    if a_event_ids is null
       or exists (select 1 from pg_catalog.unnest(a_event_ids) i where i is null) then
        raise exception 'set_batch_outcome: event_ids must not be NULL or contain NULL';
    end if;

    insert into pgq_ext.batch_outcome as o
           (consumer_id, subconsumer_id, batch_id, event_id, retry_seconds, dead_reason)
    select distinct on (i) a_consumer, a_subconsumer, a_batch_id, i, a_retry_seconds, a_dead_reason
      from pg_catalog.unnest(a_event_ids) i
    on conflict (consumer_id, subconsumer_id, batch_id, event_id) do update
       set retry_seconds = excluded.retry_seconds,
           dead_reason = excluded.dead_reason;
    get diagnostics cnt = row_count;
    return cnt;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.set_batch_outcome(5)
--
--      set_batch_outcome for a consumer without subconsumers.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.set_batch_outcome(
    a_consumer text, a_batch_id bigint, a_event_ids bigint[],
    a_retry_seconds bigint, a_dead_reason text)
returns integer as $$
    select pgq_ext.set_batch_outcome(a_consumer, '', a_batch_id, a_event_ids,
                                     a_retry_seconds, a_dead_reason);
$$ language sql;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.get_batch_outcomes(3)
--
--      The outcomes recorded for a batch, by event id.
--
-- Parameters:
--      a_consumer      - the consumer's name
--      a_subconsumer   - the subconsumer's name, '' if none
--      a_batch_id      - the batch
--
-- Returns:
--      event_id, retry_seconds (NULL for a dead letter), dead_reason
--      (NULL for a retry); no rows if none were recorded
-- ----------------------------------------------------------------------
create or replace function pgq_ext.get_batch_outcomes(
    a_consumer text, a_subconsumer text, a_batch_id bigint,
    out event_id bigint, out retry_seconds bigint, out dead_reason text)
returns setof record as $$
begin
    return query
        select o.event_id, o.retry_seconds, o.dead_reason
          from pgq_ext.batch_outcome o
         where o.consumer_id = a_consumer
           and o.subconsumer_id = a_subconsumer
           and o.batch_id = a_batch_id
         order by o.event_id;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.get_batch_outcomes(2)
--
--      get_batch_outcomes for a consumer without subconsumers.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.get_batch_outcomes(
    a_consumer text, a_batch_id bigint,
    out event_id bigint, out retry_seconds bigint, out dead_reason text)
returns setof record as $$
    select * from pgq_ext.get_batch_outcomes(a_consumer, '', a_batch_id);
$$ language sql;
