-- ----------------------------------------------------------------------
-- Function: pgq.finish_batch(1)
--
--      Closes a batch: the consumer's position moves to the batch's end
--      tick.  Commit it together with the batch's effects for exactly-once.
--
--      Batches of both kinds (see pgq._find_batch): the subscription row is
--      locked, the batch checked to be still open, and the locked row
--      updated where the lookup's cursor stands (no second lookup).
--
-- Returns:
--      1, or 0 with a WARNING if there is no such open batch
-- ----------------------------------------------------------------------
create or replace function pgq.finish_batch(x_batch_id bigint)
returns integer as $$
declare
    cur     refcursor;
begin
    select f.sub_cursor into cur
      from pgq._find_batch(x_batch_id, true) f;
    if cur is null then
        raise warning 'finish_batch: batch % not found', x_batch_id;
        return 0;
    end if;
    -- (for a light batch sub_batch is NULL already: the update stays HOT)
    update pgq.subscription
       set sub_active = now(),
           sub_last_tick = sub_next_tick,
           sub_next_tick = null,
           sub_batch = null
     where current of cur;
    close cur;
    return 1;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
