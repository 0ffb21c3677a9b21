"""What the consumer scenarios share (consume_runtime, mirror_exactly_once, latency_e2e):
our binaries from the build directory, the python3-pgq child (_pgq_python.py), the tickers.

Ours: build/bench/pgqpp_bench_consumer (bench/cpp/pgqpp_bench_consumer.cpp, a consumer_daemon
with a benchmark handler) and build/ticker/pgqpp-ticker; PGQPP_BUILD_DIR names another build
directory. A binary missing or older than its sources is built there with CMake.
PgQ's: Debian's python3-pgq run by /usr/bin/python3, and /usr/bin/pgqd.
"""
import os
import signal
import subprocess
import tempfile
import threading

from ..common import DBS, log
from .consume_sql import QUEUE, fill

SCENARIO_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(SCENARIO_DIR)))
PYTHON = "/usr/bin/python3"         # Debian's python3-pgq and skytools live there
PGQD = "/usr/bin/pgqd"


def build_dir():
    return os.environ.get("PGQPP_BUILD_DIR") or os.path.join(REPO, "build")


def built(target, relpath, source_dirs):
    """Path of a binary of the build directory, (re)built with CMake when missing or older
    than a file under one of `source_dirs` (relative to the repository). `target`: one
    CMake target or a list of them."""
    targets = [target] if isinstance(target, str) else list(target)
    build = build_dir()
    path = os.path.join(build, relpath)
    if os.access(path, os.X_OK) and not _older_than(path, source_dirs):
        return path
    log("  building %s in %s" % (" ".join(targets), build))
    if not os.path.isfile(os.path.join(build, "CMakeCache.txt")):
        subprocess.run(["cmake", "-S", REPO, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "--target"] + targets + ["-j", "2"], check=True,
                   stdout=subprocess.DEVNULL)
    return path


def _older_than(binary, source_dirs):
    when = os.path.getmtime(binary)
    for d in source_dirs:
        for root, _, files in os.walk(os.path.join(REPO, d)):
            if any(os.path.getmtime(os.path.join(root, f)) > when for f in files):
                return True
    return False


def bench_consumer():
    return built("pgqpp_bench_consumer", os.path.join("bench", "pgqpp_bench_consumer"),
                 ["core", "runtime", "consumer", os.path.join("bench", "cpp")])


def ticker_binary():
    return built("pgqpp_ticker", os.path.join("ticker", "pgqpp-ticker"),
                 ["core", "runtime", "ticker"])


def pgq_ext_install_sql():
    """Our pure PL/pgSQL pgq_ext (a remote consumer's target), built with the SQL."""
    path = os.path.join(build_dir(), "pgq_sql", "pgq_ext_install.sql")
    if not os.path.isfile(path):
        built("pgq_ext_sql", os.path.join("pgq_sql", "pgq_ext_install.sql"), [])
    return path


def fill_both(ctx, total, chunk, consumers):
    """consume_sql's backlog (queue consume_sql.QUEUE, consumers c1..cN registered first,
    `chunk` events per transaction + tick), filled on both sides at once; returns
    {side: (seconds, ticks)}."""
    log("  filling %d events per side (%d per transaction + tick), both sides at once"
        % (total, chunk))
    out, errors = {}, []

    def filler(side):
        try:
            fill(ctx, side, total, chunk, consumers, out)
        except Exception as e:      # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=filler, args=(s,), daemon=True) for s in DBS]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.5)
    if errors:
        raise errors[0]
    for side in DBS:
        log("  filled %-4s in %6.1f s, %d ticks" % (side, out[side][0], out[side][1]))
        # One read of every event first: it sets the rows' hint bits (writing the pages),
        # which would otherwise slow down whichever run reads them first.
        table = ctx.sql(side, "select queue_data_pfx from pgq.queue where queue_name = %s",
                        (QUEUE,))[0][0]
        ctx.sql(side, "select count(*) from %s" % table)   # the parent: all its tables
    ctx.checkpoint()
    return out


def parse_values(text):
    values = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            try:
                values[k.strip()] = float(v)
            except ValueError:
                pass
    return values


