#!/usr/bin/python3
"""python3-pgq's Consumer (Debian's python3-pgq, run as a black box) against a pgq schema.

    /usr/bin/python3 python_consumer_test.py --target ours|pgq|ours_light

ours = databases copied from tmpl_ours (our plain-SQL install); pgq = copied from tmpl_pgq
(the real PgQ 3.5 C extension), the control; ours_light = from tmpl_ours_light (every queue
with the option light_batches). For each of the two fetch paths of
pgq.Consumer (pgq_lazy_fetch = 10: get_batch_cursor + FETCH; pgq_lazy_fetch = 0:
get_batch_events) the test:

  1. creates a queue (ticks on every call), registers the consumer with the consumer's own
     `--register` command line;
  2. commits half of a ~2000-event workload in ~50 producer transactions (some rolled back,
     some with a rolled-back savepoint; extra1..4, NULLs, '', unicode, quotes, backslashes,
     big payloads), ticking in between;
  3. starts the consumer in a subprocess through its normal `start()` main loop (the class is
     this file run with --child); it appends every event it gets to a JSON-lines file, and
     tags one event ('retry-me') with ev.tag_retry(1) the first time it sees it;
  4. commits the other half from several concurrent producer threads (transactions that stay
     open across ticks), while a ticker thread runs `select pgq.ticker(q)` and
     `select pgq.maint_retry_events()` (this test is the ticker; no pgqd);
  5. waits (deadline) until everything arrived, stops the consumer with SIGINT (graceful),
     and checks: the received events are exactly the committed ones (id, txid, type, data,
     extra1..4), each exactly once, none rolled back, ids ascending within each batch, the
     retried event came back once more in a later batch with ev_retry = 1, the consumer
     exited cleanly and logged no crash.

Needs the ctest fixture pg_cluster (PGQPP_TEST_CLUSTER). Uses /usr/bin/python3 on purpose:
the `pgq`, `skytools` and `psycopg2` modules are Debian packages.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import psycopg2

from pgqpp_clientlib import (FIELDS, RETRY_TYPE, TestFailure, Ticker, admin_exec, connstr,
                             load_cluster_env, make_workload, quote_ident, read_records,
                             produce_concurrently, run_tx, short)

QUEUE = "pyq"
CONSUMER = "pyconsumer"
SERVICE = "pyconsumer"


# ---------------------------------------------------------------------------------------
# The consumer (child process): a plain pgq.Consumer subclass run by its start() loop.
# ---------------------------------------------------------------------------------------

def child_main(args):
    import pgq

    class RecordingConsumer(pgq.Consumer):
        """Appends every event of a batch to out_file (one JSON line per event)."""

        def reload(self):
            super().reload()
            self.out_file = self.cf.getfile("out_file")
            self.driver_pid = self.cf.getint("driver_pid")

        def work(self):
            # Should the test driver be killed, do not keep running.
            if os.getppid() != self.driver_pid:
                self.log.error("test driver %d is gone, exiting", self.driver_pid)
                sys.exit(1)
            return super().work()

        def process_batch(self, db, batch_id, ev_list):
            lines = []
            for pos, ev in enumerate(ev_list):
                if ev.type == RETRY_TYPE and ev.retry is None:
                    ev.tag_retry(1)
                lines.append(json.dumps({
                    "batch": batch_id, "pos": pos, "id": ev.id, "txid": ev.txid,
                    "time": str(ev.time), "retry": ev.retry, "type": ev.type,
                    "data": ev.data, "extra1": ev.extra1, "extra2": ev.extra2,
                    "extra3": ev.extra3, "extra4": ev.extra4,
                    "lazy": not isinstance(ev_list, list),
                }, ensure_ascii=True))
            if lines:
                with open(self.out_file, "a", encoding="ascii") as f:
                    f.write("\n".join(lines) + "\n")

    RecordingConsumer(SERVICE, "db", args).start()


# ---------------------------------------------------------------------------------------
# The driver.
# ---------------------------------------------------------------------------------------



def run_scenario(env, target, lazy_fetch, workdir, log):
    db = "t_clients_python_consumer_%s_lazy%d" % (target, lazy_fetch)
    tmpl = "tmpl_" + target
    admin_exec(env, "drop database if exists %s with (force)" % quote_ident(db))
    admin_exec(env, "create database %s template %s" % (quote_ident(db), quote_ident(tmpl)))
    dsn = connstr(env, db)
    child = None
    ticker = None
    child_log = os.path.join(workdir, "consumer.%s.log" % lazy_fetch)
    try:
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("select pgq.create_queue(%s)", [QUEUE])
        # Tick on every pgq.ticker() call, with or without new events.
        cur.execute("select pgq.set_queue_config(%s, 'ticker_max_lag', '0')", [QUEUE])
        cur.execute("select pgq.set_queue_config(%s, 'ticker_idle_period', '0')", [QUEUE])
        conn.autocommit = False

        out_file = os.path.join(workdir, "events.%s.jsonl" % lazy_fetch)
        ini = os.path.join(workdir, "consumer.%s.ini" % lazy_fetch)
        with open(ini, "w") as f:
            f.write("[%s]\n" % SERVICE)
            f.write("job_name = pyconsumer_lazy%d\n" % lazy_fetch)
            f.write("db = %s\n" % dsn.replace("%", "%%"))
            f.write("queue_name = %s\n" % QUEUE)
            f.write("consumer_name = %s\n" % CONSUMER)
            f.write("pgq_lazy_fetch = %d\n" % lazy_fetch)
            f.write("loop_delay = 0.1\n")
            f.write("exception_sleep = 1\n")
            f.write("use_skylog = 0\n")
            f.write("logfile = %s\n" % child_log)
            f.write("out_file = %s\n" % out_file)
            f.write("driver_pid = %d\n" % os.getpid())
        child_cmd = [sys.executable, os.path.abspath(__file__), "--child", ini]

        # 1. Registration through the consumer's own command line.
        r = subprocess.run(child_cmd + ["--register"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise TestFailure("consumer --register exited with %d:\n%s"
                              % (r.returncode, r.stdout.decode(errors="replace")))
        cur.execute("select count(*) from pgq.get_consumer_info(%s, %s)", [QUEUE, CONSUMER])
        if cur.fetchone()[0] != 1:
            raise TestFailure("consumer --register did not register %s on %s" % (CONSUMER, QUEUE))
        conn.commit()

        workload = make_workload(seed=1000 + lazy_fetch, n_tx=50, retry_tx=37)
        committed, rolled_back = [], []

        # 2. The first half before the consumer runs: ticks after some transactions, none
        #    during a long stretch (one batch with many events for the FETCH loop).
        for t, spec in enumerate(workload[:25]):
            c, rb = run_tx(conn, spec, QUEUE)
            committed += c
            rolled_back += rb
            if t % 3 == 0 and not 10 <= t < 20:
                cur.execute("select pgq.ticker(%s)", [QUEUE])
                conn.commit()
        cur.execute("select pgq.ticker(%s)", [QUEUE])
        conn.commit()

        # 3. The consumer, by its normal main loop.
        with open(child_log + ".out", "wb") as child_out:
            child = subprocess.Popen(child_cmd, stdout=child_out, stderr=subprocess.STDOUT)

        # 4. The second half while it runs: concurrent producers and the ticker thread.
        ticker = Ticker(dsn, QUEUE)
        ticker.start()
        c, rb = produce_concurrently(dsn, workload[25:], QUEUE, 0.15)
        committed.extend(c)
        rolled_back.extend(rb)

        expected_ids = {ev["id"] for ev in committed}
        retry_ids = [ev["id"] for ev in committed if ev["type"] == RETRY_TYPE]
        if len(retry_ids) != 1:
            raise TestFailure("workload bug: %d retry-me events" % len(retry_ids))
        retry_id = retry_ids[0]
        log("lazy_fetch=%d: %d committed events in %d transactions, %d rolled back"
            % (lazy_fetch, len(committed), len(workload), len(rolled_back)))

        # 5. Wait until the consumer has everything (and the retried event once more).
        deadline = time.time() + 60
        while True:
            if ticker.error:
                raise TestFailure("the ticker thread failed:\n" + ticker.error)
            if child.poll() is not None:
                raise TestFailure("the consumer exited early with %d" % child.returncode)
            records = read_records(out_file)
            first_ids = {r["id"] for r in records if r["retry"] is None}
            again = [r for r in records if r["retry"] is not None]
            if expected_ids <= first_ids and again:
                break
            if time.time() > deadline:
                problems = check_records(records, committed, rolled_back, retry_id, lazy_fetch)
                raise TestFailure(
                    "timed out: the consumer got %d of %d committed events, retried event back: %s\n  %s"
                    % (len(first_ids & expected_ids), len(expected_ids), bool(again),
                       "\n  ".join(problems[:20])))
            time.sleep(0.2)
        # One more tick and a little time: anything extra (duplicates) would show up too.
        time.sleep(0.5)

        child.send_signal(signal.SIGINT)    # BaseScript: stop after the current work()
        try:
            rc = child.wait(30)
        except subprocess.TimeoutExpired:
            raise TestFailure("the consumer did not stop within 30 s of SIGINT")
        child = None
        ticker.stop_event.set()
        ticker.join(10)
        if ticker.error:
            raise TestFailure("the ticker thread failed:\n" + ticker.error)
        if rc != 0:
            raise TestFailure("the consumer exited with %d after SIGINT" % rc)

        # 6. Checks.
        records = read_records(out_file)
        problems = check_records(records, committed, rolled_back, retry_id, lazy_fetch)

        with open(child_log, errors="replace") as f:
            clog = f.read()
        for bad in ("crashed", "Traceback", "Untagged event", "ERROR"):
            if bad in clog:
                problems.append("consumer log contains %r:\n%s" % (bad, clog[-3000:]))
                break

        conn.rollback()
        cur.execute("select current_batch from pgq.get_consumer_info(%s, %s)", [QUEUE, CONSUMER])
        row = cur.fetchone()
        if row is None or row[0] is not None:
            problems.append("after the consumer stopped: get_consumer_info current_batch = %r" % (row,))
        cur.execute("select count(*) from pgq.retry_queue")
        n = cur.fetchone()[0]
        if n:
            problems.append("pgq.retry_queue still holds %d rows" % n)
        conn.close()

        if problems:
            raise TestFailure("lazy_fetch=%d:\n  " % lazy_fetch + "\n  ".join(problems[:40]))
        batches = {r["batch"] for r in records}
        sizes = {}
        for r in records:
            sizes[r["batch"]] = sizes.get(r["batch"], 0) + 1
        log("lazy_fetch=%d: OK, %d events in %d non-empty batches (largest %d), %d ticks by the test"
            % (lazy_fetch, len(records), len(batches), max(sizes.values()), ticker.ticks))
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait(10)
        if ticker is not None:
            ticker.stop_event.set()
            ticker.join(10)
        for path in (child_log, child_log + ".out"):
            if sys.exc_info()[0] is not None and os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = f.read()[-2500:]
                if tail:
                    sys.stderr.write("---- %s ----\n%s\n----\n" % (path, tail))
        try:
            admin_exec(env, "drop database if exists %s with (force)" % quote_ident(db))
        except Exception as e:      # do not hide the real failure
            sys.stderr.write("could not drop %s: %s\n" % (db, e))


def check_records(records, committed, rolled_back, retry_id, lazy_fetch):
    problems = []
    by_id = {ev["id"]: ev for ev in committed}
    rolled_back_ids = {ev["id"] for ev in rolled_back}

    # Ids ascending within each batch, in the order the consumer saw them.
    batches = {}
    for r in records:
        batches.setdefault(r["batch"], []).append(r)
    for b, rs in batches.items():
        if [r["pos"] for r in rs] != list(range(len(rs))):
            problems.append("batch %d was written more than once or partly" % b)
        ids = [r["id"] for r in rs]
        if any(x >= y for x, y in zip(ids, ids[1:])):
            problems.append("batch %d: ev_ids not strictly ascending: %s" % (b, ids[:20]))
        if lazy_fetch and not rs[0]["lazy"]:
            problems.append("batch %d was not read through the lazy BatchWalker" % b)

    first = {}
    for r in records:
        if r["retry"] is not None:
            continue
        if r["id"] in first:
            problems.append("event %d delivered twice (batches %d and %d)"
                            % (r["id"], first[r["id"]]["batch"], r["batch"]))
            continue
        first[r["id"]] = r
        ev = by_id.get(r["id"])
        if ev is None:
            what = "a rolled-back" if r["id"] in rolled_back_ids else "an unknown"
            problems.append("received %s event %d (type %s)" % (what, r["id"], short(r["type"])))
            continue
        for k in FIELDS:
            if r[k] != ev[k]:
                problems.append("event %d: %s is %s, inserted %s" % (r["id"], k, short(r[k]), short(ev[k])))
        if r["txid"] != ev["txid"]:
            problems.append("event %d: ev_txid %s, inserted by txid %s" % (r["id"], r["txid"], ev["txid"]))
    missing = sorted(set(by_id) - set(first))
    if missing:
        problems.append("%d committed events never received, e.g. %s" % (len(missing), missing[:10]))

    again = [r for r in records if r["retry"] is not None]
    if len(again) != 1:
        problems.append("expected the retried event back exactly once, got %d retried records: %s"
                        % (len(again), [(r["id"], r["retry"]) for r in again][:10]))
    else:
        r = again[0]
        f = first.get(retry_id)
        if r["id"] != retry_id or r["retry"] != 1:
            problems.append("retried record is id %d retry %r, expected id %d retry 1"
                            % (r["id"], r["retry"], retry_id))
        elif f is None:
            problems.append("retry event %d came back but was never delivered first" % retry_id)
        else:
            if r["batch"] <= f["batch"]:
                problems.append("retried event came back in batch %d, not after %d" % (r["batch"], f["batch"]))
            for k in FIELDS + ("time",):
                if r[k] != f[k]:
                    problems.append("retried event: %s changed from %s to %s" % (k, short(f[k]), short(r[k])))

    if lazy_fetch:
        largest = max((len(rs) for rs in batches.values()), default=0)
        if largest <= 2 * lazy_fetch:
            problems.append("no batch larger than 2 x pgq_lazy_fetch (%d): the FETCH loop was not exercised"
                            % largest)
    return problems


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", choices=["ours", "pgq", "ours_light"], required=True)
    ap.add_argument("--lazy-fetch", type=int, action="append",
                    help="pgq_lazy_fetch values to run (default: 10 and 0)")
    args = ap.parse_args()

    def log(msg):
        print("[python_consumer %s] %s" % (args.target, msg), flush=True)

    workdir = tempfile.mkdtemp(prefix="pgqpp-pyconsumer.")
    try:
        env = load_cluster_env()
        for lazy in args.lazy_fetch or [10, 0]:
            run_scenario(env, args.target, lazy, workdir, log)
    except TestFailure as e:
        sys.stderr.write("FAIL [clients.python_consumer/%s]: %s\n" % (args.target, e))
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
