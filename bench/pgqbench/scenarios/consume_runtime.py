"""consume_runtime: drain a backlog with a no-op handler, consumer runtime against runtime.

Ours: build/bench/pgqpp_bench_consumer --work noop --delivery at_least_once
--fetch-connections 2, a pgqpp::consumer::consumer_daemon (cursor, FETCH 1000 at a time; each
10,000-event batch read in two parts at once, the second on another connection) on our SQL. PgQ's: Debian's
python3-pgq pgq.Consumer at its defaults (lazy fetch of 300 rows, process_event counting) on
the real PgQ. Each stops itself after the batch that completes the backlog; the time runs
from its start (connecting included) to the end of that batch.

Set-up (not timed): consume_sql's fill, both sides at once: BENCH_RUNTIME_EVENTS events
(default 2,000,000), CONSUME_TICK_EVENTS (10,000) per transaction + tick, so 200 batches,
with one consumer per round registered before them. Extra baseline `runtime_on_pgq`: our
runtime on the real PgQ's backlog (one run), to tell the runtime from the SQL. Target:
ours/pgq >= 5.
"""
from ..common import OURS, PGQ, Result, alternate, env_number, log, median
from . import _consumers as cons
from .consume_sql import QUEUE

NAME = "consume_runtime"
DESCRIPTION = ("drain a backlog, no-op handler: C++ consumer_daemon vs python3-pgq Consumer"
               " (events/s)")


def run(ctx):
    cfg = ctx.cfg
    total = env_number("BENCH_RUNTIME_EVENTS", 2000000)
    chunk = cfg.consume_tick_events
    rounds = cfg.rounds
    cons.bench_consumer()           # built before anything is timed
    filled = cons.fill_both(ctx, total, chunk, rounds + 1)   # + 1: for runtime_on_pgq

    used = {OURS: 0, PGQ: 0}
    timeout = 120 + total / 2000

    def drain_ours(side, consumer):
        proc = cons.start_ours(ctx, side, "noop", consumer, QUEUE, total,
                               ["--delivery", "at_least_once", "--fetch-connections", "2"])
        v = cons.finish_ours(ctx, proc, timeout)
        return _checked(side, "ours", v, total)

    def measure(side):
        used[side] += 1
        consumer = "c%d" % used[side]
        if side == OURS:
            return drain_ours(side, consumer)
        py = cons.PythonConsumer(ctx, "noop", side, QUEUE, consumer, total)
        try:
            return _checked(side, "python3-pgq", py.finish(timeout), total)
        finally:
            py.cleanup()

    values = alternate([OURS, PGQ], rounds, measure, NAME)
    on_pgq = drain_ours(PGQ, "c%d" % (rounds + 1))
    log("  %s round 1/1 %-9s %12.1f  (our runtime on the real PgQ)" % (NAME, "on_pgq", on_pgq))
    note = ("%d events in %d batches, no-op handler; ours: at_least_once, fetch_size 1000,"
            " fetch_connections 2;"
            " python3-pgq: pgq.Consumer defaults; target ours/pgq >= 5" % (total, filled[OURS][1]))
    return [Result(NAME, "events/s", median(values[OURS]), median(values[PGQ]), rounds=values,
                   baselines={"runtime_on_pgq": on_pgq}, note=note)]


def _checked(side, who, values, total):
    if values.get("events") != total:
        raise RuntimeError("%s on %s handled %s events, expected %d"
                           % (who, side, values.get("events"), total))
    return values["events_per_sec"]
