-- ----------------------------------------------------------------------
-- Function: pgq_ext.get_last_tick(2)
--
--      The last tick recorded by set_last_tick ("SerialConsumer": the
--      batch ending at this tick was applied).
--
-- Parameters:
--      a_consumer      - the consumer's name
--      a_subconsumer   - the subconsumer's name, '' if none
--
-- Returns:
--      the tick id, or NULL if none is recorded
-- ----------------------------------------------------------------------
create or replace function pgq_ext.get_last_tick(a_consumer text, a_subconsumer text)
returns int8 as $$
begin
    return (select t.last_tick_id
              from pgq_ext.completed_tick t
             where t.consumer_id = a_consumer
               and t.subconsumer_id = a_subconsumer);
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.get_last_tick(1)
--
--      get_last_tick for a consumer without subconsumers.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.get_last_tick(a_consumer text)
returns int8 as $$
    select pgq_ext.get_last_tick(a_consumer, '');
$$ language sql;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.set_last_tick(3)
--
--      Records the last tick applied, in the transaction that applies the
--      batch ending at it.
--
-- Parameters:
--      a_consumer      - the consumer's name
--      a_subconsumer   - the subconsumer's name, '' if none
--      a_tick_id       - the tick; NULL forgets the consumer's position
--
-- Returns:
--      1
-- ----------------------------------------------------------------------
create or replace function pgq_ext.set_last_tick(
    a_consumer text, a_subconsumer text, a_tick_id bigint)
returns integer as $$
begin
    if a_tick_id is null then
        delete from pgq_ext.completed_tick
         where consumer_id = a_consumer
           and subconsumer_id = a_subconsumer;
    else
        insert into pgq_ext.completed_tick (consumer_id, subconsumer_id, last_tick_id)
        values (a_consumer, a_subconsumer, a_tick_id)
        on conflict (consumer_id, subconsumer_id) do update
           set last_tick_id = excluded.last_tick_id;
    end if;
    return 1;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq_ext.set_last_tick(2)
--
--      set_last_tick for a consumer without subconsumers.
-- ----------------------------------------------------------------------
create or replace function pgq_ext.set_last_tick(a_consumer text, a_tick_id bigint)
returns integer as $$
    select pgq_ext.set_last_tick(a_consumer, '', a_tick_id);
$$ language sql;
