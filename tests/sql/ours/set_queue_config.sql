-- pgq.set_queue_config: where pgqpp is stricter or friendlier than PgQ
-- (the PgQ-compatible part is in tests/sql/compat/queue_admin.sql).
\set VERBOSITY terse
set client_min_messages = warning;

select pgq.create_queue('cfgq');
create view cfg as
select queue_ticker_max_count as max_count, queue_ticker_max_lag as max_lag,
       queue_ticker_idle_period as idle_period, queue_rotation_period as rotation,
       queue_ticker_paused as paused, queue_external_ticker as external
  from pgq.queue where queue_name = 'cfgq';

-- negative counts and intervals are refused, naming the parameter (PgQ stores them)
select pgq.set_queue_config('cfgq', 'ticker_max_count', '-1');
select pgq.set_queue_config('cfgq', 'ticker_max_lag', '-1 second');
select pgq.set_queue_config('cfgq', 'ticker_idle_period', '-1 minute');
select pgq.set_queue_config('cfgq', 'rotation_period', '-2 hours');
select pgq.set_queue_config('cfgq', 'rotation_period', '1 day -25 hours');
select * from cfg;
-- zero is fine
select pgq.set_queue_config('cfgq', 'ticker_max_count', '0');
select pgq.set_queue_config('cfgq', 'ticker_max_lag', '0');
select pgq.set_queue_config('cfgq', 'ticker_idle_period', '0 seconds');
select pgq.set_queue_config('cfgq', 'rotation_period', '0');
select * from cfg;
-- values of the wrong type: the type's own error (as in PgQ)
select pgq.set_queue_config('cfgq', 'ticker_max_count', 'many');
select pgq.set_queue_config('cfgq', 'ticker_max_lag', 'soon');
select pgq.set_queue_config('cfgq', 'ticker_paused', 'perhaps');
select * from cfg;

-- a NULL value: 'Invalid NULL value' (PgQ: "query string argument of EXECUTE is null")
select pgq.set_queue_config('cfgq', 'ticker_max_count', null);

-- the 'queue_' prefix may be given (PgQ refuses "queue_ticker_max_count")
select pgq.set_queue_config('cfgq', 'queue_ticker_max_count', '42');
select pgq.set_queue_config('cfgq', 'queue_ticker_paused', 'true');
select pgq.set_queue_config('cfgq', 'queue_ticker_max_count', '-42');
select pgq.set_queue_config('cfgq', 'queue_per_tx_limit', '1');
select pgq.set_queue_config('cfgq', 'queue_queue_ticker_max_count', '1');
select * from cfg;
