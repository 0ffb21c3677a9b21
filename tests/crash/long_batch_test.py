#!/usr/bin/env python3
"""A long batch does not block the daemon: batches run on a worker thread, so while one
lasts (60 events at --event-delay 100ms, local exactly-once) /metrics answers, the stats
line keeps coming and SIGTERM is taken at once: the daemon says it stops after the current
batch, finishes it (its rows committed with finish_batch, each once) and exits 0.

  long_batch_test.py MIRROR_CONSUMER_BINARY
"""
import signal
import urllib.request

import crashlib as cl

N = 60


def main(workdir, binary):
    with cl.shared_cluster_db("long_batch") as (db, dsn):
        d = None
        try:
            cl.make_queue(db, "q")
            db.q("create table sink (ev_id bigint, ev_data text)")
            db.q("select pgq.register_consumer('q', 'c')")
            cl.produce(db, "q", N, N)  # one batch
            port = cl.free_port()
            d = cl.Daemon(binary, workdir, "long", [
                "--db", dsn, "--queue", "q", "--consumer", "c", "--target", "sink",
                "--fetch-size", "10", "--event-delay", "100ms", "--metrics-port", str(port),
                "--stats-period", "200ms", "--poll-period", "200ms"])

            def in_batch():  # the daemon's batch transaction is open, nothing of it committed
                return db.one("select count(*) from pg_stat_activity where datname = current_database() "
                              "and pid <> pg_backend_pid() and xact_start is not null") > 0 \
                    and db.one("select count(*) from sink") == 0
            cl.wait_for("the batch to start", in_batch, 30, [d])
            stats_before = d.log().count("{events: ")
            # the backlog, read before the batch: pgq's pending_events (the batch is not finished)
            pending = db.one("select pending_events from pgq.get_consumer_info('q', 'c')")
            if pending <= 0:
                raise cl.TestFailure("pending_events is %d before the first batch" % pending)
            metrics = []
            cl.wait_for("/metrics to show pgqpp_consumer_lag_events %d" % pending, lambda: metrics.append(
                urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30).read().decode())
                or "\npgqpp_consumer_lag_events %d\n" % pending in metrics[-1], 30, [d])
            cl.wait_for("a stats line during the batch", lambda: d.log().count("{events: ") > stats_before, 30, [d])
            if "lag_events: %d" % pending not in d.log():
                raise cl.TestFailure("no 'lag_events: %d' in the stats line\n%s" % (pending, d.tail()))
            if not in_batch():
                raise cl.TestFailure("the batch ended before the checks: make it longer")
            d.p.send_signal(signal.SIGTERM)
            cl.wait_for("'stopping after the current batch'",
                        lambda: "stopping after the current batch" in d.log(), 30, [d])
            if not in_batch():
                raise cl.TestFailure("the batch ended before SIGTERM was seen: make it longer")
            rc = d.p.wait(60)
            if rc != 0:
                raise cl.TestFailure("exit %d after SIGTERM, expected 0\n%s" % (rc, d.tail()))
            cl.check_each_once(db, "sink", "ev_data", N)
            if not cl.consumer_done(db, "q", "c"):
                raise cl.TestFailure("the batch was not finished before the exit")
            print("ok: /metrics and the stats line during a long batch; SIGTERM finished it, exit 0, "
                  "%d rows each once" % N)
        finally:
            if d:
                d.kill()


cl.run(main)
