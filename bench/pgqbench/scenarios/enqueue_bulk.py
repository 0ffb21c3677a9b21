"""enqueue_bulk: 1,000 events per transaction, 4 clients (synchronous_commit on).

ours:     select pgq.insert_event_bulk('bench_q', <1000 types>, <1000 payloads>)
          with both arrays built on the server from generate_series
PgQ:      select count(pgq.insert_event('bench_q', 'type', <payload>))
            from generate_series(1, 1000) g      -- 1,000 calls in one statement
baseline: insert into <plain table> select ... from generate_series(1, 1000) g
The count() keeps PgQ's 1,000 returned ids on the server, as ours returns one number.
"""
from ..common import OURS, PGQ, payload_sql
from ._enqueue import BASE, BASE_TABLE, QUEUE, run_rounds

NAME = "enqueue_bulk"
DESCRIPTION = "1,000 events/transaction, N clients (events/s)"

N = 1000
RANDOM = "\\set n random(1, 1000000000)\n"


def run(ctx):
    data = payload_sql(":n + g")
    ours = ("select pgq.insert_event_bulk('%s', array_fill('type'::text, array[%d]),"
            " array(select %s from generate_series(1, %d) g));\n"
            % (QUEUE, N, data, N))
    pgq = ("select count(pgq.insert_event('%s', 'type', %s)) from generate_series(1, %d) g;\n"
           % (QUEUE, data, N))
    base = ("insert into %s (ev_time, ev_type, ev_data)"
            " select now(), 'type', %s from generate_series(1, %d) g;\n"
            % (BASE_TABLE, data, N))
    scripts = {OURS: RANDOM + ours, PGQ: RANDOM + pgq, BASE: RANDOM + base}
    res = run_rounds(ctx, NAME, scripts, None, N,
                     note="%d clients, %d s per run, %d events/transaction; targets:"
                     " ours/pgq >= 2.5, ours/baseline >= 0.9"
                     % (ctx.cfg.clients, ctx.cfg.seconds, N))
    return [res]
