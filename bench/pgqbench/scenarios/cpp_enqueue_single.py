"""cpp_enqueue_single: the C++ producer, one event per transaction, 4 threads.

`pgqpp_bench_producer single`: each thread owns a connection and loops
`pqxx::work; pgqpp::insert_event(tx, "bench_q", <~100-byte JSON>); commit`, the same code on
both sides. synchronous_commit stays on (the server default): this is the rate an application
gets when every enqueue waits for its own durable commit, which async_enqueue is compared to.
"""
from ..common import OURS, PGQ, Result, alternate, median
from ._cpp import run_driver
from ._enqueue import QUEUE, reset

NAME = "cpp_enqueue_single"
DESCRIPTION = "C++ insert_event, 1 event/transaction, N threads, sync commit (events/s)"


def measure_single(ctx, side, seconds=None):
    reset(ctx, side)
    return run_driver(ctx, side, ["single", "--queue", QUEUE, "--threads", ctx.cfg.clients,
                                  "--seconds", seconds or ctx.cfg.seconds])["events_per_sec"]


def run(ctx):
    values = alternate([OURS, PGQ], ctx.cfg.rounds, lambda side: measure_single(ctx, side), NAME)
    return [Result(NAME, "events/s", median(values[OURS]), median(values[PGQ]), rounds=values,
                   note="%d threads, %d s per run, synchronous_commit=on"
                   % (ctx.cfg.clients, ctx.cfg.seconds))]
