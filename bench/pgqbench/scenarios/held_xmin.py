"""held_xmin: metadata bloat while a transaction holds the xmin horizon back.

In each database, both at the same time (since PostgreSQL 14 the horizon of ordinary tables
is per database, so each database gets its own holder), the load below runs for
HELD_XMIN_WARMUP_SECONDS (so that the metadata tables, their statistics and the cached
plans are those of a queue in use, not of an empty one), the metadata tables are vacuumed
and analyzed, their "before" state is taken, and then
  holder     BEGIN; select txid_current(); ... stays open for HELD_XMIN_SECONDS
while the load goes on:
  producer   ~HELD_XMIN_RATE events/s with pgq.insert_event, HELD_XMIN_TX_EVENTS per
             transaction, paced by the clock
  ticker     select pgq.ticker() every 100 ms; the queue has ticker_max_count =
             HELD_XMIN_TICK_EVENTS, so with the default 200 events/s nearly every call ticks
  maint      every HELD_XMIN_MAINT_SECONDS what pgqd does: pgq.maint_retry_events() and
             the operations listed by pgq.maint_operations() (vacuum ones run as VACUUM)
  consumers  c1 and c2 loop next_batch -> get_batch_events (all rows fetched) ->
             finish_batch -> commit; when there is no batch they sleep
             HELD_XMIN_POLL_SECONDS.
Ours runs with the queue option light_batches (HELD_XMIN_LIGHT=1, the default; 0: PgQ's kind
of batches, as PgQ): batches are recorded in pgq.batch, and the consumers' pgq.subscription
updates are HOT.
Measured for pgq.tick, pgq.subscription, pgq.queue, pgq.retry_queue, pgq.consumer and (ours
only) pgq.batch and pgq.queue_option before the load and after it (the holders still open):
n_live_tup, n_dead_tup, pg_relation_size and pg_total_relation_size (heap + indexes + toast).
The consumers' rate (batches/s, both consumers together) and their time per batch
(next_batch .. commit) are compared between the first and the last minute.
"""
import threading
import time

from ..common import OURS, PGQ, Result, fmt, log, payload_sql, recreate_queue

NAME = "held_xmin"
DESCRIPTION = "metadata bloat and consumer slowdown under a held xmin"

QUEUE = "bench_hq"
CONSUMERS = ("c1", "c2")
TABLES = ("tick", "subscription", "queue", "retry_queue", "consumer",
          "batch", "queue_option")        # the last two: ours only (light batches)
TICK_PERIOD = 0.1


