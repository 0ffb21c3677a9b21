#!/usr/bin/env python3
"""Commit -> tick latency of pgqpp-ticker at a steady event rate, ours and the real PgQ
(docs/ticker.md). Not a ctest: a measurement, run by hand on a private cluster.

  latency_probe.py TICKER_BINARY PGQ_INSTALL_SQL [RATE [SECONDS ["key = value"...]]]

TICKER_BINARY is pgqpp-ticker or pgqd: both get the same [pgqd] file.

For every event: the time of the first tick whose snapshot contains the event's
transaction, minus the event's ev_time (one insert per autocommit transaction, so ev_time
is within microseconds of the commit). All from the server's clock. The first 1.2 s are
left out (a ticker that was idle wakes up within ticker_period); the cold start is printed
separately.
"""
import os, subprocess, sys, tempfile, time
import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import pgqpp_clientlib as lib  # noqa: E402  (start_private_cluster, stop_private_cluster)

binary, install_sql = sys.argv[1], sys.argv[2]
rate = float(sys.argv[3]) if len(sys.argv) > 3 else 1000.0
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
extra = sys.argv[5:]
cl = os.path.join(tempfile.mkdtemp(prefix="pgqpp-ticker-lat-"), "pg")
env = lib.start_private_cluster(cl)
try:
    base = "host='%s' port=%s user='%s'" % (env["PGHOST"], env["PGPORT"], env["PGUSER"])

    def cur(db):
        c = psycopg2.connect(base + " dbname=" + db)
        c.autocommit = True
        return c.cursor()
    cur("postgres").execute("create database lat_ours")
    cur("postgres").execute("create database lat_pgq")
    subprocess.run(["psql", "-Xq", "-v", "ON_ERROR_STOP=1", "-f", install_sql,
                    base + " dbname=lat_ours"], check=True, stdout=subprocess.DEVNULL)
    cur("lat_pgq").execute("create extension pgq")
    for db in ("lat_ours", "lat_pgq"):
        c = cur(db)
        c.execute("select pgq.create_queue('q')")
        c.execute("select pgq.set_queue_config('q', 'ticker_max_lag', '0')")
    # one pgqd-style file for both pgqd and pgqpp-ticker (extra args: more "key = value")
    ini = os.path.join(os.path.dirname(cl), "ticker.ini")
    with open(ini, "w") as f:
        f.write("[pgqd]\nbase_connstr = %s\ndatabase_list = lat_ours, lat_pgq\nsyslog = 0\n"
                "logfile = %s\n" % (base, os.path.join(os.path.dirname(cl), "ticker.log")))
        for kv in extra:
            f.write(kv + "\n")
    t = subprocess.Popen([binary, ini])
    time.sleep(1)
    for db in ("lat_ours", "lat_pgq"):
        c = cur(db)
        n = int(rate * seconds)
        t0 = time.time()
        for i in range(n):
            c.execute("select pgq.insert_event('q', 'x', 'y')")
            d = t0 + (i + 1) / rate - time.time()
            if d > 0:
                time.sleep(d)
        real_rate = n / (time.time() - t0)
        time.sleep(1.5)
        c.execute("select queue_data_pfx || '_0', queue_id from pgq.queue where queue_name = 'q'")
        tbl, qid = c.fetchone()
        lat = ("select extract(epoch from (select min(t.tick_time) from pgq.tick t "
               "where t.tick_queue = %d and txid_visible_in_snapshot(e.ev_txid, t.tick_snapshot))"
               " - e.ev_time) * 1000 as lat, e.ev_time > (select min(ev_time) + interval '1.2 s' "
               "from %s) as steady from %s e" % (qid, tbl, tbl))
        c.execute("select steady, percentile_cont(array[0.5, 0.99]) within group (order by lat), "
                  "max(lat), count(*) from (%s) s group by steady order by steady desc" % lat)
        for steady, pp, mx, cnt in c.fetchall():
            if pp is None or pp[0] is None:
                print("%s %s: %d events, none ticked" % (db, "steady" if steady else "first 1.2 s", cnt))
                continue
            p50, p99 = pp
            print("%s %s: %.0f events/s, %d events: p50 %.2f ms, p99 %.2f ms, max %.1f ms"
                  % (db, "steady" if steady else "first 1.2 s", real_rate, cnt, p50, p99, mx))
        c.execute("select count(*) from pgq.tick where tick_queue = %s", [qid])
        print("%s: %d ticks" % (db, c.fetchone()[0]))
    t.terminate()
    t.wait()
finally:
    lib.stop_private_cluster(cl)
