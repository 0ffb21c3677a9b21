"""Helpers of the crash tests (tests/crash): the consumer daemon as a process that tests
kill, a producer, and the checks "this consumer has finished every batch" and "each row
once". The shared cluster's helpers come from tests/clients/pgqpp_clientlib.py.

Uses Debian's /usr/bin/python3 (psycopg2 is a Debian package).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import shutil
import tempfile
import time

import psycopg2

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
RESTART_SH = os.path.join(SRC, "tests", "support", "pg_restart.sh")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import pgqpp_clientlib as lib  # noqa: E402  (load_cluster_env, connstr, new_db, drop_db, ...)

TestFailure = lib.TestFailure


def connection_broke(e, conn):
    """Whether psycopg2 error E means the connection (or the server) went away: an
    OperationalError, or libpq's own failure (no SQLSTATE), e.g. "server closed the
    connection unexpectedly", which psycopg2 raises as a plain DatabaseError."""
    return isinstance(e, (psycopg2.OperationalError, psycopg2.InterfaceError)) or \
        e.pgcode is None or conn is None or conn.closed != 0


class Db:
    """An autocommit connection to one database, reconnected after a server restart."""

    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = None

    def q(self, sql, args=None):
        for attempt in range(100):
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg2.connect(self.dsn)
                    self.conn.autocommit = True
                cur = self.conn.cursor()
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else None
            except psycopg2.Error as e:
                if not connection_broke(e, self.conn):
                    raise
                # the server restarted under us (private cluster tests): connect again
                self.close()
                if attempt == 99:
                    raise
                time.sleep(0.1)

    def one(self, sql, args=None):
        return self.q(sql, args)[0][0]

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
            self.conn = None


class PrivateCluster:
    """A PostgreSQL cluster of this test alone (tests/harness/pg_cluster.sh), which it may
    crash-restart (tests/support/pg_restart.sh); the shared cluster is never restarted."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "pg")
        self.env = lib.start_private_cluster(self.dir)

    def dsn(self, dbname, application_name=None):
        return lib.connstr(self.env, dbname) + (
            " application_name='%s'" % application_name if application_name else "")

    def create_db(self, name, install_sqls=()):
        lib.admin_exec(self.env, "create database %s" % lib.quote_ident(name))
        for path in install_sqls:
            lib.psql_file(self.env, name, path)

    def restart(self):
        """pg_ctl restart -m immediate: every connection breaks, crash recovery runs."""
        subprocess.run(["bash", RESTART_SH, self.dir], check=True)

    def server_log(self, lines=30):
        for path in (os.path.join(self.dir, "server.log"),):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    return "---- server.log:\n" + "".join(f.readlines()[-lines:])
        return ""

    def stop(self):
        lib.stop_private_cluster(self.dir)


@contextlib.contextmanager
def shared_cluster_db(test):
    """A fresh database of ours (tmpl_ours) on the ctest run's cluster, for TEST: yields
    (Db, dsn); closed and dropped afterwards."""
    env = lib.load_cluster_env()
    name = "t_crash_%s_%d" % (test, int(time.time() * 1000) % 10**9)
    lib.new_db(env, name, "tmpl_ours")
    dsn = lib.connstr(env, name)
    db = Db(dsn)
    try:
        yield db, dsn
    finally:
        db.close()
        lib.drop_db(env, name)


def make_queue(db, queue):
    """A queue ticked only when the test says so (pgq.ticker(queue) after each transaction)."""
    db.q("select pgq.create_queue(%s)", (queue,))
    db.q("select pgq.set_queue_config(%s, 'ticker_max_lag', '0')", (queue,))
    db.q("select pgq.set_queue_config(%s, 'ticker_idle_period', '0')", (queue,))


def produce(db, queue, n, per_tx, table=None, start=0):
    """N events with data 0..N-1 (+start) in transactions of PER_TX, a tick after each.
    With TABLE, each transaction also inserts its rows (ev_data) there: 'N rows + N events'."""
    for i in range(start, start + n, per_tx):
        hi = min(start + n, i + per_tx) - 1
        extra = ("insert into %s select g::text from generate_series(%d, %d) g; " % (table, i, hi)
                 if table else "")
        db.q("begin; %sselect count(pgq.insert_event(%%s, 't', g::text)) "
             "from generate_series(%d, %d) g; commit" % (extra, i, hi), (queue,))
        db.q("select pgq.ticker(%s)", (queue,))


def consumer_done(db, queue, consumer):
    """The consumer (and every cooperative member of it) finished every batch so far."""
    return db.one(
        "select (select last_tick from pgq.get_consumer_info(%s, %s)) = "
        "       (select last_tick_id from pgq.get_queue_info(%s)) "
        "   and not exists (select 1 from pgq.get_consumer_info(%s) "
        "                    where consumer_name like %s and current_batch is not null)",
        (queue, consumer, queue, queue, consumer.replace("_", r"\_") + ".%"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(what, fn, timeout, daemons=()):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return
        for d in daemons:
            if d.p.poll() is not None:
                raise TestFailure("%s exited (%s) while waiting for %s\n%s"
                                  % (d.name, d.p.returncode, what, d.tail()))
        time.sleep(0.05)
    raise TestFailure("timed out (%d s) waiting for %s\n%s"
                      % (timeout, what, "\n".join(d.tail() for d in daemons)))


class Daemon:
    """A consumer daemon process (examples/consumer/mirror_consumer) with its own log."""

    def __init__(self, binary, workdir, name, args, env=None):
        self.name = name
        self.logpath = os.path.join(workdir, name + ".log")
        self.p = subprocess.Popen([binary] + args, stdout=open(self.logpath, "a"),
                                  stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def tail(self, n=25):
        return "---- %s:\n%s" % (self.name, "\n".join(self.log().splitlines()[-n:]))

    def kill(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
        self.p.wait()

    def stop(self, timeout=60):
        """SIGTERM; the daemon must exit 0."""
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout)
        if rc != 0:
            raise TestFailure("%s: exit %d after SIGTERM, expected 0\n%s" % (self.name, rc, self.tail()))

    def vm_hwm_kb(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise TestFailure("no VmHWM for %s" % self.name)


def check_each_once(db, table, column, n):
    total, distinct, lo, hi = db.q("select count(*), count(distinct %s), min(%s::bigint), "
                                   "max(%s::bigint) from %s" % (column, column, column, table))[0]
    if (total, distinct) != (n, n) or (n and (lo, hi) != (0, n - 1)):
        raise TestFailure("%s: %d rows, %d distinct (%s..%s); expected %d, each once"
                          % (table, total, distinct, lo, hi, n))


def run(main):
    """Runs main(workdir, binary); prints the failure and exits 1 on TestFailure.
    The work directory (daemon logs, outputs) is removed after a pass and kept after a
    failure, for the post-mortem."""
    workdir = tempfile.mkdtemp(prefix="pgqpp-crash-")
    try:
        main(workdir, sys.argv[1])
    except TestFailure as e:
        print("FAIL:", e, "(logs kept in %s)" % workdir, file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(workdir, ignore_errors=True)
    print("1 passed, 0 failed")
