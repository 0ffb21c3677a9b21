"""Shared pieces: the run context, pgbench, round alternation, results."""
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

OURS, PGQ = "ours", "pgq"
DBS = {OURS: "bench_ours", PGQ: "bench_pgq"}


def log(msg=""):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def env_number(name, default, kind=int):
    """A scenario's own setting from the environment (e.g. BENCH_RUNTIME_EVENTS): the
    default when unset or empty; exits with one line naming the variable when it is not a
    positive number."""
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or number <= 0:
        sys.exit("bench/run: %s must be a positive number, not %r" % (name, value))
    return number


class Context:
    """What a scenario gets: the cluster, the configuration and a few helpers."""

    def __init__(self, cluster, cfg):
        self.cluster = cluster
        self.cfg = cfg
        self.children = set()       # running subprocesses, killed on exit

    def connect(self, side, **kw):
        return self.cluster.connect(DBS[side], **kw)

    def sql(self, side, query, args=None):
        """Runs one statement in autocommit mode; returns all rows (or None)."""
        conn = self.connect(side)
        try:
            cur = conn.cursor()
            cur.execute(query, args)
            return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def checkpoint(self):
        conn = self.cluster.connect("postgres")
        try:
            conn.cursor().execute("checkpoint")
        finally:
            conn.close()

    def reset_stats(self, side):
        """With BENCH_PROFILE=1: zeroes the function counters of schema pgq (only those:
        pg_stat_reset() would also zero the table counters that held_xmin reads)."""
        if self.cfg.profile:
            self.sql(side, """select count(pg_stat_reset_single_function_counters(p.oid))
                                from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                               where n.nspname = 'pgq'""")

    def print_profile(self, side, title):
        """With BENCH_PROFILE=1: where the server spent its time, per function (self time)."""
        if not self.cfg.profile:
            return
        conn = self.connect(side)
        try:
            cur = conn.cursor()
            cur.execute("select pg_stat_force_next_flush()")
            time.sleep(1.2)
            cur.execute("select pg_stat_clear_snapshot()")
            cur.execute("""select schemaname || '.' || funcname, calls,
                                  round(total_time::numeric, 1), round(self_time::numeric, 1)
                             from pg_stat_user_functions
                            order by self_time desc limit 12""")
            rows = cur.fetchall()
        finally:
            conn.close()
        log("  profile %s (%s): function, calls, total ms, self ms" % (title, side))
        for name, calls, total, self_ms in rows:
            log("    %-40s %10d %12s %12s" % (name, calls, total, self_ms))

    # -- pgbench ---------------------------------------------------------------------------
    def pgbench(self, side, script_text, seconds, clients, options=None, dbname=None,
                extra=None):
        """Runs pgbench with a custom script; returns transactions per second.
        seconds=None: no -T (then `extra` says when to stop, e.g. ["-t", "1000"]); `extra`:
        more pgbench arguments (e.g. ["-R", "1000"] for a steady rate)."""
        fd, path = tempfile.mkstemp(prefix="pgqpp-bench-", suffix=".sql")
        with os.fdopen(fd, "w") as f:
            f.write(script_text)
        env = dict(os.environ)
        if options:
            env["PGOPTIONS"] = options
        cmd = [os.path.join(self.cfg.pg_bin, "pgbench"), "-n", "-c", str(clients),
               "-j", str(clients)]
        if seconds is not None:
            cmd += ["-T", str(seconds)]
        cmd += [str(a) for a in (extra or [])] + ["-f", path, dbname or DBS[side]]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, env=env)
            self.children.add(proc)
            out, _ = proc.communicate()
            self.children.discard(proc)
        finally:
            os.unlink(path)
        m = re.search(r"^tps = ([0-9.]+) \(without initial connection time\)", out, re.M)
        failed = re.search(r"^number of failed transactions: (\d+)", out, re.M)
        if proc.returncode != 0 or not m or (failed and int(failed.group(1)) > 0):
            raise RuntimeError("pgbench failed (exit %s):\n%s" % (proc.returncode, out))
        return float(m.group(1))

    def kill_children(self):
        for proc in list(self.children):
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(5)
                except Exception:
                    proc.kill()
        self.children.clear()


