"""replay_backlog: a mail mirror catching up after its daemon was down.

The mail mirror example (examples/mail_mirror, docs/example-mail-mirror.md): a primary mail
database whose letters table has the capture trigger pgq.jsontriga (each event ~300 bytes:
the whole row as JSON), and a mirror database with the same tables, pgq_ext and the batch
log.  Set-up (not timed): BENCH_REPLAY_EVENTS new letters (default 10,000,000) written while
no mirror daemon runs, by INSERT ... SELECT in transactions of BENCH_REPLAY_CHUNK letters
(default 100,000), each followed by pgq.ticker(): the backlog is one batch per chunk.
BENCH_REPLAY_FILL=direct (default) writes the letters with triggers off and their events
straight into the queue's current event table (INSERT ... SELECT row_to_json(letter), what
the C++ producer's COPY path does): our PL/pgSQL jsontriga writes ~5,600 letters/s on this
machine, 30 minutes for 10M.  BENCH_REPLAY_FILL=trigger uses the capture trigger itself.
The events differ only in that arrays are JSON arrays, not "{a,b}" strings.

Timed: build/examples/mail_mirror/mail_mirror_daemon (remote exactly-once) is started and
runs until its consumer has finished the last tick: events/s, time to catch up, and its peak
RSS (VmHWM, read from /proc before it is stopped).  Then the mirror must hold every letter
and every event must be logged once in mail.applied_batches.

Comparison ("pgq" column): python3-pgq's RemoteConsumer (Debian's package, the classic way
to write such a consumer) on the real PgQ, applying each batch in bulk too: its letter changes
in one call of the mirror's mail.apply_letter_changes per 5000 changes (the rows' JSON parsed
by PostgreSQL; the C++ daemon parses it itself and COPYs the values into a staging table,
which is the difference that matters), pgq_ext batch tracking, pgq_lazy_fetch = 5000 (a
cursor, not the whole batch in memory).  Python is slow, so it replays BENCH_REPLAY_PY_EVENTS
letters (default the smaller of 1,000,000 and BENCH_REPLAY_EVENTS) and the rates are
compared; its peak RSS is its own VmHWM.

Two more ways to write that Python consumer are measured as baselines (ours/base is the
ratio against each), with BENCH_REPLAY_PY_MODE set for the child:
- python_londiste (BENCH_REPLAY_PY_MODE=londiste, BENCH_REPLAY_PY_LONDISTE_EVENTS letters,
  default 100,000): each event becomes an INSERT, UPDATE or DELETE with the row's values
  quoted in by skytools' mk_*_sql, 200 statements sent per round trip, as Londiste's table
  handler applies changes;
- python_per_event (BENCH_REPLAY_PY_MODE=per_event, BENCH_REPLAY_PY_PER_EVENT_EVENTS
  letters, default 10,000): one parameterised statement per event and round trip.
0 letters skips one. Their backlogs tick every BENCH_REPLAY_PY_BASELINE_CHUNK letters
(default 10,000), not every BENCH_REPLAY_CHUNK: each statement also updates its letter's
folder row (the mirror's counter trigger), and in one transaction the versions of a row
cannot be pruned, so every update walks all earlier ones: per-statement apply slows down with
the batch's size (Londiste-style: ~5,400 events/s in 10,000-event batches, ~830 in
100,000-event ones). Smaller batches are the fairer comparison for them.

BENCH_REPLAY_DAEMON_ARGS: more options for mail_mirror_daemon, split at spaces (e.g.
"--fetch-connections 2"; figures in docs/example-mail-mirror.md).

Environment: BENCH_REPLAY_EVENTS, BENCH_REPLAY_PY_EVENTS, BENCH_REPLAY_PY_MODE,
BENCH_REPLAY_PY_LONDISTE_EVENTS, BENCH_REPLAY_PY_PER_EVENT_EVENTS,
BENCH_REPLAY_PY_BASELINE_CHUNK, BENCH_REPLAY_CHUNK, BENCH_REPLAY_DAEMON_ARGS,
MAIL_MIRROR_BIN_DIR (default examples/mail_mirror of PGQPP_BUILD_DIR or build/; built with CMake
when missing or older than its sources).
Quick try: BENCH_REPLAY_EVENTS=200000 bench/run replay_backlog.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ..common import DBS, OURS, PGQ, Result, log
from . import _consumers as cons

NAME = "replay_backlog"
DESCRIPTION = "mail mirror: replay a backlog of letters after the daemon was down (events/s)"

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUEUE, CONSUMER = "mail", "mail_mirror"
MIRROR_DBS = {OURS: "bench_mail_mirror_ours", PGQ: "bench_mail_mirror_pgq"}
FOLDERS = 10

# One letter per g: ~300 bytes of JSON in the event (subject, sender, three recipients,
# two timestamps, flags, labels, size).
INSERT_LETTERS = """
insert into mail.letters (folder_id, subject, sender, recipients, sent_at, received_at,
                          seen, flagged, labels, size)
