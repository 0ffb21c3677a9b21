#!/usr/bin/env python3
"""pgqctl as a black box against the test cluster (ctest fixture pg_cluster).

  pgqctl_test.py PGQCTL_BINARY [--target ours|pgq] [--only NAME]

Every subcommand, its errors (exit code and a one-line message naming the object) and its
--json output, parsed; real effects are checked in the database: after rewind the
consumer's next batch starts at the tick, after requeue the events are back, tail changes
no consumer's position, insert is all or nothing. `--target ours` runs on a fresh
database of pgqpp's SQL (tmpl_ours, plus install/upgrade from scratch), `--target pgq` on
the real PgQ extension (tmpl_pgq), where dead letters must be refused clearly.
"""
import argparse
from contextlib import closing, contextmanager
import json
import os
import pty
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import pgqpp_clientlib as lib  # noqa: E402

import psycopg2  # noqa: E402

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4, 5

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--target", choices=["ours", "pgq"], default="ours")
ap.add_argument("--only", help="run only the scenario with this name")
args = ap.parse_args()

ENV = lib.load_cluster_env()
TEMPLATE = {"ours": "tmpl_ours", "pgq": "tmpl_pgq"}[args.target]
DB = "t_pgqctl_" + args.target
CHILD_ENV = dict(os.environ, PGHOST=ENV["PGHOST"], PGPORT=ENV["PGPORT"], PGUSER=ENV["PGUSER"])
CHILD_ENV.pop("PGDATABASE", None)


