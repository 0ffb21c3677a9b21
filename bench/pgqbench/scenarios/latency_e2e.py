"""latency_e2e: commit -> consumer handler, at a steady rate and after an idle time.

Ours: pgqpp-ticker (build/ticker, its defaults) + pgqpp_bench_consumer --work latency
(consumer_daemon, at_least_once, woken by the tick NOTIFY) on our SQL, the queue with
ticker_max_lag = 0 (docs/ticker.md: what a low-latency queue needs). PgQ's: Debian's pgqd +
python3-pgq pgq.Consumer, both at their defaults (ticker_period 1 s, loop_delay 1 s), the
queue at its defaults, on the real PgQ. Each ticker serves only its side's database.

The producer is pgbench at a fixed rate (-R), one `pgq.insert_event(q, <type>,
extract(epoch from clock_timestamp())::text)` per transaction, synchronous_commit = off:
ev_data is the server's clock a few microseconds before the commit makes the event visible
(with synchronous_commit = on it would be before the WAL flush, which is part of neither
side's latency). The handler subtracts it from its own clock (same host). Per round and side:

  warm-up 2 s at 1,000/s (type warm, not counted), then BENCH_LATENCY_SECONDS (10) s at
  1,000/s (lat1k), 1 s warm-up and BENCH_LATENCY_SECONDS / 2 s at 20,000/s (lat20k), then
  BENCH_LATENCY_IDLE_PROBES (2) times: BENCH_LATENCY_IDLE_SECONDS (10) s without events and
  one event (idle).

RESULT lines (ms, lower is better; median over BENCH_LATENCY_ROUNDS (2) rounds of each
round's percentile): latency_e2e_p50 and latency_e2e_p99 at 1,000/s, latency_e2e_p99_20k,
latency_e2e_idle (the idle events' median). Targets for ours: p50 <= 5, p99 <= 25 at both
rates. The log also splits each percentile into commit -> tick (the first tick whose snapshot
holds the event, from pgq.tick; tick_time is the ticker transaction's start) and the rest
(the tick's commit, NOTIFY or poll, next_batch, fetch).
"""
import bisect
import os
import tempfile
import time

from ..common import DBS, OURS, PGQ, Result, env_number, log, median, recreate_queue
from . import _consumers as cons

NAME = "latency_e2e"
DESCRIPTION = ("commit -> handler latency at 1k and 20k events/s and after 10 s idle: "
               "pgqpp-ticker + C++ consumer vs pgqd + python3-pgq (ms)")

QUEUE = "bench_lq"
PRODUCER_OPTIONS = "-c synchronous_commit=off"
# type, events/s, pgbench clients, events per transaction
RATES = (("lat1k", 1000, 2, 1), ("lat20k", 20000, 4, 10))


def percentile(values, p):
    """Nearest rank on the sorted values (p in 0..1)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(p * (len(s) - 1) + 0.5))]


def produce(ctx, side, kind, rate, clients, tx_events, count=None, seconds=None):
    """pgbench at `rate` events/s in transactions of `tx_events` events: `count` events (a
    multiple of clients * tx_events) or for `seconds`; returns the achieved events/s."""
    script = ("select count(pgq.insert_event('%s', '%s',"
              " extract(epoch from clock_timestamp())::text)) from generate_series(1, %d);\n"
              % (QUEUE, kind, tx_events))
    extra = ["-R", rate // tx_events]
    if count:
        extra += ["-t", count // (clients * tx_events)]
    return tx_events * ctx.pgbench(side, script, seconds, clients, options=PRODUCER_OPTIONS,
                                   extra=extra)


def probe_idle(ctx, side, kind):
    ctx.sql(side, "select pgq.insert_event(%s, %s, extract(epoch from clock_timestamp())::text)",
            (QUEUE, kind))


def tick_delays(ctx, side, kinds):
    """commit -> the first tick whose snapshot holds the event, per event type (ms); and
    under "ticks" the queue's number of ticks."""
    conn = ctx.connect(side)
    try:
        cur = conn.cursor()
        cur.execute("select queue_id, queue_data_pfx from pgq.queue where queue_name = %s",
                    (QUEUE,))
        qid, table = cur.fetchone()
        cur.execute("select extract(epoch from tick_time)::float8, tick_snapshot::text"
                    " from pgq.tick where tick_queue = %s order by tick_id", (qid,))
        ticks = [(t, _snapshot(s)) for t, s in cur.fetchall()]
        cur.execute("select ev_type, ev_txid, ev_data::float8 from %s where ev_type = any(%%s)"
                    % table, (list(kinds),))
        events = cur.fetchall()
    finally:
        conn.close()
    times = [t for t, _ in ticks]
    out = {"ticks": len(ticks)}
    for kind, txid, stamp in events:
        # ticks are in time order; start a little before the commit (clock granularity)
        i = bisect.bisect_left(times, stamp - 0.05)
        while i < len(ticks) and not _visible(txid, ticks[i][1]):
            i += 1
        if i < len(ticks):
            out.setdefault(kind, []).append((times[i] - stamp) * 1000.0)
    return out