def wait_child(ctx, proc, what, timeout):
    """Waits for a child started with start_child (`timeout` seconds, None: no limit);
    raises with its output on a failure, returns its stdout."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        ctx.children.discard(proc)
        raise RuntimeError("%s did not finish within %d s:\n%s%s"
                           % (what, timeout, out, err[-3000:]))
    ctx.children.discard(proc)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (exit %s):\n%s%s" % (what, proc.returncode, out, err[-3000:]))
    return out


def start_child(ctx, cmd, env=None):
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    ctx.children.add(proc)
    return proc


# -- ours: pgqpp_bench_consumer -------------------------------------------------------------
def start_ours(ctx, side, work, consumer, queue, expect, extra=(), conn_options=None):
    """Starts pgqpp_bench_consumer on the side's database (--work noop|mirror|latency);
    `conn_options`: libpq `options` of its connections (e.g. "-c synchronous_commit=off").
    Wait with finish_ours."""
    db = ctx.cluster.conninfo(DBS[side])
    if conn_options:
        db += " options='%s'" % conn_options.replace("\\", "\\\\").replace("'", "\\'")
    cmd = [bench_consumer(), "--db", db, "--queue", queue,
           "--consumer", consumer, "--work", work, "--expect", expect,
           "--log-level", "warning"] + list(extra)
    return start_child(ctx, cmd)


def finish_ours(ctx, proc, timeout):
    return parse_values(wait_child(ctx, proc, "pgqpp_bench_consumer", timeout))


# -- PgQ's: python3-pgq ---------------------------------------------------------------------
class PythonConsumer:
    """One run of _pgq_python.py (kind noop|mirror|latency) in a temporary directory."""

    def __init__(self, ctx, kind, side, queue, consumer, expect, settings=None):
        self.ctx, self.kind = ctx, kind
        self.dir = tempfile.mkdtemp(prefix="pgqpp-bench-py.")
        self.result = os.path.join(self.dir, "result")
        self.latency = os.path.join(self.dir, "latency")
        ini = os.path.join(self.dir, "bench.ini")
        values = {"job_name": "bench_" + consumer,
                  "src_db": ctx.cluster.conninfo(DBS[side]),
                  "queue_name": queue, "consumer_name": consumer,
                  "logfile": os.path.join(self.dir, "consumer.log"), "use_skylog": "0",
                  "expect": str(expect), "result_file": self.result,
                  "latency_file": self.latency}
        values.update(settings or {})
        with open(ini, "w") as f:
            f.write("[bench]\n")
            for k, v in values.items():
                f.write("%s = %s\n" % (k, str(v).replace("%", "%%")))
        self.proc = start_child(ctx, [PYTHON, os.path.join(SCENARIO_DIR, "_pgq_python.py"),
                                      kind, ini])

    def finish(self, timeout):
        wait_child(self.ctx, self.proc, "python3-pgq %s consumer" % self.kind, timeout)
        with open(self.result) as f:
            values = parse_values(f.read())
        return values

    def latencies(self):
        return read_latencies(self.latency)

    def cleanup(self):
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


def read_latencies(path):
    """"type ms" lines -> {type: [ms, ...]}."""
    out = {}
    with open(path) as f:
        for line in f:
            kind, ms = line.split()
            out.setdefault(kind, []).append(float(ms))
    return out


# -- tickers ----------------------------------------------------------------------------------
class Ticker:
    """pgqpp-ticker or pgqd on one database, with a pgqd-style [pgqd] file (pgqd's defaults
    unless `settings` says otherwise); stop() ends it (SIGTERM)."""

    def __init__(self, ctx, binary, dbname, settings=None, conn_options=None):
        self.ctx = ctx
        self.dir = tempfile.mkdtemp(prefix="pgqpp-bench-ticker.")
        self.logfile = os.path.join(self.dir, "ticker.log")
        ini = os.path.join(self.dir, "ticker.ini")
        env = ctx.cluster.env
        with open(ini, "w") as f:
            f.write("[pgqd]\nbase_connstr = host=%s port=%s user=%s%s\ndatabase_list = %s\n"
                    "logfile = %s\nsyslog = 0\n"
                    % (env["PGHOST"], env["PGPORT"], env["PGUSER"],
                       " options='%s'" % conn_options if conn_options else "", dbname,
                       self.logfile))
            for k, v in (settings or {}).items():
                f.write("%s = %s\n" % (k.strip(), v.strip()))
        self.name = os.path.basename(binary)
        self.proc = subprocess.Popen([binary, ini], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        ctx.children.add(self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.ctx.children.discard(self.proc)
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def check_running(self):
        if self.proc.poll() is not None:
            with open(self.logfile, errors="replace") as f:
                tail = f.read()[-3000:]
            raise RuntimeError("%s exited (%s):\n%s" % (self.name, self.proc.returncode, tail))
