"""cpp_enqueue_bulk: 100,000 events in one transaction with the C++ producer.

`pgqpp_bench_producer bulk --events 100000`: the events (~100-byte JSON) are built in memory,
then one transaction runs pgqpp::insert_events() and commits; the time covers both.

* cpp_enqueue_bulk: bulk_method::automatic as the superuser, on both sides: COPY into
  pgq.current_event_table(queue) (PgQ's documented bulk path, which pgqpp picks when the role
  may). Baseline `plain_copy`: the same rows COPYed into an ordinary table with the event
  columns (bench_base.plain_events). Target: ours >= 0.6 of the baseline.
* cpp_enqueue_bulk_writer: what a pgq_writer role gets (it may not COPY into event tables):
  ours pgq.insert_event_bulk (bulk_method::function), PgQ one pgq.insert_event per event in
  one statement (bulk_method::rows).
"""
from ..common import OURS, PGQ, DBS, Result, alternate, median
from ._cpp import run_driver
from ._enqueue import BASE, BASE_TABLE, QUEUE, reset, setup_baseline

NAME = "cpp_enqueue_bulk"
DESCRIPTION = "C++ insert_events, 100,000 events in one transaction (events/s)"

EVENTS = 100000


def run(ctx):
    setup_baseline(ctx)
    rounds = max(ctx.cfg.rounds, 5)     # one run is well under a second

    def measure(variant, method):
        reset(ctx, variant)
        if variant == BASE:
            return run_driver(ctx, OURS, ["bulk", "--events", EVENTS, "--method", "plain-copy",
                                          "--table", BASE_TABLE], dbname=DBS[OURS])["events_per_sec"]
        return run_driver(ctx, variant, ["bulk", "--queue", QUEUE, "--events", EVENTS,
                                         "--method", method])["events_per_sec"]

    auto = alternate([OURS, PGQ, BASE], rounds, lambda v: measure(v, "automatic"), NAME)
    writer = alternate([OURS, PGQ], rounds,
                       lambda v: measure(v, "function" if v == OURS else "rows"),
                       NAME + "_writer")
    base = median(auto[BASE])
    return [
        Result(NAME, "events/s", median(auto[OURS]), median(auto[PGQ]), rounds=auto,
               baselines={"plain_copy": base},
               note="%d events/transaction, automatic path (COPY into the current event"
                    " table, both sides); target ours/baseline >= 0.6" % EVENTS),
        Result(NAME + "_writer", "events/s", median(writer[OURS]), median(writer[PGQ]),
               rounds=writer, baselines={"plain_copy": base},
               note="as a pgq_writer would: ours pgq.insert_event_bulk, PgQ one"
                    " pgq.insert_event per event"),
    ]
