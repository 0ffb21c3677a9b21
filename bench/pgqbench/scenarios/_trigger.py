"""What trigger_logutriga and trigger_jsontriga share: the 10-column table, the rounds.

Each side (ours, PgQ) gets the table bench_trg.t10 with the trigger (pgq.logutriga or
pgq.jsontriga, argument: the queue) and the queue bench_tq; the baseline is the same table
without a trigger (in bench_ours).  pgbench runs one single-row INSERT per transaction,
synchronous_commit=off, BENCH_CLIENTS clients; every round starts from an empty table and
a new queue.  The unit is rows/s (= events/s on the trigger sides).
"""
from ..common import OURS, PGQ, DBS, Result, alternate, median, recreate_queue

QUEUE = "bench_tq"
TABLE = "bench_trg.t10"
BASE = "baseline"

# 10 columns of the kinds people capture: keys, text, numbers, a timestamp, a flag
CREATE = """
    create schema if not exists bench_trg;
    drop table if exists bench_base.t10;
    drop table if exists bench_trg.t10;
    create table bench_trg.t10 (
        id        bigserial primary key,
        account   int not null,
        kind      text not null,
        amount    numeric(12,2),
        currency  char(3),
        note      text,
        created   timestamptz not null default now(),
        done      boolean not null default false,
        weight    float8,
        ref       uuid);
"""

SCRIPT = ("\\set n random(1, 1000000000)\n"
          "insert into bench_trg.t10 (account, kind, amount, currency, note, weight, ref)"
          " values (:n % 100000, 'payment', (:n % 1000000) / 100.0, 'EUR',"
          " 'order ' || :n || ' paid by card', :n / 1e6,"
          " md5(:n::text)::uuid);\n")


def setup(ctx, trigger_fn):
    for side in (OURS, PGQ):
        ctx.sql(side, "create schema if not exists bench_base; drop table if exists bench_base.t10")
        ctx.sql(side, CREATE)
        ctx.sql(side, "create trigger capture after insert or update or delete on %s"
                      " for each row execute procedure %s('%s')" % (TABLE, trigger_fn, QUEUE))
    ctx.sql(OURS, "create schema if not exists bench_base;"
                  " create table bench_base.t10 (like bench_trg.t10 including all);"
                  " alter table bench_base.t10 alter column id drop default;"
                  " create sequence bench_base.t10_id_seq owned by bench_base.t10.id;"
                  " alter table bench_base.t10 alter column id"
                  "   set default nextval('bench_base.t10_id_seq')")


def reset(ctx, variant):
    if variant == BASE:
        ctx.sql(OURS, "truncate bench_base.t10")
    else:
        ctx.sql(variant, "truncate %s" % TABLE)
        recreate_queue(ctx, variant, QUEUE)
    ctx.checkpoint()


def run_trigger(ctx, name, trigger_fn):
    cfg = ctx.cfg
    setup(ctx, trigger_fn)
    for side in (OURS, PGQ):
        ctx.reset_stats(side)
    scripts = {OURS: SCRIPT, PGQ: SCRIPT, BASE: SCRIPT.replace("bench_trg.t10", "bench_base.t10")}

    def measure(variant):
        reset(ctx, variant)
        db = DBS[OURS] if variant == BASE else DBS[variant]
        return ctx.pgbench(variant, scripts[variant], cfg.seconds, cfg.clients,
                           options="-c synchronous_commit=off", dbname=db)

    values = alternate([OURS, PGQ, BASE], cfg.rounds, measure, name)
    for side in (OURS, PGQ):
        ctx.print_profile(side, name)
    # the rows really became events (one per transaction)
    for side in (OURS, PGQ):
        rows, events = ctx.sql(side, "select (select count(*) from %s),"
                                     " (select count(*) from pgq.event_template)" % TABLE)[0]
        if rows != events:
            raise RuntimeError("%s: %d rows but %d events" % (side, rows, events))
    return Result(name, "rows/s", median(values[OURS]), median(values[PGQ]), rounds=values,
                  baselines={"no_trigger": median(values[BASE])},
                  note="%s on a 10-column table, 1 row/transaction, %d clients, %d s per run,"
                       " synchronous_commit=off; target: ours/pgq >= 0.7"
                       % (trigger_fn, cfg.clients, cfg.seconds))