def alternate(variants, rounds, measure, label):
    """Runs measure(variant) `rounds` times for each variant, rotating the order each round
    so that no variant always runs first (or last) on a noisy machine.  Returns
    {variant: [values]}."""
    values = {v: [] for v in variants}
    for r in range(rounds):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for v in order:
            value = measure(v)
            values[v].append(value)
            log("  %s round %d/%d %-9s %12.1f" % (label, r + 1, rounds, v, value))
    return values


def median(xs):
    return statistics.median(xs) if xs else float("nan")


class Result:
    """One scenario's comparable number: ours vs pgq (+ optional plain-table baselines)."""

    def __init__(self, name, unit, ours, pgq, rounds=None, baselines=None, note="",
                 higher_is_better=True, decimals=1):
        self.name = name
        self.unit = unit
        self.ours = ours
        self.pgq = pgq
        self.rounds = rounds or {}          # variant -> [values]
        self.baselines = baselines or {}    # name -> value
        self.note = note
        self.higher_is_better = higher_is_better
        self.decimals = decimals

    @staticmethod
    def ratio(a, b):
        if a is None or b is None:
            return None
        if b == 0:
            return None if a == 0 else float("inf")
        return a / b


def fmt(x, decimals=1):
    if x is None:
        return "n/a"
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return str(x)
    return "%.*f" % (decimals, x)


def print_report(results):
    log("")
    log("=" * 100)
    head = "%-30s %-10s %12s %12s %9s %12s %9s" % (
        "scenario", "unit", "ours", "pgq", "ours/pgq", "baseline", "ours/base")
    log(head)
    log("-" * len(head))
    for r in results:
        bases = list(r.baselines.items()) or [(None, None)]
        for i, (bname, bval) in enumerate(bases):
            if i == 0:
                line = "%-30s %-10s %12s %12s %9s" % (
                    r.name, r.unit, fmt(r.ours, r.decimals), fmt(r.pgq, r.decimals),
                    fmt(Result.ratio(r.ours, r.pgq), 3))
            else:
                line = "%-30s %-10s %12s %12s %9s" % ("", "", "", "", "")
            if bname is not None:
                line += " %12s %9s  (%s)" % (fmt(bval, r.decimals),
                                              fmt(Result.ratio(r.ours, bval), 3), bname)
            log(line)
        if r.note:
            log("%-30s %s" % ("", r.note))
    log("=" * 100)
    for r in results:
        for bname, bval in r.baselines.items():
            log("BASELINE %s %s=%s unit=%s" % (r.name, bname, fmt(bval, r.decimals), r.unit))
    for r in results:
        log("RESULT %s ours=%s pgq=%s ratio=%s unit=%s" % (
            r.name, fmt(r.ours, r.decimals), fmt(r.pgq, r.decimals),
            fmt(Result.ratio(r.ours, r.pgq), 3), r.unit))


# -- queue helpers (the same SQL API on both sides) ----------------------------------------
def recreate_queue(ctx, side, queue, config=None):
    """Drops the queue (with its consumers) if it exists and creates it anew."""
    conn = ctx.connect(side)
    try:
        cur = conn.cursor()
        cur.execute("set client_min_messages = warning")
        cur.execute("select pgq.drop_queue(queue_name, true) from pgq.queue"
                    " where queue_name = %s", (queue,))
        cur.execute("select pgq.create_queue(%s)", (queue,))
        for key, value in (config or {}).items():
            cur.execute("select pgq.set_queue_config(%s, %s, %s)", (queue, key, str(value)))
    finally:
        conn.close()


def drop_all_queues(ctx, side):
    """Each scenario starts without the queues (events, ticks, consumers) of the others."""
    conn = ctx.connect(side)
    try:
        cur = conn.cursor()
        cur.execute("set client_min_messages = warning")
        cur.execute("select count(pgq.drop_queue(queue_name, true)) from pgq.queue")
    finally:
        conn.close()


def payload_sql(id_expr):
    """SQL for a ~100-byte JSON payload around an integer expression."""
    return ("'{\"id\":' || (%s) || ',\"kind\":\"bench\",\"text\":\"lorem ipsum dolor sit amet,"
            " consectetur adipiscing elit, sed do eiusm\"}'" % id_expr)