def _snapshot(text):
    xmin, xmax, xip = text.split(":")
    return int(xmin), int(xmax), set(int(x) for x in xip.split(",") if x)


def _visible(txid, snap):
    xmin, xmax, xip = snap
    return txid < xmin or (txid < xmax and txid not in xip)


def one_run(ctx, side, consumer, settings, ours_options):
    """One round on one side: ({type: [handler latencies, ms]}, {type: [commit -> tick, ms],
    "ticks": n, "batches": ours' non-empty batches}, {type: achieved events/s})."""
    seconds, idle_probes, idle_seconds = settings
    counts = {kind: rate * (seconds if rate <= 1000 else max(1, seconds // 2))
              for kind, rate, _, _ in RATES}
    expect = sum(counts.values()) + idle_probes
    recreate_queue(ctx, side, QUEUE, {"ticker_max_lag": 0} if side == OURS else None)
    ctx.sql(side, "select pgq.register_consumer(%s, %s)", (QUEUE, consumer))
    if side == OURS:
        fd, latency_file = tempfile.mkstemp(prefix="pgqpp-bench-lat.")
        os.close(fd)
        child = cons.start_ours(ctx, side, "latency", consumer, QUEUE, expect,
                                ["--delivery", "at_least_once", "--latency-file", latency_file],
                                conn_options=ours_options)
    else:
        child = cons.PythonConsumer(ctx, "latency", side, QUEUE, consumer, expect)
    try:
        time.sleep(1)               # connected and waiting
        achieved = {}
        for kind, rate, clients, tx_events in RATES:
            produce(ctx, side, "warm", rate, clients, tx_events,
                    seconds=2 if rate <= 1000 else 1)
            achieved[kind] = produce(ctx, side, kind, rate, clients, tx_events,
                                     count=counts[kind])
        for _ in range(idle_probes):
            time.sleep(idle_seconds)
            probe_idle(ctx, side, "idle")
        if side == OURS:
            batches = cons.finish_ours(ctx, child, 60)["batches"]
            latencies = cons.read_latencies(latency_file)
        else:
            child.finish(60)
            batches = None          # python3-pgq does not count them
            latencies = child.latencies()
    finally:
        if side == OURS:
            os.unlink(latency_file)
        else:
            child.cleanup()
    for kind, n in list(counts.items()) + [("idle", idle_probes)]:
        if len(latencies.get(kind, [])) != n:
            raise RuntimeError("%s: the consumer saw %d %s events, expected %d"
                               % (side, len(latencies.get(kind, [])), kind, n))
    tick = tick_delays(ctx, side, list(counts) + ["idle"])
    tick["batches"] = batches
    return latencies, tick, achieved


def run(ctx):
    settings = (env_number("BENCH_LATENCY_SECONDS", 10),
                env_number("BENCH_LATENCY_IDLE_PROBES", 2),
                env_number("BENCH_LATENCY_IDLE_SECONDS", 10, float))
    rounds = env_number("BENCH_LATENCY_ROUNDS", 2)
    ours_options = os.environ.get("BENCH_LATENCY_OURS_OPTIONS") or None
    if ours_options:
        log("  ours' ticker and consumer connect with options '%s'" % ours_options)
    # e.g. "tick_min_interval = 5ms; ticker_period = 0.1"
    ticker_settings = dict(kv.split("=", 1) for kv in
                           os.environ.get("BENCH_LATENCY_TICKER", "").split(";") if kv.strip())
    if ticker_settings:
        log("  pgqpp-ticker with %s" % ticker_settings)
    cons.bench_consumer()
    tickers = {OURS: cons.Ticker(ctx, cons.ticker_binary(), DBS[OURS], ticker_settings,
                                 conn_options=ours_options),
               PGQ: cons.Ticker(ctx, cons.PGQD, DBS[PGQ])}
    figures = {OURS: [], PGQ: []}       # per round: {figure: value}
    try:
        time.sleep(1)
        for r in range(rounds):
            for side in ((OURS, PGQ) if r % 2 == 0 else (PGQ, OURS)):
                tickers[side].check_running()
                lat, tick, achieved = one_run(ctx, side, "lat%d" % (r + 1), settings,
                                              ours_options)
                f = summarize(lat, tick)
                figures[side].append(f)
                log("  %s round %d/%d %-4s 1k/s (%.0f/s): p50 %.1f p99 %.1f ms (commit->tick"
                    " p50 %.1f p99 %.1f); 20k/s (%.0f/s): p50 %.1f p99 %.1f ms (commit->tick"
                    " p99 %.1f); idle: %s ms; %d ticks, %s non-empty batches"
                    % (NAME, r + 1, rounds, side, achieved["lat1k"], f["p50"], f["p99"],
                       f["tick_p50"], f["tick_p99"], achieved["lat20k"], f["p50_20k"],
                       f["p99_20k"], f["tick_p99_20k"],
                       ", ".join("%.0f" % x for x in lat["idle"]), tick["ticks"],
                       "%d" % tick["batches"] if tick["batches"] is not None else "?"))
                tickers[side].check_running()
    finally:
        for t in tickers.values():
            t.stop()

    def med(side, key):
        return median([f[key] for f in figures[side]])

    def rounds_of(key):
        return {side: [f[key] for f in figures[side]] for side in (OURS, PGQ)}

    ours_setup = "pgqpp-ticker defaults + C++ consumer_daemon (NOTIFY), ticker_max_lag 0"
    pgq_setup = "pgqd + python3-pgq Consumer, defaults"
    results = []
    for key, name, what in (("p50", "_p50", "p50 at 1,000 events/s; target ours <= 5"),
                            ("p99", "_p99", "p99 at 1,000 events/s; target ours <= 25"),
                            ("p99_20k", "_p99_20k", "p99 at 20,000 events/s; target ours <= 25"),
                            ("idle", "_idle", "one event after %g s idle (median)"
                             % settings[2])):
        results.append(Result(NAME + name, "ms", med(OURS, key), med(PGQ, key),
                              rounds=rounds_of(key), higher_is_better=False,
                              note="commit -> handler, %s; ours: %s; pgq: %s"
                              % (what, ours_setup, pgq_setup)))
    for side in (OURS, PGQ):
        log("  %s commit -> tick: p50 %.1f, p99 %.1f ms at 1k/s; p99 %.1f ms at 20k/s;"
            " idle %.0f ms (medians over rounds)"
            % (side, med(side, "tick_p50"), med(side, "tick_p99"), med(side, "tick_p99_20k"),
               med(side, "tick_idle")))
    return results


def summarize(lat, tick):
    return {"p50": percentile(lat["lat1k"], 0.5), "p99": percentile(lat["lat1k"], 0.99),
            "p50_20k": percentile(lat["lat20k"], 0.5),
            "p99_20k": percentile(lat["lat20k"], 0.99),
            "idle": median(lat["idle"]),
            "tick_p50": percentile(tick.get("lat1k", []), 0.5),
            "tick_p99": percentile(tick.get("lat1k", []), 0.99),
            "tick_p99_20k": percentile(tick.get("lat20k", []), 0.99),
            "tick_idle": median(tick.get("idle", []))}
