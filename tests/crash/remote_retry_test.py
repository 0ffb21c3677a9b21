#!/usr/bin/env python3
"""Retries survive a crash between the target commit and finish_batch (remote mode).

mirror_consumer (remote exactly-once into a table of the same database, through pgq_ext)
retries events of type 'retry' once. It is killed at the failpoint after_target_commit:
the target says the batch is done, the queue has not finished it. The restarted daemon
skips the batch, so the retries decided in it must already be in the queue's database: at
the end every event, retried ones included, is in the target exactly once.

  remote_retry_test.py MIRROR_CONSUMER_BINARY
"""

import crashlib as cl

N, EVERY = 200, 10  # 200 events in one batch, each 10th of type 'retry'


def main(workdir, binary):
    with cl.shared_cluster_db("remote_retry") as (db, dsn):
        daemon = None
        try:
            cl.make_queue(db, "q")
            db.q("create table sink (ev_id bigint, ev_data text)")  # no key: duplicates show
            db.q("select pgq.register_consumer('q', 'mirror')")
            db.q("select count(pgq.insert_event('q', case when g %% %d = 0 then 'retry' else 't' end,"
                 " g::text)) from generate_series(0, %d) g" % (EVERY, N - 1))
            db.q("select pgq.ticker('q')")
            args = ["--db", dsn, "--queue", "q", "--consumer", "mirror", "--delivery", "remote",
                    "--target-db", dsn, "--target", "sink", "--retry-delay", "0s",
                    "--poll-period", "100ms"]

            daemon = cl.Daemon(binary, workdir, "mirror-1", args,
                               {"PGQPP_FAILPOINT": "after_target_commit"})
            rc = daemon.p.wait(30)
            if rc != -9:
                raise cl.TestFailure("failpoint after_target_commit: exit %s, expected SIGKILL\n%s"
                                     % (rc, daemon.tail()))
            applied = db.one("select count(*) from sink")
            if applied != N - N // EVERY:
                raise cl.TestFailure("%d rows after the first batch, expected %d (all but the retries)"
                                     % (applied, N - N // EVERY))

            daemon = cl.Daemon(binary, workdir, "mirror-2", args)

            def all_there():
                db.q("select pgq.maint_retry_events()")   # due retries back into the queue
                db.q("select pgq.ticker('q')")
                return db.one("select count(*) from sink") >= N and cl.consumer_done(db, "q", "mirror")

            cl.wait_for("every event, retried ones too, in the target", all_there, 60, [daemon])
            cl.check_each_once(db, "sink", "ev_data", N)
            daemon.stop()
            print("ok: killed after the target commit; %d retried events came back; %d rows, each once"
                  % (N // EVERY, N))
        finally:
            if daemon:
                daemon.kill()


cl.run(main)
