#!/usr/bin/python3
"""python3-pgq's RemoteConsumer, SerialConsumer and CoopConsumer against pgq_ext and pgq_coop.

    /usr/bin/python3 python_remote_coop_test.py --target ours|ours_light|pgq
                                                [--scenario remote|serial|coop ...]

The consumers are Debian's python3-pgq classes, run as black boxes through their normal
start() main loop in child processes (this file with --child). The queue's database is a
copy of tmpl_<target>: ours, ours_light (every queue with the option light_batches), or pgq
(the real PgQ 3.5 C extension, the control: our pgq_ext and pgq_coop on top of PgQ itself;
there pgq_coop_install.sql is installed into the copy). Every scenario commits a workload of
~30 producer transactions (some rolled back, some with a rolled-back savepoint, awkward
payloads; pgqpp_clientlib.make_workload), half before the consumers start and half while they
run, with a ticker thread (this test is the ticker; no pgqd), and then checks that every
committed event was applied exactly once and no rolled-back one was:

  remote  pgq.RemoteConsumer (batch tracking, pgq_ext.is_batch_done/set_batch_done) mirrors
          the events into a table of a second database that has only pgq_ext, installed there
          from build/pgq_sql/pgq_ext_install.sql (twice: the install is idempotent). The
          consumer crashes on purpose twice: once after writing a batch into the target but
          before the target commit (the batch is applied again, once), and once after the
          target commit but before finish_batch (the replayed batch is recognised and
          skipped).
  serial  pgq.SerialConsumer (tick tracking, pgq_ext.get_last_tick/set_last_tick), the same
          two crashes; `--register` resets the target's tracking, `--rewind` at the end
          repositions the consumer at the target's tick (a no-op then); after a graceful stop
          the target's tick is the consumer's position in the queue.
  coop    three pgq.CoopConsumer subconsumers of one consumer (pgq_coop), with
          subconsumer_timeout = 3 seconds, writing the events into a table of the queue's
          database in the batch's transaction (local exactly-once). The first one takes a
          batch and is killed (SIGKILL) with the batch open; the other two take over that
          batch after the timeout (dead-member takeover) while they share the rest of the
          stream. One event is retried once (ev.tag_retry) and must come back to the group
          exactly once more.

Needs the ctest fixture pg_cluster (PGQPP_TEST_CLUSTER) and PGQPP_BUILD_DIR (the install
scripts). Uses /usr/bin/python3: pgq, skytools and psycopg2 are Debian packages.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import psycopg2

from pgqpp_clientlib import (FIELDS, RETRY_TYPE, TestFailure, Ticker, connstr, drop_db,
                             load_cluster_env, make_workload, new_db, produce_concurrently,
                             psql_file, run_tx, short)

QUEUE = "pyrq"
CONSUMER = "pymirror"
SUBCONSUMERS = ("s1", "s2", "s3")
DEAD_SUB = "s3"
DEAD_INTERVAL = "3 seconds"

MIRROR_DDL = """
create table mirror (
    ev_id bigint, batch_id bigint, ev_retry int4, ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text, ev_txid bigint,
    sub text)
