#!/usr/bin/env python3
"""Cooperative consumers as processes: three mirror_consumer members of one consumer
(--subconsumer m1/m2/m3, local exactly-once into a table without a key), one SIGKILLed while
it holds a batch. After --dead-interval another member takes the dead member's batch over
(its subscription row is gone); at the end every event's row is there exactly once, no
member holds a batch, and the two live members exit 0 on SIGTERM.

  coop_members_test.py MIRROR_CONSUMER_BINARY
"""

import crashlib as cl

N, PER_TX = 6000, 200  # 30 batches of 200 events


def main(workdir, binary):
    with cl.shared_cluster_db("coop_members") as (db, dsn):
        members = []
        try:
            cl.make_queue(db, "q")
            db.q("create table sink (ev_id bigint, ev_data text)")  # no key: duplicates show
            db.q("select pgq_coop.register_subconsumer('q', 'c', m) from unnest(array['m1','m2','m3']) m")
            cl.produce(db, "q", N, PER_TX)
            for m in ("m1", "m2", "m3"):
                members.append(cl.Daemon(binary, workdir, m, [
                    "--db", dsn, "--queue", "q", "--consumer", "c", "--subconsumer", m,
                    "--dead-interval", "2s", "--target", "sink", "--fetch-size", "50",
                    "--event-delay", "2ms", "--poll-period", "200ms"]))
            victim = members[0]
            held = []
            cl.wait_for("m1 to hold a batch", lambda: held.append(db.one(
                "select current_batch from pgq.get_consumer_info('q', 'c.m1')")) or held[-1],
                30, members)
            victim.kill()
            batch = db.one("select current_batch from pgq.get_consumer_info('q', 'c.m1')")
            if batch is None:
                raise cl.TestFailure("m1 was killed after finishing its batch: no batch to take over")
            print("m1 killed while holding batch %d" % batch)
            live = members[1:]
            cl.wait_for("the batches to be drained", lambda: cl.consumer_done(db, "q", "c"), 90, live)
            if db.q("select 1 from pgq.get_consumer_info('q', 'c.m1')"):
                raise cl.TestFailure("m1's subscription still exists: its batch was not taken over")
            # no member holds a batch any more, so the taken-over one was finished too
            cl.check_each_once(db, "sink", "ev_data", N)
            for m in live:
                m.stop()
            print("ok: %d events, 3 members, m1 killed holding batch %d, taken over; each row once"
                  % (N, batch))
        finally:
            for m in members:
                m.kill()


cl.run(main)