select 1 + g %% {folders},
       'Re: quarterly report for project ' || g || ' (draft ' || g %% 7 || ')',
       'sender' || g %% 1000 || '@example.com',
       array['alice' || g %% 97 || '@example.org', 'bob' || g %% 89 || '@example.net',
             'team-' || g %% 13 || '@lists.example.com'],
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 s',
       timestamptz '2026-01-01 00:00:07+00' + g * interval '1 s',
       g %% 3 = 0, g %% 11 = 0,
       (case g %% 4 when 0 then '{{work,important}}' when 1 then '{{family}}' else '{{}}' end)::text[],
       1000 + g %% 50000
  from generate_series(%s, %s) g
""".format(folders=FOLDERS)


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def bin_dir():
    """The mail mirror's programs: $MAIL_MIRROR_BIN_DIR, else examples/mail_mirror of the
    build directory (PGQPP_BUILD_DIR, default build/; built with CMake when missing or older
    than their sources)."""
    path = os.environ.get("MAIL_MIRROR_BIN_DIR")
    if path:
        return path
    daemon = cons.built(["mail_mirror", "pgq_sql", "pgq_ext_sql"],
                        os.path.join("examples", "mail_mirror", "mail_mirror_daemon"),
                        ["core", "runtime", "consumer", "pgq_sql",
                         os.path.join("examples", "mail_mirror")])
    return os.path.dirname(daemon)


def connstr(ctx, dbname):
    env = ctx.cluster.env
    return "host='%s' port='%s' user='%s' dbname='%s'" % (
        env["PGHOST"], env["PGPORT"], env["PGUSER"], dbname)


def setup(ctx, side, bins):
    """Both databases from scratch: the primary's mail schema and queue, the mirror database."""
    conn = ctx.cluster.connect("postgres")
    cur = conn.cursor()
    cur.execute("drop database if exists %s with (force)" % MIRROR_DBS[side])
    cur.execute("create database %s" % MIRROR_DBS[side])
    conn.close()
    ctx.sql(side, "set client_min_messages = warning; drop schema if exists mail cascade;"
                  " select pgq.drop_queue(queue_name, true) from pgq.queue"
                  " where queue_name = '%s'" % QUEUE)
    args = [os.path.join(bins, "mail_setup"), connstr(ctx, DBS[side]),
            connstr(ctx, MIRROR_DBS[side])]
    if side == PGQ:
        args.append("--real-pgq")
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    folders = ("insert into mail.folders (id, name) select g, 'folder ' || g"
               " from generate_series(1, %d) g" % FOLDERS)
    ctx.sql(side, folders)
    mirror = ctx.cluster.connect(MIRROR_DBS[side])
    mirror.cursor().execute(folders)
    mirror.close()


EVENT_TYPE = '{"op":"INSERT","table":["mail","letters"],"pkey":["id"]}'


