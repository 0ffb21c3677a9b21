#!/usr/bin/env python3
"""pgqpp-ticker as a black box against a private PostgreSQL cluster (never the shared one:
the ticker serves every database it finds, and the test restarts the server).

  ticker_test.py TICKER_BINARY PGQ_INSTALL_SQL

Scenarios: bad configuration (unknown key, bad connstr); several databases (ours and the
real PgQ extension) served by one ticker found from base_connstr; a database without pgq
skipped; a database created while the ticker runs gets served; retry events moved; low
latency ticks; rotation with a 10-second rotation_period under load; a second ticker
standing by on the leader lock and taking over; SIGHUP reload adding a database to
database_list; a PostgreSQL restart mid-run; /metrics; SIGTERM exit 0.
"""
import os
import re
import signal
import socket
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import pgqpp_clientlib as lib  # noqa: E402  (start_private_cluster, stop_private_cluster)

SRC = os.environ.get("PGQPP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
RESTART_SH = os.path.join(SRC, "tests", "support", "pg_restart.sh")

binary, install_sql = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="pgqpp-ticker-")
cluster = os.path.join(work, "pg")
procs = []
passed = False


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    for p in procs:
        if p.poll() is None:
            p.kill()
        print("---- log of ticker %s:" % p.args, file=sys.stderr)
        try:
            print(open(p.logpath).read()[-6000:], file=sys.stderr)
        except OSError:
            pass
    raise SystemExit(1)