class Site:
    """The load on one database."""

    def __init__(self, ctx, side, stop):
        self.ctx, self.side, self.stop = ctx, side, stop
        self.release = threading.Event()
        self.errors = []
        self.threads = []
        self.holder_xid = None
        self.holder_pid = None
        self.holder_ready = threading.Event()
        self.holder = None
        self.at_hold = (0, 0, 0)
        self.produced = 0
        self.ticker_calls = 0
        self.maint_runs = 0
        self.conns = []                                # the workers' connections
        # (end time, seconds, events, next_batch s, get_batch_events s, finish_batch+commit s)
        self.batches = {c: [] for c in CONSUMERS}
        self.empty_polls = {c: [] for c in CONSUMERS}  # (end time, seconds)

    def setup(self):
        cfg = self.ctx.cfg
        config = {"ticker_max_count": cfg.held_tick_events}
        if self.side == OURS:
            config["light_batches"] = "true" if cfg.held_light else "false"
        recreate_queue(self.ctx, self.side, QUEUE, config)
        conn = self.ctx.connect(self.side)
        cur = conn.cursor()
        for c in CONSUMERS:
            cur.execute("select pgq.register_consumer(%s, %s)", (QUEUE, c))
        conn.close()

    def vacuum(self):
        conn = self.ctx.connect(self.side)
        cur = conn.cursor()
        cur.execute("select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                    " where n.nspname = 'pgq' and c.relname = any(%s) order by 1", (list(TABLES),))
        tables = [r[0] for r in cur.fetchall()]         # PgQ has no pgq.batch, pgq.queue_option
        cur.execute("vacuum (analyze) " + ", ".join("pgq." + t for t in tables))
        conn.close()

    def snapshot(self):
        conn = self.ctx.connect(self.side)
        cur = conn.cursor()
        cur.execute("""
            select c.relname, coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0),
                   pg_relation_size(c.oid), pg_total_relation_size(c.oid)
              from pg_class c
              join pg_namespace n on n.oid = c.relnamespace
              left join pg_stat_user_tables s on s.relid = c.oid
             where n.nspname = 'pgq' and c.relname = any(%s)""", (list(TABLES),))
        rows = {r[0]: r[1:] for r in cur.fetchall()}
        conn.close()
        return rows

    # -- the workers -----------------------------------------------------------------------
    def _connect(self, **kw):
        conn = self.ctx.connect(self.side, **kw)
        self.conns.append(conn)
        return conn

    def _worker(self, fn, *args):
        def body():
            try:
                fn(*args)
            except Exception as e:
                if not self.stop.is_set():
                    self.errors.append("%s %s: %s" % (self.side, fn.__name__, e))
                    self.stop.set()
        t = threading.Thread(target=body, daemon=True, name="%s-%s" % (self.side, fn.__name__))
        self.threads.append(t)
        t.start()
        return t

    def start_load(self):
        self._worker(self.produce)
        self._worker(self.tick)
        self._worker(self.maintain)
        for c in CONSUMERS:
            self._worker(self.consume, c)

    def start_hold(self):
        self.holder = self._worker(self.hold)
        if not self.holder_ready.wait(30):
            raise RuntimeError("%s: the xmin holder did not start" % self.side)
        self.at_hold = (self.produced, self.ticker_calls, self.maint_runs)

    def hold(self):
        conn = self.ctx.connect(self.side, autocommit=False)
        cur = conn.cursor()
        cur.execute("select txid_current(), pg_backend_pid()")
        self.holder_xid, self.holder_pid = cur.fetchone()
        self.holder_ready.set()
        self.release.wait()
        conn.rollback()
        conn.close()

    def produce(self):
        cfg = self.ctx.cfg
        conn = self._connect(autocommit=False)
        cur = conn.cursor()
        sql = "select pgq.insert_event(%%s, 'type', %s)" % payload_sql("%s")
        per_tx = max(1, cfg.held_tx_events)
        interval = per_tx / float(cfg.held_rate)
        next_at = time.monotonic()
        n = 0
        while not self.stop.is_set():
            for _ in range(per_tx):
                n += 1
                cur.execute(sql, (QUEUE, n))
            conn.commit()
            self.produced = n
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            elif delay < -1.0:
                next_at = time.monotonic()      # fell behind: do not burst to catch up
        conn.close()

    def tick(self):
        conn = self._connect()
        cur = conn.cursor()
        while not self.stop.is_set():
            cur.execute("select pgq.ticker()")
            self.ticker_calls += 1
            self.stop.wait(TICK_PERIOD)
        conn.close()

    def maintain(self):
        cfg = self.ctx.cfg
        conn = self._connect()
        cur = conn.cursor()
        while not self.stop.wait(cfg.held_maint_seconds):
            for _ in range(100):
                cur.execute("select pgq.maint_retry_events()")
                if not cur.fetchone()[0]:
                    break
            cur.execute("select func_name, func_arg from pgq.maint_operations()")
            for func, arg in cur.fetchall():
                if func.lower() == "vacuum":
                    cur.execute("vacuum " + arg)
                    continue
                for _ in range(100):
                    if arg is None:
                        cur.execute("select %s()" % func)
                    else:
                        cur.execute("select %s(%%s)" % func, (arg,))
                    res = cur.fetchone()[0]
                    if not res or not isinstance(res, int):
                        break
            self.maint_runs += 1
        conn.close()

    def consume(self, consumer):
        cfg = self.ctx.cfg
        conn = self._connect(autocommit=False)
        cur = conn.cursor()
        batches, empties = self.batches[consumer], self.empty_polls[consumer]
        while not self.stop.is_set():
            t0 = time.monotonic()
            cur.execute("select pgq.next_batch(%s, %s)", (QUEUE, consumer))
            batch_id = cur.fetchone()[0]
            if batch_id is None:
                conn.commit()
                t1 = time.monotonic()
                empties.append((t1, t1 - t0))
                self.stop.wait(cfg.held_poll_seconds)
                continue
            t1 = time.monotonic()
            cur.execute("select * from pgq.get_batch_events(%s)", (batch_id,))
            rows = cur.fetchall()
            t2 = time.monotonic()
            cur.execute("select pgq.finish_batch(%s)", (batch_id,))
            conn.commit()
            t3 = time.monotonic()
            batches.append((t3, t3 - t0, len(rows), t1 - t0, t2 - t1, t3 - t2))
        conn.close()

    def join(self):
        """Waits for the workers (the stop event is set); a statement that is still running
        after a grace period (a batch query can take seconds under a held xmin) is
        cancelled."""
        deadline = time.monotonic() + 5
        workers = [t for t in self.threads if t is not self.holder]
        for t in workers:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in workers):
            for conn in self.conns:
                try:
                    conn.cancel()
                except Exception:
                    pass
            for t in workers:
                t.join(30)

    def finish(self):
        self.release.set()
        if self.holder is not None:
            self.holder.join(30)

    # -- numbers ---------------------------------------------------------------------------
    def window(self, lo, hi):
        """batches/s, mean ms per batch, mean ms per empty poll, and the mean ms of
        next_batch, get_batch_events and finish_batch+commit, within [lo, hi)."""
        bs = [b for c in CONSUMERS for b in self.batches[c] if lo <= b[0] < hi]
        es = [e for c in CONSUMERS for e in self.empty_polls[c] if lo <= e[0] < hi]

        def mean_ms(xs, i):
            return 1000 * sum(x[i] for x in xs) / len(xs) if xs else None
        return (len(bs) / (hi - lo), mean_ms(bs, 1), mean_ms(es, 1),
                (mean_ms(bs, 3), mean_ms(bs, 4), mean_ms(bs, 5)))


