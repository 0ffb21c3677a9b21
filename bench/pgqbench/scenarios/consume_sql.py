"""consume_sql: drain a backlog through next_batch / get_batch_events / finish_batch.

Set-up (not timed), the same on both sides: a queue with one consumer per round
(c1..cN, registered before any event), then CONSUME_EVENTS events (~100-byte payloads)
inserted with pgq.insert_event in set-returning statements of CONSUME_TICK_EVENTS events,
one transaction each, each followed by pgq.ticker(queue): one batch per chunk (~100 batches
for the default 1M / 10k).  Every round drains the whole backlog with its own consumer, so
the backlog is filled once per side.

Timed: one client (psycopg2) looping
    select pgq.next_batch(q, c)
    select ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4
      from pgq.get_batch_events(batch)          -- fetchall(): every row goes to the client
    select pgq.finish_batch(batch); commit
until next_batch returns NULL.  The client counts the rows and sums len(ev_data), and
checks that it saw every event.
"""
import threading
import time

from ..common import OURS, PGQ, Result, alternate, log, median, payload_sql, recreate_queue

NAME = "consume_sql"
DESCRIPTION = "drain a backlog with next_batch/get_batch_events/finish_batch (events/s)"

QUEUE = "bench_cq"
EVENT_COLS = ("ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,"
              " ev_extra1, ev_extra2, ev_extra3, ev_extra4")


def fill(ctx, side, total, chunk, rounds, out):
    recreate_queue(ctx, side, QUEUE)
    conn = ctx.connect(side)
    cur = conn.cursor()
    for r in range(rounds):
        cur.execute("select pgq.register_consumer(%s, %s)", (QUEUE, "c%d" % (r + 1)))
    t0 = time.time()
    done = ticks = 0
    insert = ("select count(pgq.insert_event(%%s, 'type', %s))"
              " from generate_series(%%s, %%s) g" % payload_sql("g"))
    while done < total:
        n = min(chunk, total - done)
        cur.execute(insert, (QUEUE, done + 1, done + n))
        done += n
        cur.execute("select pgq.ticker(%s)", (QUEUE,))
        if cur.fetchone()[0] is None:
            raise RuntimeError("%s: pgq.ticker() did not tick after %d events" % (side, n))
        ticks += 1
    conn.close()
    out[side] = (time.time() - t0, ticks)


def drain(ctx, side, consumer, expect):
    conn = ctx.connect(side, autocommit=False)
    cur = conn.cursor()
    events = nbytes = batches = 0
    t0 = time.perf_counter()
    while True:
        cur.execute("select pgq.next_batch(%s, %s)", (QUEUE, consumer))
        batch_id = cur.fetchone()[0]
        if batch_id is None:
            conn.commit()
            break
        cur.execute("select %s from pgq.get_batch_events(%%s)" % EVENT_COLS, (batch_id,))
        rows = cur.fetchall()
        events += len(rows)
        nbytes += sum(len(row[5]) for row in rows)
        cur.execute("select pgq.finish_batch(%s)", (batch_id,))
        conn.commit()
        batches += 1
    elapsed = time.perf_counter() - t0
    conn.close()
    if events != expect:
        raise RuntimeError("%s/%s: drained %d events, expected %d"
                           % (side, consumer, events, expect))
    return events / elapsed, batches, nbytes


def run(ctx):
    cfg = ctx.cfg
    total, chunk = cfg.consume_events, cfg.consume_tick_events
    log("  filling %d events per side (%d per transaction + tick), both sides at once"
        % (total, chunk))
    out, errors = {}, []

    def filler(side):
        try:
            fill(ctx, side, total, chunk, cfg.rounds, out)
        except Exception as e:      # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=filler, args=(s,), daemon=True) for s in (OURS, PGQ)]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.5)
    if errors:
        raise errors[0]
    for side in (OURS, PGQ):
        secs, ticks = out[side]
        log("  filled %-4s in %6.1f s (%7.0f events/s while ticking), %d ticks"
            % (side, secs, total / secs, ticks))
    ctx.checkpoint()
    for side in (OURS, PGQ):
        ctx.reset_stats(side)

    used = {OURS: 0, PGQ: 0}
    info = {}

    def measure(side):
        used[side] += 1
        rate, batches, nbytes = drain(ctx, side, "c%d" % used[side], total)
        info[side] = (batches, nbytes)
        return rate

    values = alternate([OURS, PGQ], cfg.rounds, measure, NAME)
    for side in (OURS, PGQ):
        ctx.print_profile(side, NAME)
    batches, nbytes = info[OURS]
    note = ("%d events in %d batches (%.0f MB of ev_data) per drain, rows fetched by the client"
            % (total, batches, nbytes / 1e6))
    return [Result(NAME, "events/s", median(values[OURS]), median(values[PGQ]),
                   rounds=values, note=note)]
