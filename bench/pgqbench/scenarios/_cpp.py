"""What the C++ scenarios share: the driver build/bench/pgqpp_bench_producer and its output.

The driver (bench/cpp/pgqpp_bench_producer.cpp) runs one measurement with the C++ library and
prints `key=value` lines; it connects through libpq's PG* environment, which bench/run sets
from the cluster, plus PGDATABASE for the side.
"""
import os
import subprocess

from ..common import DBS, log

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO = os.path.dirname(BENCH_DIR)


def driver():
    """Path of pgqpp_bench_producer ($PGQPP_BENCH_PRODUCER, else build/bench/...), built
    with CMake when missing."""
    path = os.environ.get("PGQPP_BENCH_PRODUCER")
    if path:
        if not os.access(path, os.X_OK):
            raise RuntimeError("PGQPP_BENCH_PRODUCER=%s is not an executable" % path)
        return path
    build = os.path.join(REPO, "build")
    path = os.path.join(build, "bench", "pgqpp_bench_producer")
    if not os.access(path, os.X_OK) or _older_than_sources(path):
        log("  building pgqpp_bench_producer")
        if not os.path.isfile(os.path.join(build, "CMakeCache.txt")):
            subprocess.run(["cmake", "-S", REPO, "-B", build,
                            "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True,
                           stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build, "--target", "pgqpp_bench_producer",
                        "-j", str(os.cpu_count() or 2)], check=True, stdout=subprocess.DEVNULL)
    return path


def _older_than_sources(binary):
    built = os.path.getmtime(binary)
    for d in ("core", "producer", os.path.join("bench", "cpp")):
        for root, _, files in os.walk(os.path.join(REPO, d)):
            for f in files:
                if os.path.getmtime(os.path.join(root, f)) > built:
                    return True
    return False


def run_driver(ctx, side, args, dbname=None):
    """Runs the driver for `side` (ours|pgq); returns its key=value output as floats."""
    env = dict(os.environ, PGDATABASE=dbname or DBS[side])
    env.pop("PGOPTIONS", None)
    proc = subprocess.Popen([driver()] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    ctx.children.add(proc)
    try:
        out, err = proc.communicate()
    finally:
        ctx.children.discard(proc)
    if proc.returncode != 0:
        raise RuntimeError("pgqpp_bench_producer %s failed (exit %s):\n%s%s"
                           % (" ".join(map(str, args)), proc.returncode, out, err))
    values = {}
    for line in out.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            try:
                values[k.strip()] = float(v)
            except ValueError:
                pass
    if "events_per_sec" not in values:
        raise RuntimeError("pgqpp_bench_producer printed no events_per_sec:\n" + out + err)
    return values
