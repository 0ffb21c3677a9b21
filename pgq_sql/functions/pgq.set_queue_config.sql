-- ----------------------------------------------------------------------
-- Function: pgq.set_queue_config(3)
--
--      Changes one queue setting: ticker_max_count, ticker_max_lag,
--      ticker_idle_period, ticker_paused, rotation_period or
--      external_ticker (columns of pgq.queue, as in PgQ), or one of
--      pgqpp's options listed by pgq.get_queue_options() (kept in
--      pgq.queue_option):
--          light_batches   boolean, default false: batches are recorded in
--                          pgq.batch, not in pgq.subscription.sub_batch
--                          (see pgq._find_batch); takes effect with the
--                          next batch a consumer opens
--
-- Returns:
--      1
--
-- Errors:
--      'Invalid NULL value', 'No such event queue',
--      'cannot change parameter "<name>s"' (sic: PgQ's format string is
--      '"%s"', so an 's' follows the name), the cast error of a value that
--      does not fit the column's type (as in PgQ), and
--      'invalid value for parameter "<name>": "<value>" (must not be negative)'
--
-- Differences from PgQ (intentional):
--      * the 'queue_' prefix may be given too ('queue_ticker_max_count');
--        PgQ adds it always and so refuses such a name;
--      * a NULL value is refused with 'Invalid NULL value'; PgQ fails with
--        'query string argument of EXECUTE is null';
--      * negative counts and intervals are refused (PgQ stores them: a
--        negative rotation_period or max_lag means "always").
-- ----------------------------------------------------------------------
create or replace function pgq.set_queue_config(
    x_queue_name text, x_param_name text, x_param_value text)
returns integer as $$
declare
    col         text;
    negative    boolean := false;
    opt         record;
    val         text;
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
    -- pgqpp's options (stored only when not the default)
    select o.option_name, o.default_value into opt
      from pgq.get_queue_options(x_queue_name) o
     where o.option_name = substr(col, 7);
    if found then
        val := case opt.option_name
                   when 'light_batches' then x_param_value::boolean::text
               end;
        if val = opt.default_value then
            delete from pgq.queue_option o
             using pgq.queue q
             where q.queue_name = x_queue_name
               and o.qo_queue = q.queue_id
               and o.qo_name = opt.option_name;
        else
            insert into pgq.queue_option (qo_queue, qo_name, qo_value)
            select q.queue_id, opt.option_name, val
              from pgq.queue q
             where q.queue_name = x_queue_name
            on conflict (qo_queue, qo_name) do update set qo_value = excluded.qo_value;
        end if;
        return 1;
    end if;

    if col not in ('queue_ticker_max_count', 'queue_ticker_max_lag',
                   'queue_ticker_idle_period', 'queue_ticker_paused',
                   'queue_rotation_period', 'queue_external_ticker')
    then
        raise exception 'cannot change parameter "%s"', x_param_name;
    end if;

    -- the column's type checks the value (with PgQ's error for a bad one)
    execute 'update pgq.queue set ' || pg_catalog.quote_ident(col)
         || ' = ' || pg_catalog.quote_literal(x_param_value)
         || ' where queue_name = ' || pg_catalog.quote_literal(x_queue_name);

    -- then the range; the error undoes the update.  (Separate IFs: a cast
    -- in an AND could be folded before the column test.)
    if col = 'queue_ticker_max_count' then
        negative := x_param_value::integer < 0;
    elsif col in ('queue_ticker_max_lag', 'queue_ticker_idle_period', 'queue_rotation_period') then
        negative := x_param_value::interval < interval '0';
    end if;
    if negative then
        raise exception 'invalid value for parameter "%": "%" (must not be negative)',
                        x_param_name, x_param_value;
    end if;
    return 1;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;
