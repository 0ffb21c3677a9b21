"""A throwaway PostgreSQL 15 cluster for benchmarks, with durable (fsync on) settings.

The cluster comes from tests/harness/pg_cluster.sh, which is tuned for tests (fsync=off,
full_page_writes=off).  Both settings can be changed with a reload, so the benchmark turns
them back on with ALTER SYSTEM (postgresql.auto.conf wins over the included pgqpp.conf) and
pg_reload_conf(): the test harness itself is left as it is.
"""
import os
import shlex
import subprocess
import tempfile
import time

import psycopg2

# What the benchmark server runs with, on top of pg_cluster.sh's pgqpp.conf
# (shared_buffers = 256MB, max_connections = 300).  Everything else is PostgreSQL's default:
# synchronous_commit = on, autovacuum = on, wal_level = replica, checkpoint_timeout = 5min.
BENCH_SETTINGS = {
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "on",
    "max_wal_size": "2GB",          # fewer forced checkpoints while filling 1M-event backlogs
    "checkpoint_completion_target": "0.9",
}


class Cluster:
    def __init__(self, repo, pg_bin, settings=None, base_dir=None, log=print):
        self.repo = repo
        self.pg_bin = pg_bin
        self.script = os.path.join(repo, "tests", "harness", "pg_cluster.sh")
        self.settings = dict(BENCH_SETTINGS)
        self.settings.update(settings or {})
        self.base_dir = base_dir
        self.top = None
        self.dir = None
        self.env = {}
        self.log = log

    # -- lifecycle -----------------------------------------------------------------------
    def start(self):
        parent = self.base_dir or tempfile.gettempdir()
        os.makedirs(parent, exist_ok=True)
        # A fresh directory of ours, with the cluster in a subdirectory that does not exist
        # yet (pg_cluster.sh only takes over empty or missing directories).
        self.top = tempfile.mkdtemp(prefix="pgqpp-bench.", dir=parent)
        os.chmod(self.top, 0o755)
        self.dir = os.path.join(self.top, "pg")
        proc = subprocess.run(["bash", self.script, "start", self.dir],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise RuntimeError("pg_cluster.sh start failed:\n" + proc.stdout)
        self.env = _read_env(os.path.join(self.dir, "env"))
        os.environ.update(self.env)                 # for psql, pgbench and libpq
        self._apply_settings()
        return self

    def stop(self):
        if not self.dir:
            return
        d, self.dir = self.dir, None
        subprocess.run(["bash", self.script, "stop", d],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # pg_cluster.sh removes its directory; ours is empty then.
        try:
            os.rmdir(self.top)
        except OSError:
            pass

    def _apply_settings(self):
        conn = self.connect("postgres")
        cur = conn.cursor()
        for name, value in self.settings.items():
            cur.execute("alter system set %s = %%s" % _ident(name), (value,))
        cur.execute("select pg_reload_conf()")
        conn.close()
        # The reload is asynchronous: wait until a new session sees every setting.
        deadline = time.time() + 15
        while True:
            conn = self.connect("postgres")
            cur = conn.cursor()
            wrong = []
            for name, value in self.settings.items():
                cur.execute("select setting, unit from pg_settings where name = %s", (name,))
                row = cur.fetchone()
                if row is None or not _setting_matches(row[0], row[1], value):
                    wrong.append("%s=%s (want %s)" % (name, row and row[0], value))
            if not wrong:
                cur.execute("checkpoint")       # with fsync on now: everything on disk
                conn.close()
                return
            conn.close()
            if time.time() > deadline:
                raise RuntimeError("settings not applied: " + ", ".join(wrong))
            time.sleep(0.2)

    # -- access ----------------------------------------------------------------------------
    def connect(self, dbname, autocommit=True, options=None):
        kw = {}
        if options:
            kw["options"] = options
        conn = psycopg2.connect(dbname=dbname, host=self.env["PGHOST"],
                                port=self.env["PGPORT"], user=self.env["PGUSER"],
                                application_name="pgqpp-bench", **kw)
        conn.autocommit = autocommit
        return conn

    def create_database(self, dbname):
        """Creates the database unless it exists (a scenario's extra database, e.g. a
        remote consumer's target)."""
        conn = self.connect("postgres")
        try:
            cur = conn.cursor()
            cur.execute("select 1 from pg_database where datname = %s", (dbname,))
            if cur.fetchone() is None:
                cur.execute('create database "%s"' % dbname.replace('"', '""'))
        finally:
            conn.close()

    def conninfo(self, dbname):
        """A libpq connection string for the database (for daemons and child processes)."""
        def value(v):       # libpq quoting: '...' with \\ and \'
            return "'%s'" % str(v).replace("\\", "\\\\").replace("'", "\\'")
        return "host=%s port=%s user=%s dbname=%s" % (
            value(self.env["PGHOST"]), value(self.env["PGPORT"]), value(self.env["PGUSER"]),
            value(dbname))

    def psql_file(self, dbname, path):
        env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
        proc = subprocess.run([os.path.join(self.pg_bin, "psql"), "-X", "-q",
                               "-v", "ON_ERROR_STOP=1", "-d", dbname, "-f", path],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env)
        if proc.returncode != 0:
            raise RuntimeError("psql -f %s on %s failed:\n%s" % (path, dbname, proc.stdout))

    def describe(self):
        conn = self.connect("postgres")
        cur = conn.cursor()
        names = ["server_version", "fsync", "full_page_writes", "synchronous_commit",
                 "shared_buffers", "max_wal_size", "autovacuum", "wal_level"]
        cur.execute("select name, current_setting(name) from unnest(%s::text[]) name",
                    (names,))
        text = ", ".join("%s=%s" % (n, s) for n, s in cur.fetchall())
        conn.close()
        return text


def _ident(name):
    if not name.replace("_", "").isalnum():
        raise ValueError("bad setting name %r" % name)
    return name


def _setting_matches(setting, unit, want):
    if setting == want:
        return True
    # Memory settings come back in their unit (e.g. max_wal_size in MB).
    mult = {"kB": 1, "MB": 1024, "GB": 1024 * 1024}
    try:
        if want[-2:] in mult and unit in ("kB", "MB", "8kB"):
            want_kb = float(want[:-2]) * mult[want[-2:]]
            have_kb = float(setting) * (8 if unit == "8kB" else mult[unit])
            return abs(want_kb - have_kb) < 1
    except ValueError:
        pass
    return False


def _read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or "=" not in line:
                continue
            key, value = line.split("=", 1)
            parts = shlex.split(value)
            env[key] = parts[0] if parts else ""
    return env
