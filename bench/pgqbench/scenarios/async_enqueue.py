"""async_enqueue: pgqpp::async_producer with 20,000 requests in flight.

`pgqpp_bench_producer async --requests N --in-flight 20000`: one io_context thread keeps
20,000 requests pending (each completion submits the next) until N have completed; the
producer groups them into transactions (group commit, one connection). Reports events/s and
the p99 of the completion latency (async_insert() to handler). Baseline `single_tx`: the
cpp_enqueue_single rate (one event per transaction, 4 threads) on the same side, measured
here. Target: ours >= 5x that baseline.
"""
from ..common import OURS, PGQ, Result, alternate, log, median
from ._cpp import run_driver
from ._enqueue import QUEUE, reset
from .cpp_enqueue_single import measure_single

NAME = "async_enqueue"
DESCRIPTION = "C++ async_producer, 20,000 requests in flight (events/s, p99 latency)"

IN_FLIGHT = 20000
REQUESTS = 200000


def run(ctx):
    latency = {OURS: [], PGQ: []}

    def measure(side):
        reset(ctx, side)
        v = run_driver(ctx, side, ["async", "--queue", QUEUE, "--requests", REQUESTS,
                                   "--in-flight", IN_FLIGHT])
        latency[side].append(v["p99_ms"])
        log("    %s: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d transactions"
            % (side, v["p50_ms"], v["p99_ms"], v["max_ms"], v["transactions"]))
        return v["events_per_sec"]

    rate = alternate([OURS, PGQ], ctx.cfg.rounds, measure, NAME)
    seconds = max(3, min(ctx.cfg.seconds, 10))
    single = alternate([OURS, PGQ], 1, lambda side: measure_single(ctx, side, seconds),
                       NAME + " single_tx")
    log("  one event per transaction: ours %.1f, pgq %.1f events/s; async ours/single_tx %.1fx"
        % (median(single[OURS]), median(single[PGQ]), median(rate[OURS]) / median(single[OURS])))
    return [
        Result(NAME, "events/s", median(rate[OURS]), median(rate[PGQ]), rounds=rate,
               baselines={"single_tx": median(single[OURS])},
               note="%d requests, %d in flight, 1 connection; baseline: one event per"
                    " transaction, %d threads, %d s; target ours/single_tx >= 5"
                    % (REQUESTS, IN_FLIGHT, ctx.cfg.clients, seconds)),
        Result(NAME + "_p99", "ms", median(latency[OURS]), median(latency[PGQ]),
               rounds=latency, higher_is_better=False,
               note="p99 of async_insert() -> completion handler, %d in flight" % IN_FLIGHT),
    ]
