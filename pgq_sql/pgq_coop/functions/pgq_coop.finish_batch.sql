-- ----------------------------------------------------------------------
-- Function: pgq_coop.finish_batch(1)
--
--      Closes a subconsumer's batch.  The group's position moved when the
--      batch was handed out; the subconsumer is idle again.
--
-- Parameters:
--      i_batch_id  - the batch
--
-- Returns:
--      1, or 0 with a WARNING if no subconsumer holds that batch (it was
--      finished already, or taken over after the subconsumer was presumed
--      dead)
--
-- Errors:
--      'coop_finish_batch: batch <id> belongs to consumer <c>, which is not
--      a cooperative subconsumer (use pgq.finish_batch)': PgQ's pgq_coop
--      would have cleared that consumer's position
-- ----------------------------------------------------------------------
create or replace function pgq_coop.finish_batch(i_batch_id bigint)
returns integer as $$
declare
    owner   text;
begin
    update pgq.subscription s
       set sub_active = now(),
           sub_last_tick = null,
           sub_next_tick = null,
           sub_batch = null
      from pgq.consumer sc
     where s.sub_batch = i_batch_id
       and sc.co_id = s.sub_consumer
       and exists (select 1
                     from pgq.subscription m
                     join pgq.consumer mc on mc.co_id = m.sub_consumer
                    where m.sub_queue = s.sub_queue
                      and m.sub_id = s.sub_id
                      and m.sub_consumer <> s.sub_consumer
                      and pg_catalog.starts_with(sc.co_name, mc.co_name || '.'));
    if found then
        return 1;
    end if;

    select i.consumer_name into owner from pgq.get_batch_info(i_batch_id) i;
    if owner is not null then
        raise exception 'coop_finish_batch: batch % belongs to consumer %, which is not a cooperative subconsumer (use pgq.finish_batch)',
                        i_batch_id, owner;
    end if;
    raise warning 'coop_finish_batch: batch % not found', i_batch_id;
    return 0;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