def run(ctx):
    cfg = ctx.cfg
    duration = cfg.held_seconds
    win = min(60.0, duration / 3.0)
    stop = threading.Event()
    sites = {side: Site(ctx, side, stop) for side in (OURS, PGQ)}
    for s in sites.values():
        s.setup()

    log("  both databases at once: ~%d events/s (%d per tx), ticker every %d ms"
        " (ticker_max_count %d), 2 consumers, maintenance every %.0f s"
        % (cfg.held_rate, cfg.held_tx_events, TICK_PERIOD * 1000, cfg.held_tick_events,
           cfg.held_maint_seconds))
    log("  ours: light batches %s (HELD_XMIN_LIGHT=%d)"
        % ("on" if cfg.held_light else "off: PgQ's kind", int(cfg.held_light)))
    try:
        # Warm-up without a holder, so that the metadata tables and their statistics
        # (autoanalyze, plans) are those of a queue in use.  Without warm-up the tables are
        # analyzed while the queue is still empty (one tick, no event): the planner then
        # sees one-row tables, as for a queue created and analyzed just before the hold.
        cold = cfg.held_warmup_seconds <= 0
        if cold:
            log("  no warm-up: statistics of the empty queue")
            for s in sites.values():
                s.vacuum()
        for s in sites.values():
            s.start_load()
        if not cold:
            log("  warm-up: %.0f s of load without a held xmin" % cfg.held_warmup_seconds)
            stop.wait(cfg.held_warmup_seconds)
            check_errors(sites)
            for s in sites.values():
                s.vacuum()
        time.sleep(1.5)             # the statistics of the vacuum reach pg_stat
        before = {side: s.snapshot() for side, s in sites.items()}
        for side in (OURS, PGQ):
            ctx.reset_stats(side)
        for s in sites.values():
            s.start_hold()
        t_start = time.monotonic()
        for side, s in sites.items():
            log("  %s: xid %s held by backend %s for %d s"
                % (side, s.holder_xid, s.holder_pid, duration))
        report_every = max(10.0, min(60.0, duration / 5.0))
        next_report = t_start + report_every
        t_end = t_start + duration
        while not stop.is_set() and time.monotonic() < t_end:
            stop.wait(min(1.0, max(0.0, t_end - time.monotonic())))
            now = time.monotonic()
            if now >= next_report and now < t_end - 1:
                parts = []
                for side, s in sites.items():
                    rate, ms, ems, parts_ms = s.window(now - report_every, now)
                    parts.append("%s %.1f batches/s, %s ms/batch (get_batch_events %s),"
                                 " %s ms/empty poll" % (side, rate, fmt(ms, 1),
                                                        fmt(parts_ms[1], 1), fmt(ems, 1)))
                log("  t=%4.0fs  %s" % (now - t_start, " | ".join(parts)))
                next_report += report_every
        t_end = time.monotonic()
        stop.set()
        for s in sites.values():
            s.join()
        check_errors(sites)
        # The workers' sessions are closed: their statistics are flushed at exit.
        time.sleep(1.5)
        held = check_holders(ctx, sites)
        after = {side: s.snapshot() for side, s in sites.items()}
    finally:
        stop.set()
        for s in sites.values():
            s.release.set()
        for s in sites.values():
            s.join()
            s.finish()
    for side in (OURS, PGQ):
        ctx.print_profile(side, NAME)

    return report(sites, before, after, held, t_start, t_end, win)


def check_errors(sites):
    errors = [e for s in sites.values() for e in s.errors]
    if errors:
        raise RuntimeError("; ".join(errors))


