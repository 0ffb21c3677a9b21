"""What enqueue_single and enqueue_bulk share: the baseline table, resets, the rounds."""
from ..common import OURS, PGQ, DBS, Result, alternate, median, recreate_queue

QUEUE = "bench_q"
BASE = "baseline"
BASE_TABLE = "bench_base.plain_events"


def setup_baseline(ctx):
    """An ordinary table with the columns (and defaults) of pgq.event_template, an id
    sequence and an index on ev_txid, as every event table has.  It lives in bench_ours."""
    ctx.sql(OURS, """
        create schema if not exists bench_base;
        drop table if exists bench_base.plain_events;
        drop sequence if exists bench_base.plain_events_id_seq;
        create sequence bench_base.plain_events_id_seq;
        create table bench_base.plain_events (like pgq.event_template including defaults);
        alter table bench_base.plain_events
            alter column ev_id set default nextval('bench_base.plain_events_id_seq');
        create index plain_events_txid_idx on bench_base.plain_events (ev_txid);
    """)


def reset(ctx, variant):
    if variant == BASE:
        ctx.sql(OURS, "truncate " + BASE_TABLE)
    else:
        recreate_queue(ctx, variant, QUEUE)
    ctx.checkpoint()


def run_rounds(ctx, name, scripts, options, events_per_tx, unit="events/s", note=""):
    """scripts: {ours|pgq|baseline: pgbench script}.  Returns the Result."""
    cfg = ctx.cfg
    setup_baseline(ctx)
    for side in (OURS, PGQ):
        ctx.reset_stats(side)

    def measure(variant):
        reset(ctx, variant)
        db = DBS[OURS] if variant == BASE else DBS[variant]
        tps = ctx.pgbench(variant, scripts[variant], cfg.seconds, cfg.clients,
                          options=options, dbname=db)
        return tps * events_per_tx

    values = alternate([OURS, PGQ, BASE], cfg.rounds, measure, name)
    for side in (OURS, PGQ):
        ctx.print_profile(side, name)
    return Result(name, unit, median(values[OURS]), median(values[PGQ]), rounds=values,
                  baselines={"plain_insert": median(values[BASE])}, note=note)