def wait_for(what, fn, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if fn():
                return
        except (psycopg2.Error, OSError):
            pass
        time.sleep(0.05)
    fail("timed out waiting for: " + what)


env = lib.start_private_cluster(cluster)
try:
    base = "host='%s' port=%s user='%s'" % (env["PGHOST"], env["PGPORT"], env["PGUSER"])

    def connect(db):
        c = psycopg2.connect(base + " dbname='%s'" % db)
        c.autocommit = True
        return c

    def q(db, sql, args=None):
        c = connect(db)
        try:
            cur = c.cursor()
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None
        finally:
            c.close()

    def make_db(name, kind):
        q("postgres", "create database %s" % name)
        if kind == "ours":
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", install_sql,
                            base + " dbname=" + name], check=True, stdout=subprocess.DEVNULL)
        elif kind == "pgq":
            q(name, "create extension pgq")
        if kind:
            q(name, "select pgq.create_queue('q')")
            q(name, "select pgq.set_queue_config('q', 'ticker_max_lag', '0')")

    def last_tick(db):
        return q(db, "select coalesce(max(tick_id), 0) from pgq.tick t join pgq.queue q "
                     "on q.queue_id = t.tick_queue where q.queue_name = 'q'")[0][0]

    def free_port():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        return p

    def start_ticker(name, args):
        logpath = os.path.join(work, name + ".log")
        p = subprocess.Popen([binary] + args, stdout=open(logpath, "w"), stderr=subprocess.STDOUT)
        p.logpath = logpath
        procs.append(p)
        return p

    def log_of(p):
        return open(p.logpath).read()

    def metrics(port):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            return r.read().decode()

    def metric(port, name, db):
        m = re.search(r'^%s\{database="%s"\} (\S+)$' % (name, db), metrics(port), re.M)
        return float(m.group(1)) if m else None

    # ---- bad configuration: one clear line, non-zero exit -------------------------------
    bad = os.path.join(work, "bad.ini")
    with open(bad, "w") as f:
        f.write("[pgqd]\nbase_connstr = %s\nloop_delay = 1\n" % base)
    r = subprocess.run([binary, bad], capture_output=True, text=True, timeout=10)
    if r.returncode == 0 or "loop_delay" not in r.stderr:
        fail("unknown key: rc %d, %r" % (r.returncode, r.stderr))
    r = subprocess.run([binary, "--base-connstr", "nosuchkey=1"], capture_output=True,
                       text=True, timeout=10)
    if r.returncode == 0 or "nosuchkey" not in r.stderr + r.stdout:
        fail("bad connstr: rc %d, %r" % (r.returncode, r.stderr + r.stdout))
    # every pgqd key, as pgqd's sample writes them (float seconds), loads
    pgqd_ini = os.path.join(work, "pgqd.ini")
    with open(pgqd_ini, "w") as f:
        f.write("[pgqd]\nlogfile = %s/pgqd.log\npidfile = %s/pgqd.pid\nbase_connstr = %s\n"
                "initial_database = postgres\ndatabase_list = a, b c\nsyslog = 0\n"
                "syslog_ident = pgqd\nsyslog_facility = local0\ncheck_period = 60\n"
                "maint_period = 120\nretry_period = 30\nticker_period = 0.5\n"
                "stats_period = 30\nconnection_lifetime = 3600\n" % (work, work, base))
    r = subprocess.run([binary, "--check-config", pgqd_ini], capture_output=True, text=True,
                       timeout=10)
    if r.returncode != 0:
        fail("pgqd's keys: rc %d, %r" % (r.returncode, r.stderr))
    print("ok: bad configuration; pgqd's keys load")

    # ---- several databases, autodetected -------------------------------------------------
    make_db("db_ours", "ours")
    make_db("db_pgq", "pgq")
    make_db("db_plain", None)
    port1 = free_port()
    cfg1 = os.path.join(work, "t1.ini")
    with open(cfg1, "w") as f:
        f.write("[pgqd]\nbase_connstr = %s\ninitial_database = postgres\ncheck_period = 1\n"
                "maint_period = 1\nretry_period = 0.5\nticker_period = 0.5\nstats_period = 1\n"
                "syslog = 0\nmetrics_port = %d\n" % (base, port1))
    t1 = start_ticker("t1", [cfg1])
    for db in ("db_ours", "db_pgq"):
        before = last_tick(db)
        q(db, "select pgq.insert_event('q', 'x', 'y')")
        wait_for("a tick in " + db, lambda: last_tick(db) > before)
    wait_for("db_plain skipped", lambda: metric(port1, "pgqpp_ticker_database_skipped", "db_plain") == 1)
    time.sleep(2.5)  # check_period 1: looked at again, but logged only once
    if log_of(t1).count("[db_plain] no pgq schema") != 1:
        fail("db_plain's skip not logged exactly once")
    idle_calls = metric(port1, "pgqpp_ticker_ticker_calls_total", "db_ours")
    time.sleep(2)
    idle_calls = metric(port1, "pgqpp_ticker_ticker_calls_total", "db_ours") - idle_calls
    print("ok: idle db_ours: %d pgq.ticker() calls in 2 s (ticker_period 0.5)" % idle_calls)
    if idle_calls > 8:
        fail("idle database called %d times in 2 s" % idle_calls)
    print("ok: several databases (ours and the real PgQ)")

    # ---- low latency: a committed event is in a tick within milliseconds ---------------
    for db in ("db_ours", "db_pgq"):
        lat = []
        c = connect(db)
        cur = c.cursor()
        for _ in range(30):
            cur.execute("select pgq.insert_event('q', 'x', 'y')")
            ev_id = cur.fetchone()[0]
            t0 = time.time()
            while True:
                cur.execute("select count(*) from pgq.tick where tick_event_seq >= %s", [ev_id])
                if cur.fetchone()[0] > 0:
                    break
                if time.time() - t0 > 5:
                    fail("no tick after an insert in " + db)
                time.sleep(0.0005)
            lat.append(time.time() - t0)
            time.sleep(0.01)
        c.close()
        lat.sort()
        print("ok: %s insert->tick p50 %.1f ms, max %.1f ms" % (db, lat[15] * 1e3, lat[-1] * 1e3))
        if lat[15] > 0.05:
            fail("insert->tick p50 %.1f ms in %s" % (lat[15] * 1e3, db))

    # ---- consumers behind: the ticker backs off instead of splitting their backlog ------
    # A consumer that never takes its batches, events every ~3 ms for 1.5 s: a tick per
    # tick_min_interval (2 ms) would make hundreds of one-event ticks; once the consumer
    # has two ticks to take the ticker backs off (at most 16 x 2 ms), so a few dozen, and
    # it still ticks.
    for db in ("db_ours", "db_pgq"):
        q(db, "select pgq.create_queue('qb')")
        q(db, "select pgq.set_queue_config('qb', 'ticker_max_lag', '0')")
        q(db, "select pgq.register_consumer('qb', 'slow')")
        qb_ticks = ("select count(*) from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue"
                    " where q.queue_name = 'qb'")
        before = q(db, qb_ticks)[0][0]
        c = connect(db)
        cur = c.cursor()
        t0 = time.time()
        while time.time() - t0 < 1.5:
            cur.execute("select pgq.insert_event('qb', 'x', 'y')")
            time.sleep(0.003)
        c.close()
        made = q(db, qb_ticks)[0][0] - before
        print("ok: %s: %d ticks in 1.5 s for a consumer that is behind" % (db, made))
        if made < 5 or made > 120:
            fail("%s: %d ticks in 1.5 s with the only consumer behind (expected 5..120)"
                 % (db, made))
        q(db, "select pgq.drop_queue('qb', true)")

    # ---- a database created while the ticker runs ----------------------------------------
    make_db("db_new", "ours")
    before = last_tick("db_new")
    q("db_new", "select pgq.insert_event('q', 'x', 'y')")
    wait_for("db_new served", lambda: last_tick("db_new") > before)
    q("postgres", "drop database db_new with (force)")
    wait_for("db_new forgotten", lambda: "database db_new is gone" in log_of(t1)
             and metric(port1, "pgqpp_ticker_database_up", "db_new") is None)
    print("ok: a database created while running is served, and forgotten when dropped")

    # ---- retry events moved --------------------------------------------------------------
    for db in ("db_ours", "db_pgq"):
        q(db, "select pgq.register_consumer('q', 'c')")
        q(db, "select pgq.insert_event('q', 'r', 'retry me')")
        def batch():
            b = q(db, "select pgq.next_batch('q', 'c')")[0][0]
            if b is None:
                return None
            evs = q(db, "select ev_id from pgq.get_batch_events(%s) where ev_type = 'r'", [b])
            if not evs:
                q(db, "select pgq.finish_batch(%s)", [b])
                return None
            q(db, "select pgq.event_retry(%s, %s, 0)", [b, evs[0][0]])
            q(db, "select pgq.finish_batch(%s)", [b])
            return True
        wait_for("the retry event in a batch of " + db, batch)
        wait_for("retry queue flushed in " + db,
                 lambda: q(db, "select count(*) from pgq.retry_queue")[0][0] == 0)
        wait_for("retry counted", lambda: (metric(port1, "pgqpp_ticker_retry_events_total", db) or 0) >= 1)
    print("ok: retry events moved")

    # ---- rotation, 10-second rotation_period under load, with a lock held a while ------
    stop_load = threading.Event()
    load_errors = []

    def load(db):
        try:
            c = connect(db)
            cur = c.cursor()
            while not stop_load.is_set():
                cur.execute("select pgq.insert_event('q', 'l', 'load')")
                cur.execute("select pgq.next_batch('q', 'c')")
                b = cur.fetchone()[0]
                if b is not None:
                    cur.execute("select pgq.finish_batch(%s)", [b])
                time.sleep(0.005)
            c.close()
        except Exception as e:  # noqa
            load_errors.append(repr(e))

    def cur_table(db):
        return q(db, "select queue_cur_table from pgq.queue where queue_name = 'q'")[0][0]

    loaders = []
    for db in ("db_ours", "db_pgq"):
        q(db, "select pgq.set_queue_config('q', 'rotation_period', '10 seconds')")
        th = threading.Thread(target=load, args=(db,), daemon=True)
        th.start()
        loaders.append(th)
    # db_ours: a session holds a lock on every event table; our rotation never waits on a
    # lock (it skips the round), so it must not rotate while the lock is held, and must
    # rotate in a later round once the lock goes. db_pgq: no lock (PgQ's step1 would wait).
    locker = connect("db_ours")
    locker.autocommit = False
    lcur = locker.cursor()
    lcur.execute("select queue_data_pfx from pgq.queue where queue_name = 'q'")
    pfx = lcur.fetchone()[0]
    for i in range(3):
        lcur.execute("lock table %s_%d in access share mode" % (pfx, i))
    start_tables = {db: cur_table(db) for db in ("db_ours", "db_pgq")}
    wait_for("rotation in db_pgq", lambda: cur_table("db_pgq") != start_tables["db_pgq"], timeout=20)
    # make sure db_ours' rotation is overdue (switch older than rotation_period + 2 maint rounds)
    wait_for("db_ours overdue", lambda: q("db_ours", "select now() - queue_switch_time > '12 s' "
             "from pgq.queue where queue_name = 'q'")[0][0], timeout=20)
    if cur_table("db_ours") != start_tables["db_ours"]:
        fail("db_ours rotated while a session held a lock on its tables")
    locker.rollback()
    locker.close()
    wait_for("rotation in db_ours once the lock went",
             lambda: cur_table("db_ours") != start_tables["db_ours"], timeout=10)
    stop_load.set()
    for th in loaders:
        th.join()
    if load_errors:
        fail("load: %s" % load_errors)
    print("ok: rotation under load (with a lock held for a while)")

    # ---- a second ticker stands by, reload adds a database, takes over -------------------
    port2 = free_port()
    cfg2 = os.path.join(work, "t2.ini")

    def write_cfg2(dbs):
        with open(cfg2, "w") as f:
            f.write("[pgqd]\nbase_connstr = %s\ndatabase_list = %s\nticker_period = 0.2\n"
                    "syslog = 0\nmetrics_port = %d\nretry_period = 0.5\n"
                    "connection_lifetime = 1\n" % (base, dbs, port2))
    write_cfg2("db_ours")
    t2 = start_ticker("t2", [cfg2])
    wait_for("t2 standing by", lambda: metric(port2, "pgqpp_ticker_database_standby", "db_ours") == 1)
    write_cfg2("db_ours, db_pgq")
    t2.send_signal(signal.SIGHUP)
    wait_for("t2 serves db_pgq after SIGHUP", lambda: metric(port2, "pgqpp_ticker_database_standby", "db_pgq") == 1)
    print("ok: second ticker stands by; SIGHUP added a database")
    t1.send_signal(signal.SIGTERM)
    if t1.wait(timeout=15) != 0:
        fail("t1 exit code %s" % t1.returncode)
    before = last_tick("db_pgq")
    q("db_pgq", "select pgq.insert_event('q', 'x', 'y')")
    wait_for("t2 took over db_pgq", lambda: last_tick("db_pgq") > before)
    wait_for("t2 up", lambda: metric(port2, "pgqpp_ticker_database_up", "db_ours") == 1)
    print("ok: the standby took over")

    # connection_lifetime = 1: t2's ticker connection to db_ours is replaced
    def ticker_pids():
        return set(r[0] for r in q("db_ours", "select pid from pg_stat_activity where "
                                             "application_name = 'pgqpp-ticker' and datname = 'db_ours'"))
    first = ticker_pids()
    wait_for("a new ticker connection after connection_lifetime",
             lambda: ticker_pids() and not (ticker_pids() & first), timeout=10)
    # a reload with a broken file keeps the old configuration
    with open(cfg2, "a") as f:
        f.write("no_such_key = 1\n")
    t2.send_signal(signal.SIGHUP)
    wait_for("reload failure logged", lambda: "reload failed" in log_of(t2))
    if t2.poll() is not None:
        fail("t2 died on a bad reload")
    write_cfg2("db_ours, db_pgq")
    print("ok: connection_lifetime; a bad reload keeps the old configuration")

    # ---- two tickers without the leader lock on our SQL: ticks serialised, events once ----
    make_db("db_dup", "ours")
    q("db_dup", "select pgq.register_consumer('q', 'c')")
    dups = [start_ticker("dup%d" % i, ["--base-connstr", base, "--database-list", "db_dup",
                                      "--leader-lock=0", "--syslog=0", "--tick-min-interval",
                                      "1ms"]) for i in (1, 2)]
    n_threads, n_tx, per_tx = 4, 100, 5

    def produce():
        c = connect("db_dup")
        c.autocommit = False
        cur = c.cursor()
        for _ in range(n_tx):
            for _ in range(per_tx):
                cur.execute("select pgq.insert_event('q', 'd', 'x')")
            c.commit()
        c.close()
    producers = [threading.Thread(target=produce) for _ in range(n_threads)]
    for th in producers:
        th.start()
    seen = []
    c = connect("db_dup")
    cur = c.cursor()
    end = time.time() + 30
    while len(seen) < n_threads * n_tx * per_tx and time.time() < end:
        cur.execute("select pgq.next_batch('q', 'c')")
        b = cur.fetchone()[0]
        if b is None:
            time.sleep(0.005)
            continue
        cur.execute("select ev_id from pgq.get_batch_events(%s)", [b])
        seen += [r[0] for r in cur.fetchall()]
        cur.execute("select pgq.finish_batch(%s)", [b])
    for th in producers:
        th.join()
    c.close()
    if len(seen) != n_threads * n_tx * per_tx or len(set(seen)) != len(seen):
        fail("two tickers: %d events delivered, %d distinct, %d expected"
             % (len(seen), len(set(seen)), n_threads * n_tx * per_tx))
    bad = q("db_dup", "select count(*) from (select tick_id, txid_snapshot_xmax(tick_snapshot) x, "
                      "lag(txid_snapshot_xmax(tick_snapshot)) over (order by tick_id) px "
                      "from pgq.tick) t where x < px")[0][0]
    if bad:
        fail("two tickers: %d tick snapshots out of order" % bad)
    for p in dups:
        p.send_signal(signal.SIGTERM)
        if p.wait(timeout=15) != 0:
            fail("dup ticker exit code %s" % p.returncode)
    print("ok: two tickers on our SQL without the lock: every event once")

    # ---- PostgreSQL restart mid-run ------------------------------------------------------
    subprocess.run(["bash", RESTART_SH, cluster], check=True)
    before = last_tick("db_ours")
    q("db_ours", "select pgq.insert_event('q', 'x', 'y')")
    wait_for("ticks after the restart", lambda: last_tick("db_ours") > before, timeout=20)
    if t2.poll() is not None:
        fail("t2 died on restart")
    print("ok: survived a restart")

    t2.send_signal(signal.SIGTERM)
    if t2.wait(timeout=15) != 0:
        fail("t2 exit code %s" % t2.returncode)
    # extra maintenance function (select "public"."slow"($1)), cancelled by SIGTERM
    for db in ("db_ours", "db_pgq"):
        q(db, "create function public.slow(text) returns int language sql as "
              "'select pg_sleep(60); select 0'")
        q(db, "update pgq.queue set queue_extra_maint = array['public.slow'] where queue_name = 'q'")
        t4 = start_ticker("t4_" + db, ["--base-connstr", base, "--database-list", db,
                                       "--syslog=0", "--maint-period", "1"])
        wait_for("slow maintenance running in " + db,
                 lambda: q(db, "select count(*) from pg_stat_activity where query like "
                               "'select \"public\".\"slow\"($1)%%'")[0][0] > 0)
        t0 = time.time()
        t4.send_signal(signal.SIGTERM)
        if t4.wait(timeout=15) != 0 or time.time() - t0 > 5:
            fail("SIGTERM during a maintenance function: rc %s after %.1f s"
                 % (t4.returncode, time.time() - t0))
        q(db, "update pgq.queue set queue_extra_maint = null where queue_name = 'q'")
    print("ok: extra maintenance function called; SIGTERM cancels it")

    if "ticks:" not in log_of(t1):
        fail("no stats line")
    print("ok: all")
    passed = True
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
    lib.stop_private_cluster(cluster)
    if passed:      # the tickers' logs stay for the post-mortem of a failure
        shutil.rmtree(work, ignore_errors=True)