def check_holders(ctx, sites):
    """Is each holder still idle in its transaction, with its xid?"""
    held = {}
    for side, s in sites.items():
        rows = ctx.sql(side, "select state, backend_xid::text from pg_stat_activity"
                             " where pid = %s", (s.holder_pid,))
        held[side] = bool(rows) and rows[0][0] == "idle in transaction" and rows[0][1] is not None
        if not held[side]:
            log("  WARNING: %s holder is not in its transaction any more: %r" % (side, rows))
    return held


def report(sites, before, after, held, t_start, t_end, win):
    log("")
    log("  per table (pgq.*): live and dead tuples, heap and total (heap+indexes+toast) bytes,"
        " before -> after")
    log("  %-5s %-13s %17s %19s %21s %21s" % ("db", "table", "n_live_tup", "n_dead_tup",
                                                "heap bytes", "total bytes"))
    growth, dead, total_after = {}, {}, {}
    for side in (OURS, PGQ):
        growth[side] = dead[side] = total_after[side] = 0
        for t in TABLES:
            b = before[side].get(t, (0, 0, 0, 0))
            a = after[side].get(t, (0, 0, 0, 0))
            log("  %-5s %-13s %7d -> %7d %8d -> %8d %9d -> %9d %9d -> %9d"
                % (side, t, b[0], a[0], b[1], a[1], b[2], a[2], b[3], a[3]))
            growth[side] += a[3] - b[3]
            total_after[side] += a[3]
            dead[side] += a[1] - b[1]
    log("")
    rates = {}
    for side, s in sites.items():
        f = s.window(t_start, t_start + win)
        l = s.window(t_end - win, t_end)
        rates[side] = (f, l)
        held_batches = {c: [b for b in s.batches[c] if t_start <= b[0] <= t_end]
                        for c in CONSUMERS}
        consumed = "/".join(str(sum(b[2] for b in held_batches[c])) for c in CONSUMERS)
        p0, t0, m0 = s.at_hold
        log("  %-4s while held: produced %d events, %d ticker calls, %d maintenance runs,"
            " %d batches delivering %s events to %s; xmin held to the end: %s"
            % (side, s.produced - p0, s.ticker_calls - t0, s.maint_runs - m0,
               sum(len(v) for v in held_batches.values()), consumed, "/".join(CONSUMERS),
               "yes" if held.get(side) else "NO"))
        for label, w in (("first", f), ("last ", l)):
            log("       %s %2.0f s: %6.2f batches/s %8s ms/batch (next_batch %s, get_batch_events"
                " %s, finish+commit %s) %s ms/empty poll"
                % (label, win, w[0], fmt(w[1], 2), fmt(w[3][0], 2), fmt(w[3][1], 2),
                   fmt(w[3][2], 2), fmt(w[2], 2)))

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    nbatches = {side: sum(1 for c in CONSUMERS for b in s.batches[c] if t_start <= b[0] <= t_end)
                for side, s in sites.items()}

    def per_kbatch(v):
        return "ours %s, pgq %s per 1000 batches" % (
            fmt(1000.0 * v[OURS] / max(1, nbatches[OURS]), 0),
            fmt(1000.0 * v[PGQ] / max(1, nbatches[PGQ]), 0))

    drop = {side: ratio(rates[side][1][0], rates[side][0][0]) for side in (OURS, PGQ)}
    ms_growth = {side: ratio(rates[side][1][1], rates[side][0][1]) for side in (OURS, PGQ)}
    minutes = "%.0f s" % win
    return [
        Result("held_xmin_consumer_rate_drop", "last/first", drop[OURS], drop[PGQ],
               decimals=3,
               note="consumer batches/s, last %s / first %s (1.0 = no slowdown); ours with"
               " light batches %s" % (minutes, minutes,
                                      "on" if sites[OURS].ctx.cfg.held_light else "off")),
        Result("held_xmin_batch_ms_growth", "last/first", ms_growth[OURS], ms_growth[PGQ],
               decimals=3, higher_is_better=False,
               note="mean ms per batch (next_batch..commit), last / first window"),
        Result("held_xmin_metadata_bytes", "bytes", growth[OURS], growth[PGQ], decimals=0,
               higher_is_better=False,
               note="growth of pg_total_relation_size of pgq.%s; %s; size after:"
               " ours %d, pgq %d" % (", ".join(TABLES), per_kbatch(growth),
                                     total_after[OURS], total_after[PGQ])),
        Result("held_xmin_dead_tuples", "tuples", dead[OURS], dead[PGQ], decimals=0,
               higher_is_better=False,
               note="growth of n_dead_tup over the same tables; " + per_kbatch(dead)),
    ]
