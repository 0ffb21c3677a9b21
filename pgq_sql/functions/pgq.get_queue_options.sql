-- ----------------------------------------------------------------------
-- Function: pgq.get_queue_options(1)                          (pgqpp)
--
--      pgqpp's per-queue options (those PgQ does not have, so they are not
--      in pgq.get_queue_info, whose columns stay PgQ's), one row per queue
--      and option, ordered by queue and option.  Set them with
--      pgq.set_queue_config(queue, option, value).
--
--          light_batches   default 'false'; 'true': batches are recorded in
--                          pgq.batch, so the consumers' subscription rows
--                          get only HOT updates (see pgq._find_batch)
--
-- Parameters:
--      i_queue_name    - the queue; NULL: every queue
--
-- Returns:
--      queue_name, option_name, option_value (the value in force),
--      default_value
-- ----------------------------------------------------------------------
create or replace function pgq.get_queue_options(
    in i_queue_name text,
    out queue_name text, out option_name text, out option_value text,
    out default_value text)
returns setof record as $$
    select q.queue_name, d.option_name, coalesce(o.qo_value, d.default_value),
           d.default_value
      from pgq.queue q
     cross join (values ('light_batches', 'false')) as d(option_name, default_value)
      left join pgq.queue_option o on o.qo_queue = q.queue_id
                                  and o.qo_name = d.option_name
     where i_queue_name is null or q.queue_name = i_queue_name
     order by 1, 2
$$ language sql stable;

-- Function: pgq.get_queue_options(0) - the options of every queue
create or replace function pgq.get_queue_options(
    out queue_name text, out option_name text, out option_value text,
    out default_value text)
returns setof record as $$
    select * from pgq.get_queue_options(null)
$$ language sql stable;
