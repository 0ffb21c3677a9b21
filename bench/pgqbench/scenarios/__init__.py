"""One module per scenario; each has NAME, DESCRIPTION and run(ctx) -> list of results.

The scenarios below run in this order; any other module of this package (not starting with
an underscore) is a scenario too and runs after them, in name order.
"""
import importlib
import pkgutil

_ORDERED = ["enqueue_single", "enqueue_bulk", "consume_sql", "held_xmin",
            "cpp_enqueue_single", "cpp_enqueue_bulk", "async_enqueue",
            "trigger_logutriga", "trigger_jsontriga"]
_OTHERS = sorted(m.name for m in pkgutil.iter_modules(__path__)
                 if not m.name.startswith("_") and m.name not in _ORDERED)

ALL = [importlib.import_module("." + name, __name__) for name in _ORDERED + _OTHERS]
BY_NAME = {m.NAME: m for m in ALL}
