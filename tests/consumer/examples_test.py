#!/usr/bin/env python3
"""The consumer examples of docs/consumer.md (examples/consumer/*.cpp) as processes, each
against fresh databases of ours:

  order_totals   local: per-customer sums exactly as produced; bad amounts dead-lettered
  copy_to_remote remote + batch handler: every event COPYed once into the target;
                 --delivery (not an option of a one-mode program) and a missing --target-db
                 refused (exit 2)
  event_log      at-least-once: one line per event; "poison" retried, then dead-lettered
                 after --max-retries 3 (the test moves retries and ticks, as pgqd would);
                 requeued by the operator, they come back and die again
  coop_worker    two members share the batches: every job once, both members worked

  examples_test.py NAME BINARY
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crash"))
import crashlib as cl  # noqa: E402

name, binary = sys.argv[1], sys.argv[2]


def new_db(env, hint):
    db_name = "t_example_consumer_%s_%d" % (hint, int(time.time() * 1000) % 10**9)
    cl.lib.new_db(env, db_name, "tmpl_ours")
    return db_name


def order_totals(env, workdir, db, dsn):
    db.q("create table order_totals (customer text primary key, orders bigint, total numeric)")
    for i in range(6):  # 6 batches of 50 orders: customer c<k>, amount k.25
        db.q("begin; select count(pgq.insert_event('q', 'order', 'c' || (g %% 3), "
             "(g %% 3) || '.25', null, null, null)) from generate_series(%s, %s) g; commit",
             (i * 50, i * 50 + 49))
        db.q("select pgq.ticker('q')")
    db.q("select pgq.insert_event('q', 'order', 'c0', 'ten', null, null, null)")
    db.q("select pgq.insert_event('q', 'order', 'c1', null, null, null, null)")
    db.q("select pgq.ticker('q')")
    d = cl.Daemon(binary, workdir, name, ["--db", dsn, "--queue", "q", "--consumer", "c",
                                          "--poll-period", "200ms"])
    cl.wait_for("the orders", lambda: cl.consumer_done(db, "q", "c"), 60, [d])
    d.stop()
    got = db.q("select customer, orders, total::text from order_totals order by customer")
    want = [("c0", 100, "25.00"), ("c1", 100, "125.00"), ("c2", 100, "225.00")]
    if got != want:
        raise cl.TestFailure("totals %s, expected %s" % (got, want))
    dead = db.one("select count(*) from pgq.dead_letter_list('q', 'c') where dl_reason = 'bad amount'")
    if dead != 2:
        raise cl.TestFailure("%d dead letters 'bad amount', expected 2" % dead)
    return "300 orders summed once, 2 bad amounts dead-lettered"


def copy_to_remote(env, workdir, db, dsn):
    target = new_db(env, "copy_target")
    try:
        tdb = cl.Db(cl.lib.connstr(env, target))
        tdb.q("create table events_copy (ev_id bigint, ev_type text, ev_data text)")
        args = ["--db", dsn, "--queue", "q", "--consumer", "c", "--target-db",
                cl.lib.connstr(env, target), "--table", "events_copy", "--fetch-size", "100",
                "--poll-period", "200ms"]
        bad = cl.Daemon(binary, workdir, name + "-bad", args + ["--delivery", "local"])
        if bad.p.wait(30) != 2 or "delivery" not in bad.log():  # a program of one mode
            raise cl.TestFailure("--delivery local: exit %s\n%s" % (bad.p.returncode, bad.tail()))
        bad = cl.Daemon(binary, workdir, name + "-bad2", args[:6] + args[8:])  # no --target-db
        if bad.p.wait(30) != 2 or "target_db" not in bad.log().replace("-", "_"):
            raise cl.TestFailure("no --target-db: exit %s\n%s" % (bad.p.returncode, bad.tail()))
        cl.produce(db, "q", 5000, 1000)
        d = cl.Daemon(binary, workdir, name, args)
        cl.wait_for("the copy", lambda: cl.consumer_done(db, "q", "c"), 60, [d])
        d.stop()
        cl.check_each_once(tdb, "events_copy", "ev_data", 5000)
        wrong = tdb.one("select count(*) from events_copy where ev_type <> 't'")
        done = tdb.one("select count(*) from pgq_ext.completed_batch where consumer_id = 'c'")
        if wrong or done != 1:
            raise cl.TestFailure("%d rows with a wrong type, %d pgq_ext rows" % (wrong, done))
        tdb.close()
        return "5000 events copied once (COPY per batch, 100-event chunks)"
    finally:
        cl.lib.drop_db(env, target)


def event_log(env, workdir, db, dsn):
    out = os.path.join(workdir, "events.log")
    cl.produce(db, "q", 200, 50)
    db.q("select pgq.insert_event('q', 'poison', 'p' || g) from generate_series(1, 2) g")
    db.q("select pgq.ticker('q')")
    d = cl.Daemon(binary, workdir, name, ["--db", dsn, "--queue", "q", "--consumer", "c",
                                          "--output", out,
                                          "--max-retries", "3", "--poll-period", "200ms"])

    def dead_lettered():  # the test is the ticker: retries moved back, ticks made
        db.q("select pgq.maint_retry_events()")
        db.q("select pgq.ticker('q')")
        return db.one("select count(*) from pgq.dead_letter_list('q', 'c') "
                      "where dl_reason = 'too many retries (3)'") == 2
    cl.wait_for("the poison events in the dead letters", dead_lettered, 60, [d])
    # The operator requeues them: they come back to this consumer with ev_retry 4 and,
    # still poison, go straight back to the dead letters.
    requeued = db.one("select pgq.dead_letter_requeue(array(select dl_id from "
                      "pgq.dead_letter_list('q', 'c')))")
    if requeued != 2:
        raise cl.TestFailure("dead_letter_requeue requeued %s, expected 2" % requeued)

    def dead_again():
        db.q("select pgq.maint_retry_events()")
        db.q("select pgq.ticker('q')")
        return db.one("select count(*) from pgq.dead_letter_list('q', 'c') "
                      "where dl_reason = 'too many retries (4)'") == 2
    cl.wait_for("the requeued events back in the dead letters", dead_again, 60, [d])
    cl.wait_for("the rest", lambda: cl.consumer_done(db, "q", "c"), 30, [d])
    d.stop()
    with open(out) as f:
        ids = [line.split(" ")[0] for line in f]
    if len(ids) != 200 or len(set(ids)) != 200:
        raise cl.TestFailure("%d lines, %d distinct ids; expected 200" % (len(ids), len(set(ids))))
    return "200 lines, 2 poison events dead-lettered after 3 retries, requeued, dead again"


def coop_worker(env, workdir, db, dsn):
    db.q("create table job_results (ev_id bigint primary key, worker text, result text)")
    cl.produce(db, "q", 2000, 50)  # 40 batches
    members = [cl.Daemon(binary, workdir, "%s-%s" % (name, w), [
        "--db", dsn, "--queue", "q", "--consumer", "c", "--subconsumer", w,
        "--dead-interval", "1min", "--work-time", "2ms", "--poll-period", "200ms"])
        for w in ("w1", "w2")]
    cl.wait_for("the jobs", lambda: cl.consumer_done(db, "q", "c"), 90, members)
    for m in members:
        m.stop()
    if db.one("select count(*) from job_results") != 2000:
        raise cl.TestFailure("%d results, expected 2000" % db.one("select count(*) from job_results"))
    per_worker = dict(db.q("select worker, count(*) from job_results group by worker"))
    if set(per_worker) != {"w1", "w2"}:
        raise cl.TestFailure("not both members worked: %s" % per_worker)
    return "2000 jobs once, shared %s" % per_worker


def main(workdir, _binary):
    env = cl.lib.load_cluster_env()
    db_name = new_db(env, name)
    dsn = cl.lib.connstr(env, db_name)
    db = cl.Db(dsn)
    try:
        cl.make_queue(db, "q")
        db.q("select pgq.register_consumer('q', 'c')")
        print("ok: %s: %s" % (name, globals()[name](env, workdir, db, dsn)))
    finally:
        db.close()
        cl.lib.drop_db(env, db_name)


sys.argv = [sys.argv[0], binary]
cl.run(main)
