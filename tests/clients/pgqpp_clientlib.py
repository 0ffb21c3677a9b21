"""Shared helpers of the stock-client tests in tests/clients (python3-pgq and friends).

Imported by the test scripts next to it (their directory is on sys.path when they run):

  * the test cluster: load_cluster_env(), connstr(), admin_exec(), quote_ident(),
    new_db(), drop_db(), psql_file(); a cluster of a test's own: start_private_cluster(),
    stop_private_cluster();
  * a producer workload that tends to break quoting, encoding and NULL handling:
    make_workload(), run_tx() (RETRY_TYPE marks the event a consumer should retry);
  * Ticker: a thread that ticks a queue and moves due retry events (the tests' pgqd);
  * read_records(): the JSON-lines files consumers write; short() for messages.

Uses Debian's /usr/bin/python3 (psycopg2 is a Debian package).
"""

import json
import os
import random
import subprocess
import threading
import time
import traceback

import psycopg2

RETRY_TYPE = "retry-me"


class TestFailure(Exception):
    pass


CLUSTER_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness",
                          "pg_cluster.sh")


def read_cluster_env(directory):
    """The settings pg_cluster.sh start wrote into DIRECTORY/env (PGHOST, PGPORT, ...)."""
    env = {}
    with open(os.path.join(directory, "env")) as f:
        for line in f:
            line = line.strip()
            if "=" in line:
                k, v = line.split("=", 1)
                env[k] = v.strip("'")
    return env


def start_private_cluster(directory):
    """Starts a cluster of the calling test alone in DIRECTORY (pg_cluster.sh start) and
    returns its env. It is stopped by stop_private_cluster(), or by pg_cluster.sh's watcher
    once this process is gone (a test killed with SIGKILL cannot stop it itself)."""
    subprocess.run(["bash", CLUSTER_SH, "start", directory], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, PGQPP_CLUSTER_OWNER=str(os.getpid())))
    return read_cluster_env(directory)


def stop_private_cluster(directory):
    subprocess.run(["bash", CLUSTER_SH, "stop", directory], stdout=subprocess.DEVNULL)


def load_cluster_env():
    cluster = os.environ.get("PGQPP_TEST_CLUSTER")
    if not cluster:
        raise TestFailure("PGQPP_TEST_CLUSTER is not set (run the test through ctest)")
    # the base directory holds one cluster per ctest run, named after ctest (our parent)
    own_run = os.path.join(cluster, "run-%d" % os.getppid())
    if not os.path.isfile(os.path.join(cluster, "env")) and os.path.isfile(os.path.join(own_run, "env")):
        cluster = own_run
        os.environ["PGQPP_TEST_CLUSTER"] = cluster
    env_file = os.path.join(cluster, "env")
    if not os.path.isfile(env_file):
        raise TestFailure("no test cluster at %s (missing %s)" % (cluster, env_file))
    return read_cluster_env(cluster)


def connstr(env, dbname):
    return "host='%s' port=%s user='%s' dbname='%s'" % (
        env["PGHOST"], env["PGPORT"], env["PGUSER"], dbname)


def admin_exec(env, sql):
    conn = psycopg2.connect(connstr(env, "postgres"))
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


# A palette of values that tend to break quoting, encoding or NULL handling.
PALETTE = [
    "plain ascii",
    "",
    "  leading and trailing  ",
    "it's",
    "say \"hi\"",
    "back\\slash \\n \\x00 \\\\",
    "'); drop table pgq.queue; --",
    "%s %(x)s %% {0} $1 :'q'",
    "line1\nline2\r\nline3\ttab\x01\x7f",
    "üñíçødé Жжж 中文字 🎉🚀 e\u0301 עברית العربية \u200b\ufeff",
    "NULL",
    "null",
    "{\"json\": [1, 2, {\"k\": null}]}",
    "a=1&b=%20&c",
    "\U0010fffd max code point",
]


