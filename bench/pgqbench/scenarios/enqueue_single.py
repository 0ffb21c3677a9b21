"""enqueue_single: one event per transaction, 4 clients, synchronous_commit=off.

pgbench runs `select pgq.insert_event('bench_q', 'type', <~100-byte payload>)` in each
transaction (ours and PgQ alike); the baseline inserts the same row into a plain table with
the columns of pgq.event_template and an index on ev_txid.
"""
from ..common import OURS, PGQ, payload_sql
from ._enqueue import BASE, BASE_TABLE, QUEUE, run_rounds

NAME = "enqueue_single"
DESCRIPTION = "1 event/transaction, N clients, synchronous_commit=off (events/s)"

RANDOM = "\\set n random(1, 1000000000)\n"


def run(ctx):
    call = "select pgq.insert_event('%s', 'type', %s);\n" % (QUEUE, payload_sql(":n"))
    base = ("insert into %s (ev_time, ev_type, ev_data) values (now(), 'type', %s);\n"
            % (BASE_TABLE, payload_sql(":n")))
    scripts = {OURS: RANDOM + call, PGQ: RANDOM + call, BASE: RANDOM + base}
    return [run_rounds(ctx, NAME, scripts, "-c synchronous_commit=off", 1,
                       note="%d clients, %d s per run, synchronous_commit=off"
                       % (ctx.cfg.clients, ctx.cfg.seconds))]
