#!/usr/bin/env python3
"""Retried events of a remote consumer come back exactly once, whatever commit it dies at.

mirror_consumer (remote exactly-once into a table of the same database, through pgq_ext)
retries events of type 'retry' once. It is killed at a failpoint with the retries decided,
the retried events are moved back into the queue while it is down (retry delay 0 s), and a
restarted daemon finishes the work: at the end every event, retried ones included, is in the
target exactly once.

  after_target_commit   the target committed the batch (pgq_ext.set_batch_done) and its
                        retries (pgq_ext.set_batch_outcome); the queue has neither the
                        retries nor finish_batch. The restart skips the batch as done and must
                        hand the queue the recorded retries.
  before_target_commit  nothing committed yet. The restart redoes the batch; the retries
                        must not be in the queue already (they would come back twice).
  after_target_commit, target without set_batch_outcome (PgQ's pgq_ext): the retries were
                        committed in the queue before the target's commit.

  remote_retry_test.py MIRROR_CONSUMER_BINARY     (REMOTE_RETRY_ONLY=<scenario>: just that one)
"""

import os

import crashlib as cl

N, EVERY = 200, 10  # 200 events in one batch, each 10th of type 'retry'


def scenario(workdir, binary, name, failpoint, pgq_ext_with_outcomes):
    with cl.shared_cluster_db("remote_retry_" + name) as (db, dsn):
        daemon = None
        try:
            cl.make_queue(db, "q")
            if not pgq_ext_with_outcomes:
                db.q("drop function pgq_ext.get_batch_outcomes(text, text, bigint), "
                     "pgq_ext.get_batch_outcomes(text, bigint)")
            db.q("create table sink (ev_id bigint, ev_data text)")  # no key: duplicates show
            db.q("select pgq.register_consumer('q', 'mirror')")
            db.q("select count(pgq.insert_event('q', case when g %% %d = 0 then 'retry' else 't' end,"
                 " g::text)) from generate_series(0, %d) g" % (EVERY, N - 1))
            db.q("select pgq.ticker('q')")
            args = ["--db", dsn, "--queue", "q", "--consumer", "mirror", "--delivery", "remote",
                    "--target-db", dsn, "--target", "sink", "--retry-delay", "0s",
                    "--poll-period", "100ms"]

            daemon = cl.Daemon(binary, workdir, name + "-1", args, {"PGQPP_FAILPOINT": failpoint})
            rc = daemon.p.wait(30)
            if rc != -9:
                raise cl.TestFailure("%s: failpoint %s: exit %s, expected SIGKILL\n%s"
                                     % (name, failpoint, rc, daemon.tail()))
            expect = N - N // EVERY if failpoint == "after_target_commit" else 0
            applied = db.one("select count(*) from sink")
            if applied != expect:
                raise cl.TestFailure("%s: %d rows after the killed run, expected %d"
                                     % (name, applied, expect))
            # While it is down, the retries the queue has are due and go back into the queue.
            db.q("select pgq.maint_retry_events()")
            db.q("select pgq.ticker('q')")

            daemon = cl.Daemon(binary, workdir, name + "-2", args)

            def all_there():
                if db.one("select count(*) from sink") >= N:
                    return True
                db.q("select pgq.maint_retry_events()")
                db.q("select pgq.ticker('q')")
                return False

            cl.wait_for("%s: every event, retried ones too, in the target" % name, all_there, 60,
                        [daemon])
            db.q("select pgq.maint_retry_events()")   # anything retried twice would show now
            db.q("select pgq.ticker('q')")
            cl.wait_for("%s: the consumer at the last tick" % name,
                        lambda: cl.consumer_done(db, "q", "mirror"), 30, [daemon])
            try:
                cl.check_each_once(db, "sink", "ev_data", N)
            except cl.TestFailure as e:
                raise cl.TestFailure("%s: %s" % (name, e))
            left = db.one("select count(*) from pgq.retry_queue")
            if left:
                raise cl.TestFailure("%s: %d events still in the retry queue" % (name, left))
            daemon.stop()
            print("ok: %s: %d retried events came back once; %d rows, each once"
                  % (name, N // EVERY, N))
        finally:
            if daemon:
                daemon.kill()


SCENARIOS = {"after_target": ("after_target_commit", True),
             "before_target": ("before_target_commit", True),
             "pgq_ext_of_pgq": ("after_target_commit", False)}


def main(workdir, binary):
    only = os.environ.get("REMOTE_RETRY_ONLY")
    for name, (failpoint, with_outcomes) in SCENARIOS.items():
        if not only or only == name:
            scenario(workdir, binary, name, failpoint, with_outcomes)


cl.run(main)
