"""One module per scenario; each has NAME, DESCRIPTION and run(ctx) -> list of results."""
from . import enqueue_single, enqueue_bulk, consume_sql, held_xmin
from . import cpp_enqueue_single, cpp_enqueue_bulk, async_enqueue
from . import trigger_logutriga, trigger_jsontriga

ALL = [enqueue_single, enqueue_bulk, consume_sql, held_xmin,
       cpp_enqueue_single, cpp_enqueue_bulk, async_enqueue]
ALL += [trigger_logutriga, trigger_jsontriga]
BY_NAME = {m.NAME: m for m in ALL}
