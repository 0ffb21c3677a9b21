#!/usr/bin/env python3
"""The issue's crash test: exactly-once in remote mode under crashes, on a private cluster.

A producer commits N rows (table rows, in the queue's database) and N events, 200 per
transaction, a tick after each, while examples/consumer/mirror_consumer mirrors the events
into a second database (--delivery remote, pgq_ext there) and the test:

  1. kills it 20 times: 14 SIGKILLs at random moments (0-0.5 s after a batch was seen
     open, its target transaction in pg_stat_activity; at least 7 of them with a batch
     open at the kill), and 6 self-inflicted ones at the failpoints (consumer/src/failpoint.hpp)
     after_target_commit and before_queue_commit: the target committed the batch, the queue
     did not finish it (checked: pgq_ext's last batch is the queue's open batch), so the next
     run must skip it; a restart after each;
  2. terminates the daemon's backends (pg_terminate_backend, queue and target) during a
     batch, 3 times: it reconnects;
  3. restarts PostgreSQL (`pg_ctl restart -m immediate`) during a batch, 2 times;
  4. lets it drain and stops it with SIGTERM (exit 0).

At the end the target holds exactly the N rows, each once.

  remote_crash_test.py MIRROR_CONSUMER_BINARY PGQ_INSTALL_SQL PGQ_EXT_INSTALL_SQL
"""
import random
import sys
import threading
import time

import psycopg2

import crashlib as cl

N, PER_TX = 16000, 200


class Producer(threading.Thread):
    """N rows + N events, PER_TX per transaction, a tick after each; survives restarts (a
    transaction whose COMMIT was cut is tried again; if it had committed, the rows' key
    says so)."""

    def __init__(self, dsn):
        super().__init__(daemon=True)
        self.dsn, self.error, self.conn = dsn, None, None

    def execute(self, sql, args):
        while True:
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg2.connect(self.dsn)
                    self.conn.autocommit = True
                self.conn.cursor().execute(sql, args)
                return
            except psycopg2.Error as e:
                if not cl.connection_broke(e, self.conn):
                    raise
                self.conn = None
                time.sleep(0.1)

    def run(self):
        try:
            for lo in range(0, N, PER_TX):
                hi = lo + PER_TX - 1
                try:
                    self.execute("begin; insert into rows select g, g::text from generate_series(%s, %s) g; "
                                 "select count(pgq.insert_event('q', 't', g::text)) "
                                 "from generate_series(%s, %s) g; commit", (lo, hi, lo, hi))
                except psycopg2.errors.UniqueViolation:
                    pass  # committed before the connection broke
                self.execute("select pgq.ticker('q')", None)
                time.sleep(0.05)
        except Exception as e:  # noqa: BLE001  (reported by the main thread)
            self.error = e


def main(workdir, binary):
    install_sql, ext_sql = sys.argv[2], sys.argv[3]
    seed = int(time.time())
    rng = random.Random(seed)
    print("seed", seed)
    pg = cl.PrivateCluster(workdir)
    daemon = None
    try:
        pg.create_db("src", [install_sql])
        pg.create_db("dst", [ext_sql])
        src, dst = cl.Db(pg.dsn("src", "checker")), cl.Db(pg.dsn("dst", "checker"))
        cl.make_queue(src, "q")
        src.q("create table rows (id bigint primary key, data text)")
        src.q("select pgq.register_consumer('q', 'mirror')")
        dst.q("create table mirror (ev_id bigint, ev_data text)")  # no key: duplicates show
        args = ["--db", pg.dsn("src"), "--queue", "q", "--consumer", "mirror",
                "--delivery", "remote", "--target-db", pg.dsn("dst"), "--target", "mirror",
                "--fetch-size", "50", "--event-delay", "500us", "--poll-period", "100ms"]
        producer = Producer(pg.dsn("src", "producer"))
        producer.start()
        runs = [0]

        def start(env=None):
            runs[0] += 1
            return cl.Daemon(binary, workdir, "mirror-%02d" % runs[0], args, env)

        def in_batch():  # the daemon's target transaction is open
            return dst.one("select count(*) from pg_stat_activity where datname = 'dst' "
                           "and pid <> pg_backend_pid() and xact_start is not null "
                           "and application_name <> 'checker'") > 0

        def wait_in_batch(d):
            cl.wait_for("a batch in progress (is the workload big enough?)", in_batch, 30, [d])

        # ---- 1. 20 kills -------------------------------------------------------------
        kinds = ["random"] * 14 + ["after_target_commit"] * 3 + ["before_queue_commit"] * 3
        rng.shuffle(kinds)
        mid_batch = 0
        for kind in kinds:
            if kind == "random":
                d = start()
                wait_in_batch(d)
                time.sleep(rng.uniform(0, 0.5))  # a few batches of ~0.1 s: any moment
                mid_batch += in_batch()
                d.kill()
                continue
            d = start({"PGQPP_FAILPOINT": kind})
            try:
                rc = d.p.wait(30)
            except Exception:
                d.kill()
                raise cl.TestFailure("failpoint %s never reached (no batch left?)\n%s" % (kind, d.tail()))
            if rc != -9:
                raise cl.TestFailure("failpoint %s: exit %s, expected SIGKILL\n%s" % (kind, rc, d.tail()))
            done = dst.one("select last_batch_id from pgq_ext.completed_batch where consumer_id = 'mirror'")
            open_batch = src.one("select current_batch from pgq.get_consumer_info('q', 'mirror')")
            if done is None or done != open_batch:
                raise cl.TestFailure("failpoint %s: target's last batch %s, queue's open batch %s: "
                                     "not between the target commit and finish_batch"
                                     % (kind, done, open_batch))
        mirrored = dst.one("select count(*) from mirror")
        print("20 kills (%d of 14 random ones mid-batch, 6 at failpoints): %d of %d rows mirrored"
              % (mid_batch, mirrored, N))
        if mid_batch < 7:
            raise cl.TestFailure("only %d random kills landed mid-batch" % mid_batch)

        # ---- 2. backends terminated, 3. server restarted, during batches ------------------
        daemon = start()
        for i in range(3):
            wait_in_batch(daemon)
            before = daemon.log().count("lost the database")
            src.q("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                  "where datname in ('src', 'dst') and pid <> pg_backend_pid() "
                  "and application_name not in ('checker', 'producer')")
            cl.wait_for("a reconnect", lambda: daemon.log().count("lost the database") > before, 30, [daemon])
        for i in range(2):
            wait_in_batch(daemon)
            before = daemon.log().count("lost the database")
            pg.restart()
            cl.wait_for("a reconnect after the restart",
                        lambda: daemon.log().count("lost the database") > before, 60, [daemon])
        print("3 terminated backends and 2 server restarts mid-batch: %d of %d rows mirrored"
              % (dst.one("select count(*) from mirror"), N))

        # ---- 4. drain -----------------------------------------------------------------
        producer.join(120)
        if producer.is_alive() or producer.error:
            raise cl.TestFailure("producer: %s" % (producer.error or "still running"))
        cl.wait_for("the mirror to drain", lambda: cl.consumer_done(src, "q", "mirror"), 120, [daemon])
        daemon.stop()
        cl.check_each_once(src, "rows", "id", N)
        cl.check_each_once(dst, "mirror", "ev_data", N)
        print("ok: %d rows + events, 20 kills, 3 terminated backends, 2 restarts: the target "
              "holds each row once" % N)
    except Exception:
        print(pg.server_log(), file=sys.stderr)
        raise
    finally:
        if daemon:
            daemon.kill()
        pg.stop()


cl.run(main)