def fill(ctx, side, total, chunk, direct):
    """`total` new letters, one transaction and one tick per chunk; returns the last tick."""
    conn = ctx.connect(side)
    cur = conn.cursor()
    if direct:  # no trigger fires: the events are written below
        cur.execute("set session_replication_role = replica")
    t0 = time.time()
    done = 0
    while done < total:
        n = min(chunk, total - done)
        if direct:
            cur.execute("begin")
        cur.execute(INSERT_LETTERS, (done + 1, done + n))
        if direct:
            cur.execute("select pgq.current_event_table(%s)", (QUEUE,))
            table = ".".join('"%s"' % part.replace('"', '""')
                             for part in cur.fetchone()[0].split("."))
            cur.execute("insert into %s (ev_time, ev_type, ev_data, ev_extra1)"
                        " select now(), %%s, row_to_json(l)::text, 'mail.letters'"
                        "   from mail.letters l where l.id between %%s and %%s order by l.id"
                        % table, (EVENT_TYPE, done + 1, done + n))
            cur.execute("commit")
        done += n
        cur.execute("select pgq.ticker(%s)", (QUEUE,))
    cur.execute("select last_tick_id from pgq.get_queue_info(%s)", (QUEUE,))
    last_tick = cur.fetchone()[0]
    cur.execute("select pg_size_pretty(sum(pg_total_relation_size(c.oid)))"
                "  from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = 'pgq' and c.relname like 'event%%'")
    size = cur.fetchone()[0]
    conn.close()
    secs = time.time() - t0
    log("  %s: %d letters written in %.1f s (%.0f/s), queue %s" % (side, total, secs,
                                                                  total / secs, size))
    return last_tick


def caught_up(ctx, side, tick):
    rows = ctx.sql(side, "select last_tick from pgq.get_consumer_info(%s, %s)", (QUEUE, CONSUMER))
    return rows and rows[0][0] is not None and rows[0][0] >= tick


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def check_mirror(ctx, side, total):
    conn = ctx.cluster.connect(MIRROR_DBS[side])
    cur = conn.cursor()
    cur.execute("select (select count(*) from mail.letters),"
                "       (select coalesce(sum(events), 0) from mail.applied_batches),"
                "       (select count(*) - count(distinct batch_id) from mail.applied_batches)")
    letters, applied, twice = cur.fetchone()
    conn.close()
    if letters != total or applied != total or twice != 0:
        raise RuntimeError("%s: mirror has %d letters, %d events applied, %d batches twice;"
                           " expected %d, %d, 0" % (side, letters, applied, twice, total, total))


def replay_ours(ctx, bins, total, last_tick, workdir):
    logfile = open(os.path.join(workdir, "daemon.log"), "w")
    proc = subprocess.Popen([os.path.join(bins, "mail_mirror_daemon"),
                             "--db", connstr(ctx, DBS[OURS]),
                             "--target-db", connstr(ctx, MIRROR_DBS[OURS]),
                             "--poll-period", "100ms", "--stats-period", "10s"]
                            + os.environ.get("BENCH_REPLAY_DAEMON_ARGS", "").split(),
                            stdout=logfile, stderr=subprocess.STDOUT)
    ctx.children.add(proc)
    t0 = time.time()
    try:
        while not caught_up(ctx, OURS, last_tick):
            if proc.poll() is not None:
                raise RuntimeError("mail_mirror_daemon exited %s (log: %s)"
                                   % (proc.returncode, logfile.name))
            time.sleep(0.2)
        secs = time.time() - t0
        rss_kb = vm_hwm_kb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
        ctx.children.discard(proc)
        logfile.close()
    return secs, rss_kb


# -- python3-pgq's RemoteConsumer (runs in a child process: its own RSS) --------------------
PY_CHILD = """
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, %r)
from pgqbench.scenarios.replay_backlog import python_child
python_child(sys.argv[1])
""" % BENCH_DIR


# BENCH_REPLAY_PY_MODE=per_event: the statement for each kind of change (ev_data: the row).
PER_EVENT_SQL = {
    "I": "insert into mail.letters select * from json_populate_record(null::mail.letters, %s)",
    "U": "update mail.letters m set (folder_id, subject, sender, recipients, sent_at, received_at,"
         " seen, flagged, answered, labels, size) = (r.folder_id, r.subject, r.sender,"
         " r.recipients, r.sent_at, r.received_at, r.seen, r.flagged, r.answered, r.labels,"
         " r.size) from json_populate_record(null::mail.letters, %s) r where m.id = r.id",
    "D": "delete from mail.letters where id = (%s::json->>'id')::bigint",
}


# BENCH_REPLAY_PY_MODE=londiste: statements sent per round trip, as londiste's apply_sql does.
LONDISTE_SQL_PER_ROUND_TRIP = 200


