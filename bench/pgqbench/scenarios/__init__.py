"""One module per scenario; each has NAME, DESCRIPTION and run(ctx) -> list of results."""
from . import enqueue_single, enqueue_bulk, consume_sql, held_xmin

ALL = [enqueue_single, enqueue_bulk, consume_sql, held_xmin]
BY_NAME = {m.NAME: m for m in ALL}
