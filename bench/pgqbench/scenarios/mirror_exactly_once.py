"""mirror_exactly_once: mirror a backlog into a second database, remote exactly-once.

The same work on both sides: every event of the backlog becomes one row (ev_id, ev_data) of
table `mirror` in a target database that has pgq_ext (ours, pure PL/pgSQL, from
build/pgq_sql/pgq_ext_install.sql, in both targets: Debian has no pgq_ext package); each
batch is applied in one target transaction with pgq_ext.is_batch_done/set_batch_done, then
finished in the queue's database.

* ours: pgqpp_bench_consumer --work mirror --delivery remote (consumer_daemon, target_db):
  - `mirror_exactly_once`: the rows go by one COPY streamed through the batch (opened in
    on_batch_start, a row per event in the handler, completed in on_batch_end), the natural
    way to write a bulk mirror with the C++ runtime;
  - `mirror_exactly_once_rowwise`: one INSERT per event (the statement python3-pgq sends,
    prepared once per connection);
* PgQ's: python3-pgq pgq.RemoteConsumer at its defaults, process_remote_batch with one
  INSERT per event, on the real PgQ.

Backlog: BENCH_MIRROR_EVENTS events (default 300,000) in CONSUME_TICK_EVENTS (10,000) per
batch, filled once per side. Each run has its own consumer and starts from an empty target
table; afterwards the target must hold each event exactly once. Target: ours/pgq >= 5.
"""
from ..common import DBS, OURS, PGQ, Result, alternate, env_number, log, median
from . import _consumers as cons
from .consume_sql import QUEUE

NAME = "mirror_exactly_once"
DESCRIPTION = ("events mirrored into a 2nd database, remote exactly-once (pgq_ext):"
               " C++ runtime vs python3-pgq RemoteConsumer (events/s)")

TABLE = "mirror"


def target_db(side):
    return DBS[side] + "_target"


def prepare_targets(ctx):
    for side in (OURS, PGQ):
        db = target_db(side)
        ctx.cluster.create_database(db)
        ctx.cluster.psql_file(db, cons.pgq_ext_install_sql())
        conn = ctx.cluster.connect(db)
        try:
            conn.cursor().execute("drop table if exists %s; create table %s (ev_id bigint,"
                                  " ev_data text)" % (TABLE, TABLE))
        finally:
            conn.close()


def reset_target(ctx, side):
    conn = ctx.cluster.connect(target_db(side))
    try:
        cur = conn.cursor()
        cur.execute("truncate %s" % TABLE)
    finally:
        conn.close()
    ctx.checkpoint()


def check_target(ctx, side, total):
    conn = ctx.cluster.connect(target_db(side))
    try:
        cur = conn.cursor()
        cur.execute("select count(*), count(distinct ev_id) from %s" % TABLE)
        rows, distinct = cur.fetchone()
    finally:
        conn.close()
    if rows != total or distinct != total:
        raise RuntimeError("%s: the target holds %d rows (%d distinct events), expected %d"
                           % (side, rows, distinct, total))


def run(ctx):
    cfg = ctx.cfg
    total = env_number("BENCH_MIRROR_EVENTS", 300000)
    rounds = cfg.rounds
    cons.bench_consumer()
    prepare_targets(ctx)
    # consumers c1..: ours' copy and rowwise runs, python's runs, one each per round
    cons.fill_both(ctx, total, cfg.consume_tick_events, 2 * rounds)
    timeout = 120 + total / 500
    used = {}

    def next_consumer(variant, side):
        used[variant] = used.get(variant, 0) + 1
        return "c%d" % (used[variant] + (rounds if variant == "rowwise" else 0))

    def ours(variant):
        side = OURS
        reset_target(ctx, side)
        proc = cons.start_ours(ctx, side, "mirror", next_consumer(variant, side), QUEUE, total,
                               ["--delivery", "remote",
                                "--target-db", ctx.cluster.conninfo(target_db(side)),
                                "--mirror-table", TABLE,
                                "--mirror-method", "copy" if variant == OURS else "row"])
        v = cons.finish_ours(ctx, proc, timeout)
        check_target(ctx, side, total)
        return v["events_per_sec"]

    def python():
        reset_target(ctx, PGQ)
        py = cons.PythonConsumer(ctx, "mirror", PGQ, QUEUE, next_consumer(PGQ, PGQ), total,
                                 {"dst_db": ctx.cluster.conninfo(target_db(PGQ)),
                                  "mirror_table": TABLE})
        try:
            v = py.finish(timeout)
        finally:
            py.cleanup()
        check_target(ctx, PGQ, total)
        return v["events_per_sec"]

    values = alternate([OURS, "rowwise", PGQ], rounds,
                       lambda v: python() if v == PGQ else ours(v), NAME)
    pgq_rate = median(values[PGQ])
    note = ("%d events, %d per batch; ours: COPY streamed per batch; python3-pgq:"
            " RemoteConsumer, INSERT per event; target ours/pgq >= 5"
            % (total, cfg.consume_tick_events))
    log("  ours with one INSERT per event: %.1f events/s (%.2fx python3-pgq)"
        % (median(values["rowwise"]), median(values["rowwise"]) / pgq_rate))
    return [
        Result(NAME, "events/s", median(values[OURS]), pgq_rate,
               rounds={OURS: values[OURS], PGQ: values[PGQ]}, note=note),
        Result(NAME + "_rowwise", "events/s", median(values["rowwise"]), pgq_rate,
               rounds={OURS: values["rowwise"], PGQ: values[PGQ]},
               note="both sides one INSERT per event (ours prepared)"),
    ]