"""


# ---------------------------------------------------------------------------------------
# The consumers (child processes).
# ---------------------------------------------------------------------------------------

def child_main(kind, args):
    import pgq

    def insert_rows(curs, batch_id, ev_list, sub=None, tag_retry=False):
        n = 0
        for ev in ev_list:
            if tag_retry and ev.type == RETRY_TYPE and ev.retry is None:
                ev.tag_retry(1)
            curs.execute("insert into mirror values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         [ev.id, batch_id, ev.retry, ev.type, ev.data, ev.extra1, ev.extra2,
                          ev.extra3, ev.extra4, ev.txid, sub])
            n += 1
        return n

    class Common:
        """Settings from the ini, the driver watchdog, and the two injected crashes."""

        def reload(self):
            super().reload()
            self.work_dir = self.cf.getfile("work_dir")
            self.driver_pid = self.cf.getint("driver_pid")

        def work(self):
            if os.getppid() != self.driver_pid:
                self.log.error("test driver %d is gone, exiting", self.driver_pid)
                sys.exit(1)
            return super().work()

        def marker(self, name):
            return os.path.join(self.work_dir, name)

        def crash_once(self, name, batch_id):
            """Raises (BaseScript logs "crashed", closes the connections, sleeps
            exception_sleep and goes on) the first time only."""
            path = self.marker(name)
            if os.path.exists(path):
                return
            with open(path, "w") as f:
                f.write("%d\n" % batch_id)
            raise Exception("injected crash %s in batch %d" % (name, batch_id))

        def note(self, name, batch_id):
            with open(self.marker(name), "a") as f:
                f.write("%d\n" % batch_id)

    class MirrorRows:
        """Remote and Serial alike: the rows into the target, and the crashes between the
        target's commit and finish_batch."""

        def process_remote_batch(self, db, batch_id, ev_list, dst_db):
            if insert_rows(dst_db.cursor(), batch_id, ev_list):
                self.crash_once("crash_before_target_commit", batch_id)
                self.applied = batch_id

        def process_batch(self, db, batch_id, ev_list):
            self.applied = None
            super().process_batch(db, batch_id, ev_list)
            if self.applied is not None:
                self.crash_once("crash_before_finish_batch", batch_id)

    class Remote(Common, MirrorRows, pgq.RemoteConsumer):
        def __init__(self, args):
            super().__init__("pymirror", "src_db", "dst_db", args)

        def is_last_batch(self, dst_curs, batch_id):
            done = super().is_last_batch(dst_curs, batch_id)
            if done:
                self.note("skipped", batch_id)
            return done

    class Serial(Common, MirrorRows, pgq.SerialConsumer):
        def __init__(self, args):
            super().__init__("pymirror", "src_db", "dst_db", args)

        def is_batch_done(self, dst_curs):
            done = super().is_batch_done(dst_curs)
            if done:
                self.note("skipped", self.batch_info["batch_id"])
            return done

    class Coop(Common, pgq.CoopConsumer):
        def __init__(self, args):
            super().__init__("pymirror", "src_db", args)

        def reload(self):
            super().reload()
            self.die_with_batch = self.cf.getint("die_with_batch", 0)

        def process_batch(self, db, batch_id, ev_list):
            # into the queue's database, committed with pgq_coop.finish_batch
            n = insert_rows(db.cursor(), batch_id, ev_list, sub=self.subconsumer_name,
                            tag_retry=True)
            if n and self.die_with_batch:
                self.note("died_with_batch", batch_id)
                os.kill(os.getpid(), signal.SIGKILL)

    cls = {"remote": Remote, "serial": Serial, "coop": Coop}[kind]
    cls(args).start()


# ---------------------------------------------------------------------------------------
# The driver (helpers in pgqpp_clientlib.py).
# ---------------------------------------------------------------------------------------

