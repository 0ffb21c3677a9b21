#!/usr/bin/env python3
"""Bounded memory: 2,000,000 events in one batch (a ticker outage) drained by
examples/consumer/mirror_consumer (at-least-once into a file, FETCH 1000 at a time) with a
peak RSS (VmHWM) under 100 MiB; every event written once. BIG_EVENTS overrides the size.

  big_batch_test.py MIRROR_CONSUMER_BINARY
"""
import os
import time

import crashlib as cl

N = int(os.environ.get("BIG_EVENTS", "2000000"))
MAX_RSS_KB = 100 * 1024
PER_CALL = 500000


def main(workdir, binary):
    with cl.shared_cluster_db("big_batch") as (db, dsn):
        d = None
        try:
            cl.make_queue(db, "q")
            db.q("select pgq.register_consumer('q', 'c')")
            t0 = time.time()
            for lo in range(0, N, PER_CALL):  # pgq.insert_event_bulk: one statement per 500,000
                db.q("select pgq.insert_event_bulk('q', null, array(select g::text from "
                     "generate_series(%s, %s) g), null, null, null, null)", (lo, min(N, lo + PER_CALL) - 1))
            db.q("select pgq.ticker('q')")  # one tick: one batch
            t1 = time.time()
            out = os.path.join(workdir, "big.out")
            d = cl.Daemon(binary, workdir, "big", [
                "--db", dsn, "--queue", "q", "--consumer", "c", "--delivery", "at_least_once",
                "--output", out, "--fetch-size", "1000", "--poll-period", "200ms"])
            cl.wait_for("the batch to be drained", lambda: cl.consumer_done(db, "q", "c"), 120, [d])
            hwm = d.vm_hwm_kb()
            t2 = time.time()
            d.stop()
            batches = db.one("select count(*) from pgq.get_consumer_info('q', 'c')")
            seen = bytearray(N)
            lines = 0
            with open(out) as f:
                for line in f:
                    seen[int(line.split(" ", 1)[1])] += 1
                    lines += 1
            if lines != N or seen.count(1) != N:
                raise cl.TestFailure("%d lines, %d events seen once; expected %d" % (lines, seen.count(1), N))
            if hwm >= MAX_RSS_KB:
                raise cl.TestFailure("peak RSS %d kB >= %d kB" % (hwm, MAX_RSS_KB))
            print("ok: %d events in one batch (%d consumer): produced in %.1f s, drained in %.1f s, "
                  "peak RSS %d kB" % (N, batches, t1 - t0, t2 - t1, hwm))
        finally:
            if d:
                d.kill()


cl.run(main)