def send_in_groups(items, size, send):
    """Calls send(list) with `size` items at a time (the rest at the end); returns the count."""
    group, count = [], 0
    for item in items:
        group.append(item)
        count += 1
        if len(group) >= size:
            send(group)
            group = []
    if group:
        send(group)
    return count


def python_child(ini):
    """Drains the queue with a pgq.RemoteConsumer, then prints its VmHWM."""
    import json
    import pgq
    import skytools     # python3-pgq's dependency: only in the child's /usr/bin/python3
    mode = os.environ.get("BENCH_REPLAY_PY_MODE", "bulk")
    make_sql = {"I": skytools.mk_insert_sql, "U": skytools.mk_update_sql,
                "D": skytools.mk_delete_sql}

    def londiste_statement(ev):
        """The event as Londiste's table handler applies a change: the row's values quoted
        into an INSERT, UPDATE or DELETE by skytools (arrays as PostgreSQL array literals)."""
        row = json.loads(ev.data)
        for column in ("recipients", "labels"):
            if isinstance(row[column], list):
                row[column] = skytools.make_pgarray(row[column])
        return make_sql[ev.type[7]](row, "mail.letters", ["id"])

    class Mirror(pgq.RemoteConsumer):
        def __init__(self, args):
            super().__init__("replay", "src_db", "dst_db", args)

        def process_remote_batch(self, db, batch_id, ev_list, dst_db):
            curs = dst_db.cursor()
            if mode == "per_event":   # one statement per event, as such consumers are often written
                events = 0      # ev_list is a cursor (pgq_lazy_fetch): counted on the way
                for ev in ev_list:
                    curs.execute(PER_EVENT_SQL[ev.type[7]], [ev.data])
                    events += 1
            elif mode == "londiste":  # statements as text, 200 per round trip
                events = send_in_groups(
                    (londiste_statement(ev) for ev in ev_list),
                    LONDISTE_SQL_PER_ROUND_TRIP, lambda group: curs.execute("\n".join(group)))
            else:                     # bulk: the mirror's function, 5000 changes per call
                events = send_in_groups(
                    (ev.type[7] + ev.data for ev in ev_list),   # {"op":"INSERT"... -> I
                    5000, lambda group: curs.execute("select mail.apply_letter_changes(%s)",
                                                     ["\n".join(group)]))
            info = self.batch_info
            curs.execute("insert into mail.applied_batches (batch_id, prev_tick_id, tick_id,"
                         " events) values (%s, %s, %s, %s)",
                         [batch_id, info["prev_tick_id"], info["tick_id"], events])

    consumer = Mirror([ini])
    while consumer.work():
        pass
    print("VmHWM_kB=%d" % vm_hwm_kb(os.getpid()))


def replay_python(ctx, last_tick, workdir, mode=None):
    """Runs python_child until the last tick; `mode`: BENCH_REPLAY_PY_MODE for it."""
    ini = os.path.join(workdir, "replay.ini")
    with open(ini, "w") as f:
        f.write("[replay]\njob_name = replay_backlog\n")
        f.write("src_db = %s\n" % connstr(ctx, DBS[PGQ]))
        f.write("dst_db = %s\n" % connstr(ctx, MIRROR_DBS[PGQ]))
        f.write("queue_name = %s\nconsumer_name = %s\n" % (QUEUE, CONSUMER))
        f.write("pgq_lazy_fetch = 5000\nuse_skylog = 0\n")
        f.write("logfile = %s\n" % os.path.join(workdir, "python.log"))
    t0 = time.time()
    env = dict(os.environ)
    if mode:
        env["BENCH_REPLAY_PY_MODE"] = mode
    proc = cons.start_child(ctx, ["/usr/bin/python3", "-c", PY_CHILD, ini], env)
    out = cons.wait_child(ctx, proc, "python RemoteConsumer", None)
    secs = time.time() - t0
    if "VmHWM_kB=" not in out:
        raise RuntimeError("python RemoteConsumer printed no VmHWM_kB:\n" + out)
    if not caught_up(ctx, PGQ, last_tick):
        raise RuntimeError("python RemoteConsumer stopped before the last tick")
    rss_kb = int(out.rsplit("VmHWM_kB=", 1)[1].split()[0])
    return secs, rss_kb