def fail(msg):
    raise lib.TestFailure(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def pgqctl(*argv, rc=EXIT_OK, db=None, stdin=None, contains=None):
    """Runs pgqctl -d DB ARGV...; checks the exit code; an error must be exactly one line on
    stderr (containing `contains`). Returns stdout."""
    cmd = [args.binary, "-d", db or DB] + list(argv)
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=CHILD_ENV, timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    if p.returncode != rc:
        fail("%s: exit %d, expected %d\nstdout: %s\nstderr: %s" % (cmd, p.returncode, rc, out, err))
    if rc != EXIT_OK:
        lines = err.strip().splitlines()
        check(len(lines) == 1 and lines[0].startswith("pgqctl: "),
              "%s: error should be one line 'pgqctl: ...', got %r" % (cmd, err))
        if contains:
            check(contains in err, "%s: error %r should mention %r" % (cmd, err, contains))
    return out


def pgqctl_json(*argv, **kw):
    out = pgqctl(*(list(argv) + ["--json"]), **kw)
    try:
        return json.loads(out)
    except ValueError:
        fail("pgqctl %s --json printed no JSON: %r" % (" ".join(argv), out))


def connect(db=None):
    """An autocommit connection (use with closing(): psycopg2's `with conn` opens a
    transaction even in autocommit mode, hiding its work from pgqctl)."""
    c = psycopg2.connect(lib.connstr(ENV, db or DB))
    c.autocommit = True
    return c


def q1(cur, sql, params=()):
    cur.execute(sql, params)
    return cur.fetchone()


def tick(cur, queue):
    """One new tick of @queue, whatever its ticker settings say."""
    cur.execute("select pgq.force_tick(%s)", [queue])
    cur.execute("select pgq.ticker(%s)", [queue])
    tid = cur.fetchone()[0]
    check(tid is not None, "pgq.ticker(%s) made no tick after force_tick" % queue)
    return tid


def consume_all(cur, queue, consumer):
    """Processes every batch of @consumer; returns the ev_data seen, in order."""
    seen = []
    while True:
        cur.execute("select pgq.next_batch(%s, %s)", [queue, consumer])
        batch = cur.fetchone()[0]
        if batch is None:
            return seen
        cur.execute("select ev_data from pgq.get_batch_events(%s) order by ev_id", [batch])
        seen += [r[0] for r in cur.fetchall()]
        cur.execute("select pgq.finish_batch(%s)", [batch])


# ---- scenarios ------------------------------------------------------------------------

def scenario_help():
    out = pgqctl("--help")
    for command in ("install", "upgrade", "create-queue", "drop-queue", "config", "register",
                    "unregister", "rewind", "status", "tail", "insert", "dead-letter", "pause",
                    "resume"):
        check(command in out, "pgqctl --help does not list %s" % command)
        sub = pgqctl(command, "--help")
        check(sub.startswith("Usage: pgqctl " + command), "%s --help: %r" % (command, sub[:80]))
    check("Exit codes" in out, "pgqctl --help should document the exit codes")
    pgqctl("frobnicate", rc=EXIT_USAGE, contains="unknown command 'frobnicate'")
    pgqctl("status", "--bogus", rc=EXIT_USAGE, contains="--bogus")
    pgqctl("create-queue", rc=EXIT_USAGE, contains="queue")
    pgqctl("status", db="t_pgqctl_no_such_db", rc=EXIT_ERROR, contains="t_pgqctl_no_such_db")
    # -d as a connection string or URI, or nothing: libpq's PG* variables
    check("queues" in pgqctl_json("status", db="dbname='%s'" % DB), "-d key=value")
    check("queues" in pgqctl_json("status", db="postgresql:///%s?host=%s&port=%s"
                                  % (DB, ENV["PGHOST"], ENV["PGPORT"])), "-d URI")
    p = subprocess.run([args.binary, "--json", "status"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=dict(CHILD_ENV, PGDATABASE=DB), timeout=60)
    check(p.returncode == 0 and json.loads(p.stdout)["database"] == DB,
          "connection from PGDATABASE: %r" % (p.stderr,))


def scenario_install():
    """install/upgrade from the SQL inside the binary, versions before and after; refusals."""
    if args.target == "pgq":
        # The real PgQ C extension: install and upgrade refuse, nothing changes.
        pgqctl("install", rc=EXIT_REFUSED, contains="real PgQ")
        pgqctl("upgrade", rc=EXIT_REFUSED, contains="real PgQ")
        with closing(connect()) as c:
            check(q1(c.cursor(), "select count(*) from pg_extension where extname = 'pgq'")[0] == 1,
                  "the pgq extension should still be there")
        return
    fresh = DB + "_fresh"
    lib.new_db(ENV, fresh, "template0")
    try:
        pgqctl("status", db=fresh, rc=EXIT_UNAVAILABLE, contains="pgqctl install")
        pgqctl("upgrade", db=fresh, rc=EXIT_UNAVAILABLE, contains="pgqctl install")
        j = pgqctl_json("install", "--with-ext", "--with-coop", db=fresh)
        for unit in ("pgq", "pgq_ext", "pgq_coop"):
            check(j[unit]["before"] is None and j[unit]["after"], "install --json %s: %r" % (unit, j))
        with closing(connect(fresh)) as c:
            cur = c.cursor()
            check(q1(cur, "select pgq.version()")[0] == j["pgq"]["after"], "pgq.version() differs")
            check(q1(cur, "select pgq_coop.version()")[0] == j["pgq_coop"]["after"], "pgq_coop")
            check(q1(cur, "select pgq_ext.version()")[0] == j["pgq_ext"]["after"], "pgq_ext")
        pgqctl("install", db=fresh, rc=EXIT_REFUSED, contains="pgqctl upgrade")
        pgqctl("create-queue", "kept", db=fresh)
        up = pgqctl_json("upgrade", db=fresh)
        check(up["pgq"]["before"] == up["pgq"]["after"] == j["pgq"]["after"], "upgrade: %r" % up)
        check(up["pgq_ext"]["after"] and up["pgq_coop"]["after"], "upgrade keeps ext/coop: %r" % up)
        human = pgqctl("upgrade", db=fresh)
        check("BEFORE" in human and "AFTER" in human and j["pgq"]["after"] in human, human)
        rc, out, tty = run_on_tty(["upgrade"], db=fresh)
        check(rc == 0 and b"AFTER" in out and "installing: " in tty and "/s" in tty,
              "upgrade on a tty shows no progress: %r" % tty[-300:])
        with closing(connect(fresh)) as c:
            check(q1(c.cursor(), "select count(*) from pgq.queue where queue_name = 'kept'")[0] == 1,
                  "upgrade lost a queue")
        # An older installation (a version below ours) is upgraded; a newer one is refused.
        with closing(connect(fresh)) as c:
            c.cursor().execute("create or replace function pgq.version() returns text "
                               "language sql as $$ select '3.5.1' $$")
        up = pgqctl_json("upgrade", db=fresh)
        check(up["pgq"]["before"] == "3.5.1" and up["pgq"]["after"] == j["pgq"]["after"], up)
        with closing(connect(fresh)) as c:
            c.cursor().execute("create or replace function pgq.version() returns text "
                               "language sql as $$ select '99.0' $$")
        pgqctl("upgrade", db=fresh, rc=EXIT_REFUSED, contains="newer")
    finally:
        lib.drop_db(ENV, fresh)


def scenario_queue_config():
    j = pgqctl_json("create-queue", "cfg")
    check(j == {"queue": "cfg", "created": True}, "create-queue --json: %r" % j)
    check(pgqctl_json("create-queue", "cfg")["created"] is False, "second create-queue")
    check("exists already" in pgqctl("create-queue", "cfg"), "create-queue twice, human")
    conf = pgqctl_json("config", "cfg")
    check(conf["queue"] == "cfg" and "ticker_max_lag" in conf["settings"]
          and "rotation_period" in conf["settings"], "config --json: %r" % conf)
    check("queue_id" not in conf["settings"], "config lists state columns: %r" % conf)
    j = pgqctl_json("config", "cfg", "ticker_max_count", "77")
    check(j["value"] == 77, "config set --json: %r" % j)
    j = pgqctl_json("config", "cfg", "queue_ticker_max_lag", "1500 ms")
    with closing(connect()) as c:
        cur = c.cursor()
        row = q1(cur, "select queue_ticker_max_count, extract(epoch from queue_ticker_max_lag) "
                      "from pgq.queue where queue_name = 'cfg'")
    check(row[0] == 77 and float(row[1]) == 1.5, "config did not set the columns: %r" % (row,))
    check(pgqctl("config", "cfg", "ticker_max_count").strip() == "ticker_max_count = 77", "get")
    pgqctl("config", "cfg", "bogus", "1", rc=EXIT_USAGE, contains="no setting 'bogus'")
    pgqctl("config", "nosuch", rc=EXIT_NOT_FOUND, contains="queue 'nosuch'")
    pgqctl("config", "cfg", "ticker_max_count", "many", rc=EXIT_USAGE)

    # pause / resume: queue_ticker_paused, and the ticker really skips the queue
    check(pgqctl_json("pause", "cfg") == {"queue": "cfg", "ticker_paused": True}, "pause --json")
    with closing(connect()) as c:
        cur = c.cursor()
        check(q1(cur, "select queue_ticker_paused from pgq.queue where queue_name = 'cfg'")[0],
              "pause did not set queue_ticker_paused")
        last = q1(cur, "select pgq.force_tick('cfg')")[0]
        cur.execute("select pgq.ticker()")
        check(q1(cur, "select last_tick_id from pgq.get_queue_info('cfg')")[0] == last,
              "a paused queue was ticked")
    check("resumed" in pgqctl("resume", "cfg"), "resume")
    with closing(connect()) as c:
        check(not q1(c.cursor(), "select queue_ticker_paused from pgq.queue "
                                 "where queue_name = 'cfg'")[0], "resume")
    pgqctl("pause", "nosuch", rc=EXIT_NOT_FOUND, contains="queue 'nosuch'")

    # drop-queue: refused while consumers are registered, --force drops them too
    pgqctl("register", "cfg", "watcher")
    pgqctl("drop-queue", "cfg", rc=EXIT_REFUSED, contains="'watcher'")
    with closing(connect()) as c:
        check(q1(c.cursor(), "select count(*) from pgq.queue where queue_name = 'cfg'")[0] == 1,
              "a refused drop-queue dropped the queue")
    j = pgqctl_json("drop-queue", "cfg", "--force")
    check(j["dropped"] and j["unregistered"] == ["watcher"], "drop-queue --force --json: %r" % j)
    with closing(connect()) as c:
        check(q1(c.cursor(), "select count(*) from pgq.queue where queue_name = 'cfg'")[0] == 0,
              "drop-queue left the queue")
    pgqctl("drop-queue", "cfg", rc=EXIT_NOT_FOUND, contains="queue 'cfg'")
    pgqctl("create-queue", "empty")
    check("dropped" in pgqctl("drop-queue", "empty"), "drop-queue without consumers")


def scenario_register_insert_tail():
    pgqctl("create-queue", "mail")
    check(pgqctl_json("register", "mail", "c1")["registered"] is True, "register --json")
    check(pgqctl_json("register", "mail", "c1")["registered"] is False, "register twice")
    pgqctl("register", "nosuch", "c1", rc=EXIT_NOT_FOUND, contains="queue 'nosuch'")
    pgqctl("unregister", "mail", "nobody", rc=EXIT_NOT_FOUND, contains="'nobody'")
    pgqctl("register", "mail", "gone")
    check(pgqctl_json("unregister", "mail", "gone")["unregistered"], "unregister --json")
    with closing(connect()) as c:
        cur = c.cursor()
        check(q1(cur, "select count(*) from pgq.get_consumer_info('mail')")[0] == 1,
              "unregister left the consumer")
        before = q1(cur, "select last_tick from pgq.get_consumer_info('mail', 'c1')")[0]

    # tail from the newest tick (named, so that it does not matter when tail gets there):
    # sees exactly the events ticked after it, as they are ticked
    with closing(connect()) as c:
        newest = q1(c.cursor(), "select last_tick_id from pgq.get_queue_info('mail')")[0]
    tail = subprocess.Popen([args.binary, "-d", DB, "tail", "mail", "--json", "-n", "4",
                             "--interval", "0.05", "--from-tick", str(newest)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CHILD_ENV)
    time.sleep(0.3)   # usually tail is polling by now; either way it must wait for the tick
    check(tail.poll() is None, "tail ended before any event was ticked")
    j = pgqctl_json("insert", "mail", "one", "two", "--type", "greeting", "--extra1", "e1")
    check(j == {"queue": "mail", "inserted": 2}, "insert --json: %r" % j)
    out = pgqctl("insert", "mail", "--type", "line", stdin=b"three\nfour\n")
    check("inserted 2 events" in out, "insert from stdin: %r" % out)
    with closing(connect()) as c:
        tick(c.cursor(), "mail")
    try:
        out, err = tail.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        tail.kill()
        fail("tail -n 4 did not end after 4 events were ticked")
    check(tail.returncode == 0, "tail exit %d: %s" % (tail.returncode, err))
    events = [json.loads(line) for line in out.decode().splitlines()]
    check([e["ev_data"] for e in events] == ["one", "two", "three", "four"], "tail: %r" % events)
    check(events[0]["ev_type"] == "greeting" and events[0]["ev_extra1"] == "e1"
          and events[2]["ev_extra1"] is None, "tail fields: %r" % events)
    # tail is invisible to consumers: no registration, nobody's position moved
    with closing(connect()) as c:
        cur = c.cursor()
        check(q1(cur, "select count(*) from pgq.get_consumer_info('mail')")[0] == 1,
              "tail registered a consumer")
        check(q1(cur, "select last_tick from pgq.get_consumer_info('mail', 'c1')")[0] == before,
              "tail moved c1")
        check(consume_all(cur, "mail", "c1") == ["one", "two", "three", "four"], "c1 after tail")
    human = pgqctl("tail", "mail", "--from-tick", str(before), "--no-follow")
    check("one" in human and "greeting" in human and "extra1=e1" in human, "tail human: %r" % human)
    check(pgqctl("tail", "mail", "--no-follow") == "", "tail from the newest tick printed old events")
    pgqctl("tail", "mail", "--from-tick", "999999", rc=EXIT_NOT_FOUND, contains="999999")
    pgqctl("tail", "nosuch", rc=EXIT_NOT_FOUND, contains="queue 'nosuch'")

    # insert: all or nothing; bad input names the event and sends nothing
    pgqctl("insert", "mail", stdin=b"good\n\xff bad\n", rc=EXIT_USAGE, contains="event 2")
    pgqctl("insert", "nosuch", "x", rc=EXIT_NOT_FOUND, contains="queue 'nosuch'")
    with closing(connect()) as c:
        cur = c.cursor()
        tick(cur, "mail")
        check(consume_all(cur, "mail", "c1") == [], "a refused insert left events")
    many = "".join("bulk-%d\n" % i for i in range(3000)).encode()
    check(pgqctl_json("insert", "mail", stdin=many)["inserted"] == 3000, "bulk insert")
    with closing(connect()) as c:
        cur = c.cursor()
        tick(cur, "mail")
        seen = consume_all(cur, "mail", "c1")
        check(seen == ["bulk-%d" % i for i in range(3000)], "bulk insert order/content")


def scenario_rewind():
    pgqctl("create-queue", "replay")
    pgqctl("register", "replay", "r1")
    with closing(connect()) as c:
        cur = c.cursor()
        ticks = []
        for i in range(3):
            pgqctl("insert", "replay", "ev%d" % i)
            ticks.append(tick(cur, "replay"))
        check(consume_all(cur, "replay", "r1") == ["ev0", "ev1", "ev2"], "initial consumption")
        # open a batch: rewind must drop it
        pgqctl("insert", "replay", "ev3")
        ticks.append(tick(cur, "replay"))
        cur.execute("select pgq.next_batch('replay', 'r1')")
        check(cur.fetchone()[0] is not None, "no batch to leave open")

        j = pgqctl_json("rewind", "replay", "r1", "--tick", str(ticks[0]))
        check(j["tick_id"] == ticks[0] and j["consumer"] == "r1" and j["newest_tick"] == ticks[-1],
              "rewind --tick --json: %r" % j)
        check(j["events_to_replay"] >= 3, "rewind events_to_replay: %r" % j)
        cur.execute("select current_batch, last_tick from pgq.get_consumer_info('replay', 'r1')")
        check(cur.fetchone() == (None, ticks[0]), "rewind did not reposition / drop the batch")
        cur.execute("select pgq.next_batch('replay', 'r1')")
        batch = cur.fetchone()[0]
        cur.execute("select prev_tick_id from pgq.get_batch_info(%s)", [batch])
        check(cur.fetchone()[0] == ticks[0], "the next batch does not start at the tick")
        cur.execute("select ev_data from pgq.get_batch_events(%s) order by ev_id", [batch])
        replayed = [r[0] for r in cur.fetchall()]
        cur.execute("select pgq.finish_batch(%s)", [batch])
        # every event after the tick comes again, none twice, none from before it
        replayed += consume_all(cur, "replay", "r1")
        check(replayed == ["ev1", "ev2", "ev3"], "replay after rewind --tick: %r" % replayed)

        # --to a time: the newest tick at or before it
        cur.execute("select to_char(tick_time at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
                    " || '+00' from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue"
                    " where q.queue_name = 'replay' and t.tick_id = %s", [ticks[1]])
        at = cur.fetchone()[0]
        j = pgqctl_json("rewind", "replay", "r1", "--to", at)
        check(j["tick_id"] == ticks[1], "rewind --to %s chose %r, not tick %d" % (at, j, ticks[1]))
        check(consume_all(cur, "replay", "r1") == ["ev2", "ev3"], "replay after rewind --to")

        # refusals: older than the oldest kept tick (naming it), unknown tick, bad time
        pgqctl("rewind", "replay", "r1", "--to", "2 days ago", rc=EXIT_REFUSED,
               contains="oldest kept tick")
        pgqctl("rewind", "replay", "r1", "--to", "-2 days", rc=EXIT_REFUSED, contains="oldest kept tick")
        pgqctl("rewind", "replay", "r1", "--tick", "999999", rc=EXIT_NOT_FOUND, contains="999999")
        pgqctl("rewind", "replay", "r1", "--to", "not a time", rc=EXIT_USAGE, contains="not a time")
        pgqctl("rewind", "replay", "r1", rc=EXIT_USAGE, contains="--tick")
        pgqctl("rewind", "replay", "nobody", "--tick", str(ticks[0]), rc=EXIT_NOT_FOUND,
               contains="'nobody'")
        pgqctl("rewind", "nosuch", "r1", "--tick", "1", rc=EXIT_NOT_FOUND, contains="'nosuch'")
        cur.execute("select last_tick from pgq.get_consumer_info('replay', 'r1')")
        check(cur.fetchone()[0] == ticks[-1], "a refused rewind moved the consumer")
        human = pgqctl("rewind", "replay", "r1", "--tick", str(ticks[2]))
        check("moved from tick %d to tick %d" % (ticks[-1], ticks[2]) in human, human)

        # --follow waits until the consumer has caught up again
        follow = subprocess.Popen([args.binary, "-d", DB, "rewind", "replay", "r1", "--tick",
                                   str(ticks[0]), "--follow"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=CHILD_ENV)
        time.sleep(0.5)
        check(follow.poll() is None, "rewind --follow returned before the consumer caught up")
        check(consume_all(cur, "replay", "r1") == ["ev1", "ev2", "ev3"], "replay for --follow")
        try:
            follow.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            follow.kill()
            fail("rewind --follow did not return after the consumer caught up")
        check(follow.returncode == 0, "rewind --follow exit %d" % follow.returncode)


def scenario_status():
    pgqctl("create-queue", "stat")
    pgqctl("register", "stat", "fast")
    pgqctl("register", "stat", "slow")
    with closing(connect()) as c:
        cur = c.cursor()
        pgqctl("insert", "stat", "a", "b", "c")
        tick(cur, "stat")
        consume_all(cur, "stat", "fast")
        cur.execute("select pgq.next_batch('stat', 'slow')")   # slow keeps a batch open
        slow_batch = cur.fetchone()[0]
        pgqctl("insert", "stat", "d")
        tick(cur, "stat")
    s = pgqctl_json("status")
    queues = {q["queue"]: q for q in s["queues"]}
    check("stat" in queues, "status --json lacks the queue: %r" % s)
    q = queues["stat"]
    check(q["ticker"] == "running" and q["last_tick"] and q["rotation"]["state"] in ("ok", "due"),
          "status queue: %r" % q)
    check(q["rotation"]["event_tables_bytes"] > 0, "status event table size: %r" % q)
    cons = {c["consumer"]: c for c in q["consumers"]}
    check(cons["slow"]["current_batch"] == slow_batch and cons["fast"]["current_batch"] is None,
          "status current batch: %r" % cons)
    check(cons["fast"]["pending_events"] >= 1 and cons["fast"]["lag_seconds"] is not None,
          "status lag: %r" % cons)
    only = pgqctl_json("status", "stat")
    check([x["queue"] for x in only["queues"]] == ["stat"], "status QUEUE: %r" % only)
    human = pgqctl("status")
    check("QUEUE" in human and "CONSUMER" in human and "slow" in human and " kB" in human, human)
    pgqctl("status", "nosuch", rc=EXIT_NOT_FOUND, contains="'nosuch'")
    out = pgqctl("status", "stat", "--watch", "--interval", "0.1", "--iterations", "2", "--json")
    docs = [json.loads(line) for line in out.splitlines()]
    check(len(docs) == 2 and docs[1]["queues"][0]["queue"] == "stat", "status --watch: %r" % out)
    out = pgqctl("status", "--watch", "--interval", "0.1", "--iterations", "2")
    check(out.count("pgqctl status") == 2, "status --watch human: %r" % out)
    check("CATCHING UP" in out, "status --watch human shows how consumers catch up: %r" % out)
    check_catch_up_eta()
    with closing(connect()) as c:
        c.cursor().execute("select pgq.finish_batch(%s)", [slow_batch])


def check_catch_up_eta():
    """status --watch: a consumer that drains its backlog between two samples shows its
    catch-up rate and an ETA (0 once nothing is pending)."""
    pgqctl("create-queue", "eta")
    pgqctl("register", "eta", "replayer")
    with closing(connect()) as c:
        cur = c.cursor()
        pgqctl("insert", "eta", *["e%d" % i for i in range(50)])
        tick(cur, "eta")
        watch = subprocess.Popen([args.binary, "-d", DB, "status", "eta", "--watch", "--json",
                                  "--interval", "1", "--iterations", "2"],
                                 stdout=subprocess.PIPE, text=True, env=CHILD_ENV)
        first = json.loads(watch.stdout.readline())
        before = first["queues"][0]["consumers"][0]
        check(before["pending_events"] > 0 and "eta_seconds" not in before,
              "status --watch, first sample: %r" % before)
        consume_all(cur, "eta", "replayer")       # between the two samples
        second = json.loads(watch.stdout.readline())
        watch.wait(30)
    after = second["queues"][0]["consumers"][0]
    check(after["pending_events"] == 0 and after["catch_up_events_per_second"] > 0
          and after["eta_seconds"] == 0, "status --watch, second sample: %r" % after)
    pgqctl("drop-queue", "eta", "--force")


def rotate(cur, queue):
    """One rotation as the ticker does it: step1 and step2 in separate transactions."""
    cur.execute("select pgq.maint_rotate_tables_step1(%s)", [queue])
    cur.execute("select pgq.maint_rotate_tables_step2()")


@contextmanager
def open_transaction(*statements, begin="begin"):
    """Another session in a transaction that ran @statements; yields its backend pid. Ended
    by an explicit ROLLBACK (rollback() is a no-op in autocommit mode, and close() ends the
    backend asynchronously, which would race with the next tick)."""
    holder = connect()
    try:
        hcur = holder.cursor()
        hcur.execute(begin)
        hcur.execute("select pg_backend_pid()")
        pid = hcur.fetchone()[0]
        for sql in statements:
            hcur.execute(sql)
        yield pid
    finally:
        holder.cursor().execute("rollback")
        holder.close()


def until(what, cur, queue, consumers, condition, timeout=30):
    """Ticks @queue and lets @consumers catch up until condition() returns a true value
    (returned). Other tests share the cluster: one of their transactions can hold every tick
    behind a rotation point for a while, which is exactly what is being classified here."""
    end = time.time() + timeout
    while True:
        tick(cur, queue)
        for consumer in consumers:
            consume_all(cur, queue, consumer)
        result = condition()
        if result:
            return result
        if time.time() > end:
            fail("timed out waiting for: %s (status: %r)" % (what, pgqctl_json("status", queue)))
        time.sleep(0.2)


def cur_table(cur, queue):
    return q1(cur, "select queue_cur_table from pgq.queue where queue_name = %s", [queue])[0]


def scenario_rotation_blockers():
    pgqctl("create-queue", "rot")
    pgqctl("config", "rot", "rotation_period", "0")
    pgqctl("register", "rot", "stuck")
    pgqctl("register", "rot", "busy")
    with closing(connect()) as c:
        cur = c.cursor()
        pgqctl("insert", "rot", "x")
        table_before = cur_table(cur, "rot")

        def rotated():
            rotate(cur, "rot")
            return cur_table(cur, "rot") != table_before
        until("the first rotation", cur, "rot", ["busy", "stuck"], rotated)

        # after the rotation, 'stuck' never advances while 'busy' does
        pgqctl("insert", "rot", "y")

        def stuck_reported():
            s = pgqctl_json("status", "rot")
            rot = s["queues"][0]["rotation"]
            check(rot["state"] == "blocked", "rotation should be blocked: %r" % rot)
            return s if rot["blocked_by"][0]["kind"] == "consumer" else None
        s = until("the stuck consumer reported", cur, "rot", ["busy"], stuck_reported)
        rot = s["queues"][0]["rotation"]
        check(rot["blocked_by"][0]["consumer"] == "stuck", "stuck consumer: %r" % rot)
        check(any(p["kind"] == "stuck_consumer" and p["consumer"] == "stuck"
                  for p in s["problems"]), "problems: %r" % s["problems"])
        check("rotation blocked by consumer 'stuck'" in pgqctl("status", "rot"), "human")
        # and it really is blocked: step1 does not rotate
        table_now = cur_table(cur, "rot")
        rotate(cur, "rot")
        check(cur_table(cur, "rot") == table_now, "rotation happened although 'stuck' blocks it")

        # once unregistered, a long transaction with an xid older than the rotation point
        # blocks it instead
        pgqctl("unregister", "rot", "stuck")
        until("rotation after the stuck consumer is gone", cur, "rot", ["busy"],
              lambda: pgqctl_json("status", "rot")["queues"][0]["rotation"]["state"] != "blocked")
        with open_transaction("select txid_current()") as pid:
            rotate(cur, "rot")
            pgqctl("insert", "rot", "z")
            tick(cur, "rot")
            consume_all(cur, "rot", "busy")
            s = pgqctl_json("status", "rot")
            rot = s["queues"][0]["rotation"]
            check(rot["state"] == "blocked" and {"kind": "transaction", "pid": pid} in rot["blocked_by"],
                  "long transaction: %r" % rot)
            ours = [p for p in s["problems"] if p["kind"] == "long_transaction"
                    and p["transaction"]["pid"] == pid]
            check(ours and ours[0]["transaction"]["database"] == DB
                  and ours[0]["transaction"]["state"] == "idle in transaction",
                  "problems: %r" % s["problems"])
            check("pg_terminate_backend(%d)" % pid in pgqctl("status", "rot"), "human long tx")
            table_now = cur_table(cur, "rot")
            rotate(cur, "rot")
            check(cur_table(cur, "rot") == table_now, "rotation happened despite the transaction")
        until("rotation after the transaction ended", cur, "rot", ["busy"],
              lambda: pgqctl_json("status", "rot")["queues"][0]["rotation"]["state"] != "blocked")

        # a session holding a lock on the table the next rotation truncates (pg_dump takes
        # ACCESS SHARE on every table): status names it; ours skips the rotation meanwhile
        # (PgQ's would wait for the lock, so it is not run there)
        next_table = q1(cur, "select queue_data_pfx || '_' || (queue_cur_table + 1) %% queue_ntables"
                             " from pgq.queue where queue_name = 'rot'")[0]
        with open_transaction("lock table %s in access share mode" % next_table) as lpid:
            def lock_reported():
                s = pgqctl_json("status", "rot")
                rot = s["queues"][0]["rotation"]
                return s if rot["state"] == "blocked" and rot["blocked_by"] == [
                    {"kind": "lock", "pid": lpid, "table": next_table,
                     "mode": "AccessShareLock"}] else None
            s = until("the lock on %s reported" % next_table, cur, "rot", ["busy"], lock_reported)
            ours = [p for p in s["problems"] if p["kind"] == "table_lock"]
            check(len(ours) == 1 and ours[0]["transaction"]["pid"] == lpid
                  and ours[0]["transaction"]["state"] == "idle in transaction"
                  and ours[0]["table"] == next_table, "problems: %r" % s["problems"])
            human = pgqctl("status", "rot")
            check("locked (AccessShareLock) by pid %d" % lpid in human
                  and "pg_terminate_backend(%d)" % lpid in human, "human lock: %s" % human)
            if args.target == "ours":
                table_now = cur_table(cur, "rot")
                rotate(cur, "rot")
                check(cur_table(cur, "rot") == table_now, "rotation truncated a locked table")
        until("the lock gone from status", cur, "rot", ["busy"],
              lambda: pgqctl_json("status", "rot")["queues"][0]["rotation"]["state"] != "blocked")

        # Between the two steps of a rotation status says "step2 pending". pgqpp's step 2 then
        # waits while a session's snapshot predates the switch (its transaction may still
        # write into the previous table), and status names the session; PgQ's runs at once.
        with open_transaction(begin="begin isolation level repeatable read") as spid:
            table_now = cur_table(cur, "rot")
            cur.execute("select pgq.maint_rotate_tables_step1('rot')")
            check(cur_table(cur, "rot") != table_now, "no rotation to look at")
            for step in (1, 2):
                s = pgqctl_json("status", "rot")
                rot = s["queues"][0]["rotation"]
                snapshots = [b for b in rot["blocked_by"] if b["kind"] == "snapshot"]
                if args.target == "ours" or step == 1:
                    check(rot["state"] == "step2 pending", "after step %d: %r" % (step, rot))
                if args.target == "ours":
                    check(snapshots == [{"kind": "snapshot", "pid": spid}], "old snapshot: %r" % rot)
                    check([p for p in s["problems"] if p["kind"] == "old_snapshot"
                           and p["transaction"]["pid"] == spid], "problems: %r" % s["problems"])
                    check("rotation step 2 waits for pid %d" % spid in pgqctl("status", "rot"),
                          "human old snapshot")
                else:
                    check(not snapshots, "PgQ: %r" % rot)
                    if step == 2:
                        check(rot["state"] != "step2 pending", "PgQ records step 2 at once: %r" % rot)
                cur.execute("select pgq.maint_rotate_tables_step2()")
        cur.execute("select pgq.maint_rotate_tables_step2()")
        rot = pgqctl_json("status", "rot")["queues"][0]["rotation"]
        check(rot["state"] != "step2 pending"
              and not [b for b in rot["blocked_by"] if b["kind"] == "snapshot"],
              "step 2 once the snapshot is gone: %r" % rot)


def scenario_txid_behind():
    """A queue whose newest tick is ahead of the database's transaction ids (what a restore
    into another cluster looks like): status says so and points to the fix."""
    pgqctl("create-queue", "ahead")
    with closing(connect()) as c:
        cur = c.cursor()
        check(not [p for p in pgqctl_json("status", "ahead")["problems"]
                   if p["kind"] == "txid_behind"], "txid_behind before anything happened")
        cur.execute("update pgq.tick set tick_snapshot = (txid_current() + 1000000 || ':'"
                    " || txid_current() + 1000000 || ':')::txid_snapshot"
                    " where tick_queue = (select queue_id from pgq.queue where queue_name = 'ahead')")
        s = pgqctl_json("status", "ahead")
        ours = [p for p in s["problems"] if p["kind"] == "txid_behind"]
        check(len(ours) == 1 and ours[0]["queue"] == "ahead"
              and ours[0]["newest_tick_xmin"] > ours[0]["next_txid"], "problems: %r" % s["problems"])
        check("pg_resetwal -e" in pgqctl("status", "ahead"), "human txid_behind")
    pgqctl("drop-queue", "ahead")


def make_dead_letters(cur, queue, consumer, payloads):
    """Inserts @payloads, ticks, and lets @consumer give up on all of them."""
    pgqctl("insert", queue, *payloads)
    tick(cur, queue)
    cur.execute("select pgq.next_batch(%s, %s)", [queue, consumer])
    batch = cur.fetchone()[0]
    cur.execute("select pgq.dead_letter_add(%s, array(select ev_id from pgq.get_batch_events(%s)),"
                " 'cannot parse')", [batch, batch])
    cur.execute("select pgq.finish_batch(%s)", [batch])


def scenario_dead_letters():
    pgqctl("create-queue", "dlq")
    pgqctl("register", "dlq", "worker")
    if args.target == "pgq":
        for argv in (["list"], ["show", "1"], ["requeue", "1"], ["purge", "1"]):
            pgqctl("dead-letter", *argv, rc=EXIT_UNAVAILABLE, contains="pgqpp's SQL")
        return
    with closing(connect()) as c:
        cur = c.cursor()
        make_dead_letters(cur, "dlq", "worker", ["bad1", "bad2", "bad3"])
        lst = pgqctl_json("dead-letter", "list", "--queue", "dlq")
        check(sorted(d["ev_data"] for d in lst) == ["bad1", "bad2", "bad3"]
              and all(d["consumer"] == "worker" and d["reason"] == "cannot parse" for d in lst),
              "dead-letter list --json: %r" % lst)
        ids = sorted(d["dl_id"] for d in lst)
        shown = pgqctl_json("dead-letter", "show", str(ids[0]))
        check(shown["dl_id"] == ids[0] and shown["ev_data"] == "bad1" and "ev_extra4" in shown,
              "dead-letter show --json: %r" % shown)
        check("cannot parse" in pgqctl("dead-letter", "list"), "human list")
        check("bad1" in pgqctl("dead-letter", "show", str(ids[0])), "human show")
        pgqctl("dead-letter", "show", "999999", rc=EXIT_NOT_FOUND, contains="999999")
        pgqctl("dead-letter", "list", "--queue", "nosuch", rc=EXIT_NOT_FOUND, contains="nosuch")
        pgqctl("dead-letter", "requeue", str(ids[0]), "999999", rc=EXIT_NOT_FOUND, contains="999999")
        pgqctl("dead-letter", "requeue", "abc", rc=EXIT_USAGE, contains="'abc'")
        pgqctl("dead-letter", "requeue", rc=EXIT_USAGE)
        pgqctl("dead-letter", "frob", rc=EXIT_USAGE, contains="'frob'")
        check(len(pgqctl_json("dead-letter", "list")) == 3, "a refused requeue changed something")

        # requeue one by id, the rest with --all: the events come back to the worker
        check(pgqctl_json("dead-letter", "requeue", str(ids[0]))["requeued"] == 1, "requeue id")
        j = pgqctl_json("dead-letter", "requeue", "--all", "--queue", "dlq")
        check(j["requeued"] == 2, "requeue --all: %r" % j)
        check(pgqctl_json("dead-letter", "list") == [], "dead letters left after requeue")
        cur.execute("select count(*) from pgq.retry_queue")
        check(cur.fetchone()[0] == 3, "requeued events are not in the retry queue")
        cur.execute("select pgq.maint_retry_events()")
        tick(cur, "dlq")
        check(sorted(consume_all(cur, "dlq", "worker")) == ["bad1", "bad2", "bad3"],
              "requeued events did not come back to the worker")

        # on a terminal, requeue shows its progress
        make_dead_letters(cur, "dlq", "worker", ["t1", "t2"])
        rc, out, tty = run_on_tty(["dead-letter", "requeue", "--all"])
        check(rc == 0 and b"requeued 2" in out and "requeue: " in tty and "/2" in tty,
              "requeue on a tty: %r %r" % (out, tty))
        cur.execute("select pgq.maint_retry_events()")
        tick(cur, "dlq")
        check(sorted(consume_all(cur, "dlq", "worker")) == ["t1", "t2"], "requeued on a tty")

        # a requeue to a consumer that is gone is refused; purge by id and by age
        make_dead_letters(cur, "dlq", "worker", ["p1", "p2"])
        ids = sorted(d["dl_id"] for d in pgqctl_json("dead-letter", "list"))
        pgqctl("register", "dlq", "other")
        pgqctl("unregister", "dlq", "worker")
        pgqctl("dead-letter", "requeue", str(ids[0]), rc=EXIT_REFUSED, contains="worker")
        check(pgqctl_json("dead-letter", "purge", str(ids[0]))["purged"] == 1, "purge id")
        pgqctl("dead-letter", "purge", str(ids[0]), rc=EXIT_NOT_FOUND, contains=str(ids[0]))
        check(pgqctl_json("dead-letter", "purge", "--older-than", "1 hour")["purged"] == 0,
              "purge --older-than 1 hour purged a fresh one")
        check(pgqctl_json("dead-letter", "purge", "--older-than", "0 s", "--queue", "dlq")["purged"] == 1,
              "purge --older-than")
        check(pgqctl_json("dead-letter", "list") == [], "dead letters left after purge")


def run_on_tty(argv, data=None, tty="stderr", db=None):
    """Runs pgqctl with its stderr (or stdout) on a pseudo-terminal; returns (exit code,
    the other stream's bytes, what the terminal got)."""
    master, slave = pty.openpty()
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    streams[tty] = slave
    p = subprocess.Popen([args.binary, "-d", db or DB] + argv, stdin=subprocess.PIPE, env=CHILD_ENV,
                         **streams)
    os.close(slave)
    got = b""
    # read while it runs, or a full terminal buffer would block it
    while True:
        if select.select([master], [], [], 0.1)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:      # EIO: every end of the terminal is closed (it exited)
                chunk = b""
            if not chunk:
                break
            got += chunk
            continue
        if p.poll() is not None:
            break
        if data is not None:
            p.stdin.write(data)
            p.stdin.close()
            data = None
    os.close(master)
    other = (p.stdout if tty == "stderr" else p.stderr).read()
    p.wait(timeout=60)
    return p.returncode, other, got.decode(errors="replace")


def scenario_progress_on_tty():
    """On a terminal, long operations show progress with a rate and an ETA on stderr, and
    status --watch redraws in place; on pipes none of that."""
    pgqctl("create-queue", "prog")
    data = "".join("p%d\n" % i for i in range(20000)).encode()
    rc, out, tty = run_on_tty(["insert", "prog"], data)
    check(rc == 0 and b"inserted 20000" in out, "insert on a tty: %r" % out)
    check("insert: " in tty and "/20000" in tty and "/s" in tty, "no progress on a tty: %r" % tty)
    p = subprocess.run([args.binary, "-d", DB, "insert", "prog"], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CHILD_ENV)
    check(p.returncode == 0 and p.stderr == b"", "progress without a tty: %r" % p.stderr)

    rc, _, tty = run_on_tty(["status", "--watch", "--interval", "0.1", "--iterations", "2"],
                            tty="stdout")
    check(rc == 0 and tty.count("\x1b[H\x1b[2J") == 2 and "prog" in tty,
          "status --watch on a tty should redraw in place: %r" % tty[:300])
    out = pgqctl("status", "--watch", "--interval", "0.1", "--iterations", "2")
    check("\x1b[" not in out, "status --watch wrote terminal codes to a pipe")


SCENARIOS = [scenario_help, scenario_install, scenario_queue_config,
             scenario_register_insert_tail, scenario_rewind, scenario_status,
             scenario_rotation_blockers, scenario_txid_behind, scenario_dead_letters,
             scenario_progress_on_tty]


def main():
    lib.new_db(ENV, DB, TEMPLATE)
    try:
        for s in SCENARIOS:
            name = s.__name__[len("scenario_"):]
            if args.only and args.only != name:
                continue
            t0 = time.time()
            s()
            print("ok %-24s %.1f s" % (name, time.time() - t0), flush=True)
    finally:
        lib.drop_db(ENV, DB)


try:
    main()
except lib.TestFailure as e:
    print("FAIL (%s): %s" % (args.target, e), file=sys.stderr)
    sys.exit(1)