def random_value(rng, big_budget):
    r = rng.random()
    if r < 0.12:
        return None
    if r < 0.15 and big_budget[0] > 0:
        big_budget[0] -= 1
        size = rng.choice([100_000, 300_000, 1_500_000])
        unit = rng.choice(["x", "ж", "🎉", "ab'c\"d\\"])
        return (unit * (size // len(unit.encode()) + 1))[: size // len(unit.encode())]
    if r < 0.55:
        return rng.choice(PALETTE)
    return "v%d-%s" % (rng.randrange(10**9), rng.choice(PALETTE)[:10])


def make_workload(seed, n_tx, retry_tx, big=6):
    """A list of transaction specs: dict(events=[...], rollback=bool, savepoint=(i, j)).

    retry_tx: the transaction that also gets one RETRY_TYPE event (None: none); big: how
    many payloads of 100 kB to 1.5 MB."""
    rng = random.Random(seed)
    big_budget = [big]
    txs = []
    for t in range(n_tx):
        n = rng.randint(10, 70)
        events = []
        for i in range(n):
            kind = rng.random()
            ev = {"type": random_value(rng, [0]) if kind < 0.9 else None,
                  "data": random_value(rng, big_budget)}
            if rng.random() < 0.5:
                ev.update({k: random_value(rng, [0]) for k in ("extra1", "extra2", "extra3", "extra4")})
                ev["form"] = 7
            else:
                ev.update({"extra1": None, "extra2": None, "extra3": None, "extra4": None})
                ev["form"] = 3
            events.append(ev)
        if t == retry_tx:
            events.insert(n // 2, {"type": RETRY_TYPE, "data": "retry me once", "extra1": "e1",
                                   "extra2": None, "extra3": "e3", "extra4": None, "form": 7})
        spec = {"events": events, "rollback": t % 9 == 4 and t != retry_tx, "savepoint": None,
                "hold": rng.random() < 0.3}
        if not spec["rollback"] and t % 5 == 2 and n > 4:
            a = rng.randrange(0, n - 2)
            spec["savepoint"] = (a, a + rng.randint(1, 3))   # events[a:b] get rolled back
        txs.append(spec)
    return txs


def run_tx(conn, spec, queue, on_open=None):
    """Runs one producer transaction; returns the events that committed (with id, txid)."""
    cur = conn.cursor()
    cur.execute("select txid_current()")
    txid = cur.fetchone()[0]
    committed, rolled_back = [], []
    sp = spec["savepoint"]
    for i, ev in enumerate(spec["events"]):
        if sp and i == sp[0]:
            cur.execute("savepoint sp")
        if ev["form"] == 3:
            cur.execute("select pgq.insert_event(%s, %s, %s)", [queue, ev["type"], ev["data"]])
        else:
            cur.execute("select pgq.insert_event(%s, %s, %s, %s, %s, %s, %s)",
                        [queue, ev["type"], ev["data"], ev["extra1"], ev["extra2"],
                         ev["extra3"], ev["extra4"]])
        ev = dict(ev, id=cur.fetchone()[0], txid=txid)
        if sp and sp[0] <= i < sp[1]:
            rolled_back.append(ev)
        else:
            committed.append(ev)
        if sp and i == sp[1] - 1:
            cur.execute("rollback to savepoint sp")
    if on_open:
        on_open()
    if spec["rollback"]:
        conn.rollback()
        return [], rolled_back + committed
    conn.commit()
    return committed, rolled_back


def produce_concurrently(dsn, workload, queue, hold_seconds, n_threads=3):
    """Runs the workload's transactions from n_threads producer connections at once (thread
    i takes workload[i::n_threads]); a transaction with spec["hold"] stays open hold_seconds
    before its end.  Returns (committed, rolled_back) events; a failed producer raises."""
    committed, rolled_back, errors = [], [], []
    lock = threading.Lock()

    def producer(idx):
        try:
            pconn = psycopg2.connect(dsn)
            for spec in workload[idx::n_threads]:
                hold = (lambda: time.sleep(hold_seconds)) if spec["hold"] else None
                c, rb = run_tx(pconn, spec, queue, on_open=hold)
                with lock:
                    committed.extend(c)
                    rolled_back.extend(rb)
                time.sleep(0.02)
            pconn.close()
        except Exception:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=producer, args=(i,)) for i in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    if errors:
        raise TestFailure("a producer failed:\n" + errors[0])
    return committed, rolled_back

class Ticker(threading.Thread):
    """The ticker (instead of pgqd): ticks and moves due retry events, until stopped."""

    def __init__(self, dsn, queue):
        super().__init__(daemon=True)
        self.dsn, self.queue = dsn, queue
        self.stop_event = threading.Event()
        self.error = None
        self.ticks = 0

    def run(self):
        try:
            conn = psycopg2.connect(self.dsn)
            conn.autocommit = True
            cur = conn.cursor()
            n = 0
            while not self.stop_event.is_set():
                cur.execute("select pgq.ticker(%s)", [self.queue])
                if cur.fetchone()[0] is not None:
                    self.ticks += 1
                n += 1
                if n % 4 == 0:
                    while True:
                        cur.execute("select pgq.maint_retry_events()")
                        if cur.fetchone()[0] == 0:
                            break
                self.stop_event.wait(0.05)
            conn.close()
        except Exception:   # reported by the main thread
            self.error = traceback.format_exc()


def read_records(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="ascii") as f:
        text = f.read()
    # The consumer writes whole lines; ignore a partial last line while it is still running.
    lines = text.split("\n")
    return [json.loads(line) for line in lines[:-1] if line]


FIELDS = ("type", "data", "extra1", "extra2", "extra3", "extra4")


def short(v):
    if isinstance(v, str) and len(v) > 60:
        return repr(v[:60]) + "...(%d chars)" % len(v)
    return repr(v)


def new_db(env, name, template):
    """(Re)creates database NAME as a copy of TEMPLATE (e.g. tmpl_ours, template0)."""
    admin_exec(env, "drop database if exists %s with (force)" % quote_ident(name))
    admin_exec(env, "create database %s template %s" % (quote_ident(name), quote_ident(template)))


def drop_db(env, name):
    admin_exec(env, "drop database if exists %s with (force)" % quote_ident(name))


def psql_file(env, dbname, path):
    """Runs an SQL script with PostgreSQL 15's psql (ON_ERROR_STOP): install scripts use psql
    meta-commands.  Raises TestFailure with psql's output if it fails."""
    run_env = dict(os.environ, PGHOST=env["PGHOST"], PGPORT=env["PGPORT"], PGUSER=env["PGUSER"],
                   PGDATABASE=dbname, PGOPTIONS="-c client_min_messages=warning")
    run_env["PATH"] = os.environ.get("PGQPP_PG_BIN", "/usr/lib/postgresql/15/bin") + ":" + run_env.get("PATH", "")
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", path],
                       env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if r.returncode != 0:
        raise TestFailure("psql -f %s on %s failed (%d):\n%s"
                          % (path, dbname, r.returncode, r.stdout.decode(errors="replace")))