def replay_python_once(ctx, bins, workdir, total, chunk, direct, mode=None):
    """A fresh backlog of `total` letters on the real PgQ, replayed by python_child: (s, kB)."""
    setup(ctx, PGQ, bins)
    tick = fill(ctx, PGQ, total, chunk, direct)
    ctx.checkpoint()
    secs, rss_kb = replay_python(ctx, tick, workdir, mode)
    check_mirror(ctx, PGQ, total)
    return secs, rss_kb


def run(ctx):
    total = _env_int("BENCH_REPLAY_EVENTS", 10000000)
    py_total = _env_int("BENCH_REPLAY_PY_EVENTS", min(total, 1000000))
    per_event_total = _env_int("BENCH_REPLAY_PY_PER_EVENT_EVENTS", 10000)
    londiste_total = _env_int("BENCH_REPLAY_PY_LONDISTE_EVENTS", 100000)
    # Smaller batches for the statement-per-event baselines: see the docstring.
    baseline_chunk = _env_int("BENCH_REPLAY_PY_BASELINE_CHUNK", 10000)
    chunk = _env_int("BENCH_REPLAY_CHUNK", 100000)
    direct = os.environ.get("BENCH_REPLAY_FILL", "direct") != "trigger"
    bins = bin_dir()
    workdir = tempfile.mkdtemp(prefix="pgqpp-replay.")
    log("  ours: %d letters (one event each) while the daemon is down, %d per tick"
        % (total, chunk))
    setup(ctx, OURS, bins)
    last_tick = fill(ctx, OURS, total, chunk, direct)
    ctx.checkpoint()
    secs, rss_kb = replay_ours(ctx, bins, total, last_tick, workdir)
    check_mirror(ctx, OURS, total)
    ours_rate = total / secs
    log("  ours: caught up in %.1f s: %.0f events/s, peak RSS %.1f MiB"
        % (secs, ours_rate, rss_kb / 1024.0))

    log("  python3-pgq RemoteConsumer on the real PgQ: %d letters" % py_total)
    py_secs, py_rss_kb = replay_python_once(ctx, bins, workdir, py_total, chunk, direct)
    py_rate = py_total / py_secs
    log("  python: caught up in %.1f s: %.0f events/s, peak RSS %.1f MiB"
        % (py_secs, py_rate, py_rss_kb / 1024.0))
    baselines = {}
    for name, mode, letters, how in (
            ("python_londiste", "londiste", londiste_total,
             "statements built by skytools, %d per round trip, as Londiste applies them"
             % LONDISTE_SQL_PER_ROUND_TRIP),
            ("python_per_event", "per_event", per_event_total, "one statement per event")):
        if letters <= 0:
            continue
        log("  the same, %s: %d letters" % (how, letters))
        mode_secs, _ = replay_python_once(ctx, bins, workdir, letters, baseline_chunk, direct,
                                          mode)
        baselines[name] = letters / mode_secs
        log("  %s: caught up in %.1f s: %.0f events/s" % (name, mode_secs, baselines[name]))
    for side in (OURS, PGQ):     # the mirrors and the backlog are big: give the disk back
        conn = ctx.cluster.connect("postgres")
        conn.cursor().execute("drop database if exists %s with (force)" % MIRROR_DBS[side])
        conn.close()
        ctx.sql(side, "set client_min_messages = warning; drop schema if exists mail cascade;"
                      " select pgq.drop_queue(queue_name, true) from pgq.queue"
                      " where queue_name = '%s'" % QUEUE)
    shutil.rmtree(workdir, ignore_errors=True)   # kept on failure: the logs are there
    note = ("ours: mail_mirror_daemon, %d events, caught up in %.1f s; pgq column: python3-pgq"
            " RemoteConsumer on the real PgQ, %d events in %.1f s (bulk apply per batch, JSON"
            " parsed by the server); rates compared" % (total, secs, py_total, py_secs))
    return [Result(NAME, "events/s", ours_rate, py_rate, baselines=baselines, note=note),
            Result(NAME + "_rss", "MiB", rss_kb / 1024.0, py_rss_kb / 1024.0,
                   higher_is_better=False,
                   note="peak RSS (VmHWM) of the consumer process during the replay")]
