#!/usr/bin/env bash
# THE demo command (README): builds pgqpp, starts a throwaway PostgreSQL 15 and runs the mail
# mirror (examples/mail_mirror, docs/example-mail-mirror.md) for about a minute:
#   a primary mail database (letters, folders, counters) whose changes enter the queue 'mail',
#   pgqpp-ticker, mail_load writing letters, flag changes, moves, deletes and folder
#   operations, and mail_mirror_daemon copying them into a mirror database exactly once.
# It shows the progress every few seconds, kills the daemon (SIGKILL) halfway and starts it
# again, and ends with mail_verify: both sides identical, every event applied exactly once.
#
#   scripts/demo.sh              our pgq (build/pgq_sql/pgq_install.sql)
#   scripts/demo.sh --real-pgq   the primary on Debian's PgQ 3.5 extension instead
#
# Environment: DEMO_SECONDS (60) how long mail_load writes; DEMO_RATE (200) its operations
# per second; DEMO_BUILD_DIR: use the programs of this build directory and skip installing
# packages and building (the test example.mail_mirror.demo does that).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

real_pgq=
case "${1:-}" in
"") ;;
--real-pgq) real_pgq=--real-pgq ;;
*) echo "usage: scripts/demo.sh [--real-pgq]" >&2; exit 2 ;;
esac
seconds=${DEMO_SECONDS:-60}
rate=${DEMO_RATE:-200}

build=${DEMO_BUILD_DIR:-}
if [[ -z "$build" ]]; then
    bash scripts/install-deps.sh
    echo "building (scripts/build.sh) ..."
    bash scripts/build.sh >/dev/null
    build=$root/build
fi
bin=$build/examples/mail_mirror
ticker_bin=$build/ticker/pgqpp-ticker

cluster=$(mktemp -d /tmp/pgqpp-demo.XXXXXX)
work=$(mktemp -d /tmp/pgqpp-demo-run.XXXXXX)
pids=()
daemon_pid=
cleanup() {
    local pid
    for pid in "${pids[@]}" $daemon_pid; do
        { kill -TERM "$pid" && wait "$pid"; } 2>/dev/null || true
    done
    bash tests/harness/pg_cluster.sh stop "$cluster" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n== %s\n' "$*"; }

step "A throwaway PostgreSQL 15"
bash tests/harness/pg_cluster.sh start "$cluster"
export PGQPP_TEST_CLUSTER=$cluster
# shellcheck source=tests/harness/lib.sh
source tests/harness/lib.sh
pgqpp_load_env
pgqpp_new_db mail template0
pgqpp_new_db mail_mirror template0
base="host='$PGHOST' port='$PGPORT' user='$PGUSER'"
primary="$base dbname=mail"
mirror="$base dbname=mail_mirror"
p_sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$primary" -c "$1"; }
m_sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$mirror" -c "$1"; }

pgq_kind="pgqpp's pgq"
[[ -z "$real_pgq" ]] || pgq_kind="the real PgQ 3.5 extension"
step "Install: primary 'mail' ($pgq_kind, mail tables, queue 'mail', capture trigger), mirror 'mail_mirror' (mail tables, pgq_ext)"
"$bin/mail_setup" "$primary" "$mirror" $real_pgq

step "Start pgqpp-ticker, mail_load ($rate operations/s for $seconds s) and mail_mirror_daemon"
"$ticker_bin" --base-connstr "$base" --database-list mail --syslog=0 --stats-period 0 \
    >"$work/ticker.log" 2>&1 &
pids+=($!)
"$bin/mail_load" --db "$primary" --rate "$rate" --duration "${seconds}s" >"$work/load.log" 2>&1 &
load_pid=$!
pids+=("$load_pid")
start_daemon() {
    "$bin/mail_mirror_daemon" --db "$primary" --target-db "$mirror" --stats-period 10s \
        >>"$work/daemon.log" 2>&1 &
    daemon_pid=$!
}
start_daemon
echo "logs: $work/{ticker,load,daemon}.log (removed at exit)"

# One progress line: letters written on the primary (the identity sequence counts every one
# ever written; some were deleted since), letters on each side, the mirror's consumer lag.
progress() {
    local written on_primary on_mirror info
    written=$(p_sql "select coalesce(pg_sequence_last_value('mail.letters_id_seq'), 0)")
    on_primary=$(p_sql "select count(*) from mail.letters")
    on_mirror=$(m_sql "select count(*) from mail.letters")
    info=$(p_sql "select coalesce(pending_events, 0) || ' events pending, lag ' ||
                         coalesce(round(extract(epoch from lag)::numeric, 1), 0) || ' s'
                    from pgq.get_consumer_info('mail', 'mail_mirror')")
    printf '%4ds  letters written %6d | now on primary %6d, on mirror %6d | %s\n' \
        "$SECONDS" "$written" "$on_primary" "$on_mirror" "$info"
}

step "Progress (every few seconds)"
SECONDS=0
period=$((seconds >= 30 ? 5 : 2))
killed=
while kill -0 "$load_pid" 2>/dev/null; do
    sleep "$period"
    progress
    if [[ -z "$killed" ]] && ((SECONDS >= seconds / 2)); then
        kill -KILL "$daemon_pid"
        wait "$daemon_pid" 2>/dev/null || true
        echo "      >>> mail_mirror_daemon killed (SIGKILL) in the middle of its work; the primary goes on"
        sleep "$period"
        progress
        start_daemon
        echo "      >>> mail_mirror_daemon started again: it resumes at the first unfinished batch"
        killed=1
    fi
done
wait "$load_pid" || { cat "$work/load.log"; echo "demo FAILED: mail_load failed" >&2; exit 1; }
cat "$work/load.log"

step "The writers stopped: mail_verify waits until the mirror caught up, then compares"
progress
if ! "$bin/mail_verify" --db "$primary" --target-db "$mirror" --wait 60s --count-events; then
    echo "demo FAILED: the mirror differs (daemon log: $work/daemon.log)" >&2
    tail -20 "$work/daemon.log" >&2
    exit 1
fi
step "Done: every letter mirrored exactly once, through a SIGKILL of the mirror daemon."
