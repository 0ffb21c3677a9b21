-- ----------------------------------------------------------------------
-- Function: pgq.set_queue_config(3)
--
--      Changes one queue setting: ticker_max_count, ticker_max_lag,
--      ticker_idle_period, ticker_paused, rotation_period or
--      external_ticker (a 'queue_' prefix is accepted too).
--
-- Returns:
--      1
--
-- Errors:
--      'Invalid NULL value', 'No such event queue',
--      'cannot change parameter "%s"' (sic: PgQ's text), or the cast error
--      of a value that does not fit the column's type
-- ----------------------------------------------------------------------
create or replace function pgq.set_queue_config(
    x_queue_name text, x_param_name text, x_param_value text)
returns integer as $$
declare
    col     text;
begin
    if x_queue_name is null or x_param_name is null or x_param_value is null then
        raise exception 'Invalid NULL value';
    end if;

    perform 1 from pgq.queue where queue_name = x_queue_name;
    if not found then
        raise exception 'No such event queue';
    end if;

    if substr(x_param_name, 1, 6) = 'queue_' then
        col := x_param_name;
    else
        col := 'queue_' || x_param_name;
    end if;
    if col not in ('queue_ticker_max_count', 'queue_ticker_max_lag',
                   'queue_ticker_idle_period', 'queue_ticker_paused',
                   'queue_rotation_period', 'queue_external_ticker')
    then
        raise exception 'cannot change parameter "%s"', x_param_name;
    end if;

    execute 'update pgq.queue set ' || pg_catalog.quote_ident(col)
         || ' = ' || pg_catalog.quote_literal(x_param_value)
         || ' where queue_name = ' || pg_catalog.quote_literal(x_queue_name);
    return 1;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
