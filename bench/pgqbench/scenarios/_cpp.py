"""What the C++ scenarios share: the driver bench/pgqpp_bench_producer and its output.

The driver (bench/cpp/pgqpp_bench_producer.cpp) runs one measurement with the C++ library and
prints `key=value` lines; it connects through libpq's PG* environment, which bench/run sets
from the cluster, plus PGDATABASE for the side.
"""
import os

from ..common import DBS
from . import _consumers as cons


def driver():
    """Path of pgqpp_bench_producer ($PGQPP_BENCH_PRODUCER, else in the build tree, built
    with CMake when missing or stale: _consumers.built)."""
    path = os.environ.get("PGQPP_BENCH_PRODUCER")
    if path:
        if not os.access(path, os.X_OK):
            raise RuntimeError("PGQPP_BENCH_PRODUCER=%s is not an executable" % path)
        return path
    return cons.built("pgqpp_bench_producer", os.path.join("bench", "pgqpp_bench_producer"),
                      ["core", "producer", os.path.join("bench", "cpp")])


def run_driver(ctx, side, args, dbname=None):
    """Runs the driver for `side` (ours|pgq); returns its key=value output as floats."""
    env = dict(os.environ, PGDATABASE=dbname or DBS[side])
    env.pop("PGOPTIONS", None)
    proc = cons.start_child(ctx, [driver()] + list(args), env)
    out = cons.wait_child(ctx, proc, "pgqpp_bench_producer %s" % " ".join(map(str, args)), None)
    values = cons.parse_values(out)
    if "events_per_sec" not in values:
        raise RuntimeError("pgqpp_bench_producer printed no events_per_sec:\n" + out)
    return values
