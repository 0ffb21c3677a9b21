#!/usr/bin/env bash
# THE demo command (README): builds pgqpp, starts a throwaway PostgreSQL 15, installs our pgq
# and walks through one producer -> ticker -> consumer round with plain SQL.
#
#   scripts/demo.sh              our pgq (build/pgq_sql/pgq_install.sql)
#   scripts/demo.sh --real-pgq   the same steps on Debian's PgQ 3.5 extension, for comparison
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

target=ours
case "${1:-}" in
"") ;;
--real-pgq) target=pgq ;;
*) echo "usage: scripts/demo.sh [--real-pgq]" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null

cluster=$(mktemp -d /tmp/pgqpp-demo.XXXXXX)
trap 'bash tests/harness/pg_cluster.sh stop "$cluster" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bash tests/harness/pg_cluster.sh start "$cluster"
export PGQPP_TEST_CLUSTER=$cluster
# shellcheck source=tests/harness/lib.sh
source tests/harness/lib.sh
pgqpp_load_env
export PGDATABASE=demo PGOPTIONS="-c client_min_messages=warning"

step() { printf '\n== %s\n' "$*"; }
# Runs one SQL text (several statements allowed), echoing it, stopping on error.
sql() { psql -X -q -v ON_ERROR_STOP=1 -P footer=off -e -c "$1"; }

step "Create database 'demo' and install pgq ($target)"
pgqpp_new_db demo template0
if [[ "$target" == ours ]]; then
    psql -X -q -v ON_ERROR_STOP=1 -f build/pgq_sql/pgq_install.sql >/dev/null
else
    sql "create extension pgq"
fi
sql "select pgq.version()"

step "Create a queue. Ticker: make a tick whenever there are new events (no waiting)"
sql "select pgq.create_queue('demo_queue')"
sql "select pgq.set_queue_config('demo_queue', 'ticker_max_lag', '0')"

step "Register the consumer first: it gets the events inserted after its registration"
sql "select pgq.register_consumer('demo_queue', 'demo_consumer')"

step "Tick (pgqd does this every second in production)"
sql "select pgq.ticker()"

step "Producer: three events in one transaction, committed"
psql -X -q -v ON_ERROR_STOP=1 -e <<'SQL'
begin;
select pgq.insert_event('demo_queue', 'greeting', 'hello 1');
select pgq.insert_event('demo_queue', 'greeting', 'hello 2');
select pgq.insert_event('demo_queue', 'greeting', 'hello 3');
commit;
SQL

step "Producer: one event in a transaction that rolls back: it must never be delivered"
psql -X -q -v ON_ERROR_STOP=1 -e <<'SQL'
begin;
select pgq.insert_event('demo_queue', 'greeting', 'rolled back');
rollback;
SQL

step "Tick again: the new tick closes the batch of the events committed since the last one"
sql "select pgq.ticker()"

step "Consumer loop: next_batch -> get_batch_events -> finish_batch, until next_batch is NULL"
echo "(A batch is the events committed between two ticks; an idle tick gives an empty batch.)"
delivered=0
while :; do
    batch_id=$(psql -X -q -At -v ON_ERROR_STOP=1 \
        -c "select pgq.next_batch('demo_queue', 'demo_consumer')")
    if [[ -z "$batch_id" ]]; then
        echo "next_batch returned NULL: nothing more until the next tick"
        break
    fi
    echo
    echo "-- batch $batch_id"
    sql "select ev_id, ev_type, ev_data from pgq.get_batch_events($batch_id) order by ev_id"
    count=$(psql -X -q -At -v ON_ERROR_STOP=1 -c "select count(*) from pgq.get_batch_events($batch_id)")
    delivered=$((delivered + count))
    sql "select pgq.finish_batch($batch_id)"
done

step "Consumer status"
sql "select queue_name, consumer_name, lag is not null as has_lag, pending_events from pgq.get_consumer_info()"

if ((delivered != 3)); then
    echo "demo FAILED: expected 3 delivered events, got $delivered" >&2
    exit 1
fi
step "Done: the 3 committed events were delivered, once; the rolled-back one never."
