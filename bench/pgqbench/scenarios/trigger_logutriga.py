"""trigger_logutriga: single-row INSERT transactions into a 10-column table with
pgq.logutriga (ours: PL/pgSQL, PgQ: C); see _trigger.py."""
from ._trigger import run_trigger

NAME = "trigger_logutriga"
DESCRIPTION = "1-row INSERTs into a 10-column table with pgq.logutriga (rows/s)"


def run(ctx):
    return [run_trigger(ctx, NAME, "pgq.logutriga")]
