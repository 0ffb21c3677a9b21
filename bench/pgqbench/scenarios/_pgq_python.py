#!/usr/bin/python3
"""python3-pgq's side of the consumer benchmarks: Debian's pgq.Consumer / pgq.RemoteConsumer,
run through their normal start() main loop, configured by an ini file.

    /usr/bin/python3 _pgq_python.py noop|mirror|latency CONFIG.ini

The [bench] section is the consumer's own (job_name, src_db, queue_name, consumer_name,
logfile, loop_delay and the rest at python3-pgq's defaults; dst_db for mirror) plus the
benchmark's keys:
  expect        stop after this many counted events (the loop ends after that batch)
  result_file   where `key=value` lines go: events, seconds, events_per_sec
  latency_file  latency: one "type ms" line per counted event, in arrival order
  mirror_table  mirror: the target table (ev_id, ev_data)

noop     pgq.Consumer, process_event counts;
mirror   pgq.RemoteConsumer, process_remote_batch inserts each event as a row of
         mirror_table in the target (one INSERT per event, the class's usual use);
latency  pgq.Consumer; events of any type but 'warm' carry the epoch seconds of their
         commit in ev_data, and time.time() minus that is recorded.

`seconds` runs from the first work() call (connecting included, as the C++ driver's count
includes its connect) to the end of the work() whose batch reached `expect`.
"""
import sys
import time

import pgq

SERVICE = "bench"


class Measured:
    """Counting, timing and stopping, shared by the three consumers."""

    def reload(self):
        super().reload()
        self.expect = self.cf.getint("expect")
        self.result_file = self.cf.getfile("result_file")

    counted = 0
    t0 = t_end = None

    def count(self):
        self.counted += 1

    def work(self):
        if self.t0 is None:
            self.t0 = time.time()
        r = super().work()
        if self.counted >= self.expect and self.t_end is None:
            self.t_end = time.time()
            self.stop()             # BaseScript: leave the loop after this work()
        return r

    def write_result(self):
        seconds = (self.t_end or time.time()) - (self.t0 or time.time())
        with open(self.result_file, "w") as f:
            f.write("events=%d\nseconds=%.6f\nevents_per_sec=%.3f\n"
                    % (self.counted, seconds, self.counted / seconds if seconds > 0 else 0))


class Noop(Measured, pgq.Consumer):
    def __init__(self, args):
        super().__init__(SERVICE, "src_db", args)

    def process_event(self, db, ev):
        self.count()


class Mirror(Measured, pgq.RemoteConsumer):
    def __init__(self, args):
        super().__init__(SERVICE, "src_db", "dst_db", args)

    def reload(self):
        super().reload()
        table = self.cf.get("mirror_table")
        self.insert = 'insert into "%s" (ev_id, ev_data) values (%%s, %%s)' % table.replace(
            '"', '""')

    def process_remote_batch(self, db, batch_id, ev_list, dst_db):
        curs = dst_db.cursor()
        for ev in ev_list:
            curs.execute(self.insert, [ev.id, ev.data])
            self.count()


class Latency(Measured, pgq.Consumer):
    def __init__(self, args):
        super().__init__(SERVICE, "src_db", args)
        self.latencies = []

    def process_event(self, db, ev):
        if ev.type != "warm":
            self.latencies.append((ev.type, (time.time() - float(ev.data)) * 1000.0))
            self.count()

    def write_result(self):
        super().write_result()
        with open(self.cf.getfile("latency_file"), "w") as f:
            for kind, ms in self.latencies:
                f.write("%s %.3f\n" % (kind, ms))


def main():
    kind, ini = sys.argv[1], sys.argv[2]
    consumer = {"noop": Noop, "mirror": Mirror, "latency": Latency}[kind](["-q", ini])
    consumer.start()
    consumer.write_result()


if __name__ == "__main__":
    main()
