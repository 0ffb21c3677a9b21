"""trigger_jsontriga: single-row INSERT transactions into a 10-column table with
pgq.jsontriga (ours: PL/pgSQL, PgQ: C); see _trigger.py."""
from ._trigger import run_trigger

NAME = "trigger_jsontriga"
DESCRIPTION = "1-row INSERTs into a 10-column table with pgq.jsontriga (rows/s)"


def run(ctx):
    return [run_trigger(ctx, NAME, "pgq.jsontriga")]