class Run:
    """One scenario on one target: databases, config files, child processes."""

    def __init__(self, env, target, scenario, workdir, log):
        self.env, self.target, self.scenario, self.log = env, target, scenario, log
        self.workdir = os.path.join(workdir, scenario)
        os.makedirs(self.workdir)
        self.db = "t_clients_pyremote_%s_%s" % (scenario, target)
        self.dst = self.db + "_dst"
        self.children = {}
        self.ticker = None
        build = os.environ.get("PGQPP_BUILD_DIR")
        if not build:
            raise TestFailure("PGQPP_BUILD_DIR is not set (run the test through ctest)")
        self.ext_sql = os.path.join(build, "pgq_sql", "pgq_ext_install.sql")
        self.coop_sql = os.path.join(build, "pgq_sql", "pgq_coop_install.sql")

    # -- setup ---------------------------------------------------------------------------
    def setup(self):
        new_db(self.env, self.db, "tmpl_" + self.target)
        if self.target == "pgq" and self.scenario == "coop":
            psql_file(self.env, self.db, self.coop_sql)     # our pgq_coop on the real PgQ
        self.conn = psycopg2.connect(connstr(self.env, self.db))
        self.conn.autocommit = True
        cur = self.conn.cursor()
        cur.execute("select pgq.create_queue(%s)", [QUEUE])
        cur.execute("select pgq.set_queue_config(%s, 'ticker_max_lag', '0')", [QUEUE])
        cur.execute("select pgq.set_queue_config(%s, 'ticker_idle_period', '0')", [QUEUE])
        if self.scenario == "coop":
            cur.execute(MIRROR_DDL)
            self.mirror_conn = self.conn
        else:
            # the target: a database of its own with pgq_ext only, installed twice
            new_db(self.env, self.dst, "template0")
            psql_file(self.env, self.dst, self.ext_sql)
            psql_file(self.env, self.dst, self.ext_sql)
            self.mirror_conn = psycopg2.connect(connstr(self.env, self.dst))
            self.mirror_conn.autocommit = True
            mcur = self.mirror_conn.cursor()
            mcur.execute("select pgq_ext.version(), to_regnamespace('pgq') is null")
            version, no_pgq = mcur.fetchone()
            if not version or not no_pgq:
                raise TestFailure("target database: pgq_ext.version() = %r, schema pgq absent: %r"
                                  % (version, no_pgq))
            mcur.execute(MIRROR_DDL)
        self.conn.autocommit = False

    def ini(self, name, extra):
        path = os.path.join(self.workdir, name + ".ini")
        with open(path, "w") as f:
            f.write("[pymirror]\n")
            f.write("job_name = pymirror_%s_%s\n" % (self.scenario, name))
            f.write("src_db = %s\n" % connstr(self.env, self.db).replace("%", "%%"))
            f.write("dst_db = %s\n" % connstr(self.env, self.dst).replace("%", "%%"))
            f.write("queue_name = %s\n" % QUEUE)
            f.write("consumer_name = %s\n" % CONSUMER)
            f.write("pgq_lazy_fetch = 20\n")
            f.write("loop_delay = 0.1\n")
            f.write("exception_sleep = 0.3\n")
            f.write("use_skylog = 0\n")
            f.write("logfile = %s\n" % os.path.join(self.workdir, name + ".log"))
            f.write("work_dir = %s\n" % self.workdir)
            f.write("driver_pid = %d\n" % os.getpid())
            for k, v in extra.items():
                f.write("%s = %s\n" % (k, v))
        return path

    def child_cmd(self, ini):
        return [sys.executable, os.path.abspath(__file__), "--child", self.scenario, ini]

    def run_command(self, ini, *args):
        r = subprocess.run(self.child_cmd(ini) + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise TestFailure("consumer %s exited with %d:\n%s"
                              % (" ".join(args), r.returncode, r.stdout.decode(errors="replace")))

    def start(self, name, ini):
        out = open(os.path.join(self.workdir, name + ".out"), "wb")
        self.children[name] = subprocess.Popen(self.child_cmd(ini), stdout=out,
                                               stderr=subprocess.STDOUT)
        out.close()

    def stop(self, name):
        child = self.children.pop(name)
        child.send_signal(signal.SIGINT)        # BaseScript: stop after the current work()
        try:
            rc = child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            raise TestFailure("%s did not stop within 30 s of SIGINT" % name)
        if rc != 0:
            raise TestFailure("%s exited with %d after SIGINT" % (name, rc))

    def read_log(self, name):
        path = os.path.join(self.workdir, name + ".log")
        if not os.path.exists(path):
            return ""
        with open(path, errors="replace") as f:
            return f.read()

    def marker(self, name):
        path = os.path.join(self.workdir, name)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [int(x) for x in f.read().split()]

    # -- workload ------------------------------------------------------------------------
    def produce_first_half(self, workload):
        committed, rolled_back = [], []
        cur = self.conn.cursor()
        for t, spec in enumerate(workload):
            c, rb = run_tx(self.conn, spec, QUEUE)
            committed += c
            rolled_back += rb
            if t % 3 == 0:
                cur.execute("select pgq.ticker(%s)", [QUEUE])
                self.conn.commit()
        cur.execute("select pgq.ticker(%s)", [QUEUE])
        self.conn.commit()
        return committed, rolled_back

    def produce_rest(self, workload):
        """The rest, from 3 producer threads, while the ticker thread runs."""
        return produce_concurrently(connstr(self.env, self.db), workload, QUEUE, 0.1)

    def start_ticker(self):
        self.ticker = Ticker(connstr(self.env, self.db), QUEUE)
        self.ticker.start()

    def stop_ticker(self):
        if self.ticker is not None:
            self.ticker.stop_event.set()
            self.ticker.join(10)
            if self.ticker.error:
                raise TestFailure("the ticker thread failed:\n" + self.ticker.error)

    def mirror_rows(self):
        cur = self.mirror_conn.cursor()
        cur.execute("select ev_id, batch_id, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2,"
                    " ev_extra3, ev_extra4, ev_txid, sub from mirror")
        keys = ("id", "batch", "retry", "type", "data", "extra1", "extra2", "extra3", "extra4",
                "txid", "sub")
        return [dict(zip(keys, r)) for r in cur.fetchall()]

    def wait_for(self, what, predicate, timeout=60):
        deadline = time.time() + timeout
        while True:
            if self.ticker is not None and self.ticker.error:
                raise TestFailure("the ticker thread failed:\n" + self.ticker.error)
            for name, child in self.children.items():
                if child.poll() is not None:
                    raise TestFailure("%s exited early with %d" % (name, child.returncode))
            ok, detail = predicate()
            if ok:
                return
            if time.time() > deadline:
                raise TestFailure("timed out waiting for %s: %s" % (what, detail))
            time.sleep(0.2)

    # -- checks --------------------------------------------------------------------------
    def check_exactly_once(self, rows, committed, rolled_back, retry_id=None):
        problems = []
        by_id = {ev["id"]: ev for ev in committed}
        rb_ids = {ev["id"] for ev in rolled_back}
        first = {}
        again = []
        for r in rows:
            if r["retry"] is not None:
                again.append(r)
                continue
            if r["id"] in first:
                problems.append("event %d applied twice (batches %s and %s)"
                                % (r["id"], first[r["id"]]["batch"], r["batch"]))
                continue
            first[r["id"]] = r
            ev = by_id.get(r["id"])
            if ev is None:
                what = "a rolled-back" if r["id"] in rb_ids else "an unknown"
                problems.append("applied %s event %d" % (what, r["id"]))
                continue
            for k in FIELDS:
                if r[k] != ev[k]:
                    problems.append("event %d: %s is %s, inserted %s"
                                    % (r["id"], k, short(r[k]), short(ev[k])))
            if r["txid"] != ev["txid"]:
                problems.append("event %d: ev_txid %s, inserted by %s" % (r["id"], r["txid"], ev["txid"]))
        missing = sorted(set(by_id) - set(first))
        if missing:
            problems.append("%d committed events never applied, e.g. %s" % (len(missing), missing[:10]))
        if retry_id is None:
            if again:
                problems.append("events came back although none was retried: %s"
                                % [(r["id"], r["retry"]) for r in again][:10])
        elif len(again) != 1 or again[0]["id"] != retry_id or again[0]["retry"] != 1:
            problems.append("expected event %d back once with ev_retry 1, got %s"
                            % (retry_id, [(r["id"], r["retry"]) for r in again][:10]))
        elif retry_id in first and again[0]["batch"] <= first[retry_id]["batch"]:
            problems.append("the retried event came back in batch %s, not after %s"
                            % (again[0]["batch"], first[retry_id]["batch"]))
        return problems

    def check_log(self, name, allowed_crashes):
        clog = self.read_log(name)
        crashes = [line for line in clog.splitlines() if "crashed" in line]
        unexpected = [line for line in crashes if "injected crash" not in line]
        problems = []
        if unexpected or len(crashes) != allowed_crashes:
            problems.append("%s: expected %d injected crashes in its log, got:\n%s\n%s"
                            % (name, allowed_crashes, "\n".join(crashes), clog[-3000:]))
        return problems

    # -- scenarios -----------------------------------------------------------------------
    def run_remote_or_serial(self):
        ini = self.ini("consumer", {})
        self.run_command(ini, "--register")
        workload = make_workload(seed=2000 + len(self.scenario), n_tx=30, retry_tx=None, big=2)
        committed, rolled_back = self.produce_first_half(workload[:15])
        self.start("consumer", ini)
        self.start_ticker()
        c, rb = self.produce_rest(workload[15:])
        committed += c
        rolled_back += rb
        expected = {ev["id"] for ev in committed}
        self.log("%s: %d committed events, %d rolled back" % (self.scenario, len(committed), len(rolled_back)))

        def all_there():
            got = {r["id"] for r in self.mirror_rows()}
            return expected <= got, "%d of %d applied" % (len(expected & got), len(expected))
        self.wait_for("every event in the target", all_there)
        time.sleep(0.5)     # anything extra (a duplicate) would show up too
        self.stop("consumer")
        self.stop_ticker()

        problems = self.check_exactly_once(self.mirror_rows(), committed, rolled_back)
        before = self.marker("crash_before_target_commit")
        after = self.marker("crash_before_finish_batch")
        skipped = self.marker("skipped")
        if len(before) != 1 or len(after) != 1:
            problems.append("the injected crashes did not both happen: before=%s after=%s" % (before, after))
        elif after[0] not in skipped:
            problems.append("batch %d (crashed after the target commit) was not skipped when replayed;"
                            " skipped: %s" % (after[0], skipped))
        problems += self.check_log("consumer", 2)

        cur = self.conn.cursor()
        cur.execute("select last_tick, current_batch from pgq.get_consumer_info(%s, %s)", [QUEUE, CONSUMER])
        last_tick, current_batch = cur.fetchone()
        self.conn.rollback()
        mcur = self.mirror_conn.cursor()
        if current_batch is not None:
            problems.append("after the stop the consumer still has batch %s open" % current_batch)
        if self.scenario == "serial":
            mcur.execute("select pgq_ext.get_last_tick(%s)", [CONSUMER])
            dst_tick = mcur.fetchone()[0]
            if dst_tick != last_tick:
                problems.append("target's last tick %s, consumer's position %s" % (dst_tick, last_tick))
            # --rewind: to the target's tick, which is where it is
            self.run_command(ini, "--rewind")
            cur.execute("select last_tick from pgq.get_consumer_info(%s, %s)", [QUEUE, CONSUMER])
            if cur.fetchone()[0] != dst_tick:
                problems.append("--rewind moved the consumer away from the target's tick %s" % dst_tick)
            self.conn.rollback()
        else:
            mcur.execute("select count(*) from pgq_ext.completed_batch where consumer_id = %s", [CONSUMER])
            if mcur.fetchone()[0] != 1:
                problems.append("pgq_ext.completed_batch has no row for %s" % CONSUMER)
        if problems:
            raise TestFailure("%s:\n  %s" % (self.scenario, "\n  ".join(problems[:40])))
        self.log("%s: OK, %d events applied once; crashes in batches %s (re-applied) and %s (skipped)"
                 % (self.scenario, len(expected), before[0], after[0]))

    def run_coop(self):
        inis = {}
        for sub in SUBCONSUMERS:
            extra = {"subconsumer_name": sub, "subconsumer_timeout": DEAD_INTERVAL}
            if sub == DEAD_SUB:
                extra["die_with_batch"] = 1
            inis[sub] = self.ini(sub, extra)
            self.run_command(inis[sub], "--register")
        cur = self.conn.cursor()
        cur.execute("select consumer_name from pgq.get_consumer_info(%s) order by 1", [QUEUE])
        names = [r[0] for r in cur.fetchall()]
        self.conn.commit()
        if names != [CONSUMER] + ["%s.%s" % (CONSUMER, s) for s in SUBCONSUMERS]:
            raise TestFailure("--register made these consumers: %s" % names)

        workload = make_workload(seed=3000, n_tx=30, retry_tx=22, big=2)
        committed, rolled_back = self.produce_first_half(workload[:15])

        # The member that dies: it takes the first batch and is killed holding it.
        self.start(DEAD_SUB, inis[DEAD_SUB])
        deadline = time.time() + 60
        while self.children[DEAD_SUB].poll() is None:
            if time.time() > deadline:
                raise TestFailure("%s did not take a batch" % DEAD_SUB)
            time.sleep(0.1)
        rc = self.children.pop(DEAD_SUB).returncode
        dead_batch = self.marker("died_with_batch")
        if rc != -signal.SIGKILL or len(dead_batch) != 1:
            raise TestFailure("%s was to die holding a batch; exit %s, batches %s"
                              % (DEAD_SUB, rc, dead_batch))
        dead_batch = dead_batch[0]
        cur.execute("select current_batch from pgq.get_consumer_info(%s, %s)",
                    [QUEUE, "%s.%s" % (CONSUMER, DEAD_SUB)])
        held = cur.fetchone()
        self.conn.commit()
        if held is None or held[0] != dead_batch:
            raise TestFailure("the dead member should still hold batch %d, has %s" % (dead_batch, held))
        if self.mirror_rows():
            raise TestFailure("the dead member's writes were committed")
        self.log("coop: %s died holding batch %d" % (DEAD_SUB, dead_batch))

        # The others share the rest and take the dead member's batch over.
        for sub in SUBCONSUMERS:
            if sub != DEAD_SUB:
                self.start(sub, inis[sub])
        self.start_ticker()
        c, rb = self.produce_rest(workload[15:])
        committed += c
        rolled_back += rb
        expected = {ev["id"] for ev in committed}
        retry_id = [ev["id"] for ev in committed if ev["type"] == RETRY_TYPE]
        if len(retry_id) != 1:
            raise TestFailure("workload bug: %d retry-me events" % len(retry_id))
        retry_id = retry_id[0]
        self.log("coop: %d committed events, %d rolled back" % (len(committed), len(rolled_back)))

        def all_there():
            rows = self.mirror_rows()
            got = {r["id"] for r in rows if r["retry"] is None}
            back = any(r["retry"] is not None for r in rows)
            taken = any(r["batch"] == dead_batch for r in rows)
            return (expected <= got and back and taken,
                    "%d of %d applied, retried event back: %s, batch %d taken over: %s"
                    % (len(expected & got), len(expected), back, dead_batch, taken))
        self.wait_for("every event applied and the dead member's batch taken over", all_there)
        time.sleep(0.5)
        for sub in SUBCONSUMERS:
            if sub != DEAD_SUB:
                self.stop(sub)
        self.stop_ticker()

        rows = self.mirror_rows()
        problems = self.check_exactly_once(rows, committed, rolled_back, retry_id)
        takers = {r["sub"] for r in rows if r["batch"] == dead_batch}
        if DEAD_SUB in takers or len(takers) != 1:
            problems.append("batch %d was applied by %s" % (dead_batch, sorted(takers)))
        for sub in SUBCONSUMERS:
            if sub != DEAD_SUB:
                problems += self.check_log(sub, 0)
        cur.execute("select consumer_name, current_batch from pgq.get_consumer_info(%s) order by 1", [QUEUE])
        info = cur.fetchall()
        if [n for n, _ in info] != [CONSUMER] + ["%s.%s" % (CONSUMER, s) for s in SUBCONSUMERS
                                                 if s != DEAD_SUB]:
            problems.append("consumers after the takeover: %s (the dead member's row should be gone)"
                            % [n for n, _ in info])
        if any(b is not None for _, b in info):
            problems.append("batches still open after the stop: %s" % info)
        cur.execute("select count(*) from pgq.retry_queue")
        if cur.fetchone()[0]:
            problems.append("pgq.retry_queue is not empty")
        self.conn.rollback()
        if problems:
            raise TestFailure("coop:\n  " + "\n  ".join(problems[:40]))
        per_sub = {}
        for r in rows:
            per_sub.setdefault(r["sub"], set()).add(r["batch"])
        self.log("coop: OK, %d events applied once; batch %d taken over by %s; non-empty batches per"
                 " member: %s" % (len(expected), dead_batch, takers.pop(),
                                  {k: len(v) for k, v in sorted(per_sub.items())}))

    def cleanup(self, failed):
        for name, child in list(self.children.items()):
            if child.poll() is None:
                child.kill()
                child.wait(10)
        self.children.clear()
        if self.ticker is not None:
            self.ticker.stop_event.set()
            self.ticker.join(10)
        if failed:
            for name in os.listdir(self.workdir):
                if name.endswith((".log", ".out")):
                    with open(os.path.join(self.workdir, name), errors="replace") as f:
                        tail = f.read()[-2500:]
                    if tail:
                        sys.stderr.write("---- %s/%s ----\n%s\n----\n" % (self.scenario, name, tail))
        for conn in (getattr(self, "conn", None), getattr(self, "mirror_conn", None)):
            try:
                if conn is not None:
                    conn.close()
            except Exception:
                pass
        for db in (self.db, self.dst):
            try:
                drop_db(self.env, db)
            except Exception as e:      # do not hide the real failure
                sys.stderr.write("could not drop %s: %s\n" % (db, e))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3:])
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", choices=["ours", "ours_light", "pgq"], required=True)
    ap.add_argument("--scenario", choices=["remote", "serial", "coop"], action="append",
                    help="scenarios to run (default: all three)")
    args = ap.parse_args()

    def log(msg):
        print("[python_remote_coop %s] %s" % (args.target, msg), flush=True)

    workdir = tempfile.mkdtemp(prefix="pgqpp-pyremote.")
    try:
        env = load_cluster_env()
        for scenario in args.scenario or ["remote", "serial", "coop"]:
            run = Run(env, args.target, scenario, workdir, log)
            failed = True
            try:
                run.setup()
                if scenario == "coop":
                    run.run_coop()
                else:
                    run.run_remote_or_serial()
                failed = False
            finally:
                run.cleanup(failed)
    except TestFailure as e:
        sys.stderr.write("FAIL [clients.python_remote_coop/%s]: %s\n" % (args.target, e))
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
