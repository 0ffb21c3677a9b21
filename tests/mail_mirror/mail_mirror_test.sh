#!/usr/bin/env bash
# mail_mirror_test.sh BIN_DIR TICKER: the mail mirror example (examples/mail_mirror) end to
# end against real servers. The primary is a database of the shared test cluster; the
# mirror is a private cluster of this test, so that it can be stopped and started.
#   1. mail_setup installs both sides; pgqpp-ticker ticks the primary; mail_load writes
#      letters, flag changes, moves, deletes and folder operations for $MAIL_LOAD_SECONDS;
#   2. mail_mirror_daemon is killed (SIGKILL) and restarted several times: at random moments,
#      and by the consumer's failpoints (PGQPP_FAILPOINT) right after the mirror committed a
#      batch (finish_batch not yet run) and right before the primary's commit;
#   3. the mirror's server is stopped (immediate: connections cut) for a few seconds: the
#      primary keeps working (letters still arrive), the daemon stays up and reconnects by
#      itself with backoff when the mirror is back, then is killed once more while catching up;
#   4. mail_verify --wait --count-events: every letter and folder identical, counters
#      consistent on both sides, every queued event applied in exactly one batch;
#   5. mail_verify finds a changed and a missing letter (exit 1, named in the report).
set -euo pipefail
bin=${1:?usage: mail_mirror_test.sh BIN_DIR TICKER}
ticker=${2:?}
# shellcheck source=tests/harness/lib.sh
source "$PGQPP_SOURCE_DIR/tests/harness/lib.sh"
pgqpp_load_env
load_seconds=${MAIL_LOAD_SECONDS:-30}

work=$(mktemp -d)
chmod 755 "$work"
primary_db=$(pgqpp_db_name mail_mirror_primary "$$")
mirror_cluster=$work/mirror_pg
pids=()
daemon_pid=
cleanup() {
    local pid
    for pid in "${pids[@]}" $daemon_pid; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    bash "$PGQPP_SOURCE_DIR/tests/harness/pg_cluster.sh" stop "$mirror_cluster" >/dev/null 2>&1 || true
    pgqpp_drop_db "$primary_db" || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    local f
    for f in daemon load ticker; do
        echo "---- $f log:" >&2
        tail -25 "$work/$f.log" >&2 || true
    done
    exit 1
}

# -- the two databases ----------------------------------------------------------------------
pgqpp_new_db "$primary_db" template0
PGQPP_CLUSTER_OWNER=$$ bash "$PGQPP_SOURCE_DIR/tests/harness/pg_cluster.sh" start "$mirror_cluster" >/dev/null
m_host=$(source "$mirror_cluster/env"; echo "$PGHOST")
m_port=$(source "$mirror_cluster/env"; echo "$PGPORT")
psql -X -q -h "$m_host" -p "$m_port" -U postgres -d postgres -c "create database mail_mirror"
primary="host='$PGHOST' port='$PGPORT' user='$PGUSER' dbname='$primary_db'"
mirror="host='$m_host' port='$m_port' user='postgres' dbname='mail_mirror'"
p_sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$primary" -c "$1"; }
m_sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$mirror" -c "$1"; }

# mirror_server stop|start: the mirror's PostgreSQL (stop: immediate, every connection cut).
mirror_server() {
    local data_dir
    data_dir=$(source "$mirror_cluster/state"; echo "${data_dir:-$mirror_cluster/data}")
    local cmd=("${PGQPP_PG_BIN:-/usr/lib/postgresql/15/bin}/pg_ctl" -D "$data_dir" -w -t 60 -s)
    if [[ $1 == stop ]]; then
        cmd+=(-m immediate stop)
    else
        cmd+=(-l "$(dirname "$data_dir")/server.log" start)
    fi
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u postgres -- "${cmd[@]}") >/dev/null
    else
        (cd / && "${cmd[@]}") >/dev/null
    fi
}

"$bin/mail_setup" "$primary" "$mirror"

# -- 1. ticker and load -----------------------------------------------------------------------
"$ticker" --base-connstr "host='$PGHOST' port='$PGPORT' user='$PGUSER'" \
    --database-list "$primary_db" --syslog=0 --retry-period 1 --stats-period 0 \
    >"$work/ticker.log" 2>&1 &
pids+=($!)
"$bin/mail_load" --db "$primary" --rate 300 --duration "${load_seconds}s" --seed "$$" \
    >"$work/load.log" 2>&1 &
load_pid=$!
pids+=("$load_pid")

# --apply-rows 7 (default 5000): many small applies, so that the daemon switches often between
# copying new letters straight into mail.letters and its stage for the other changes.
start_daemon() {  # [ENV=VALUE...]
    env "$@" "$bin/mail_mirror_daemon" --db "$primary" --target-db "$mirror" --poll-period 200ms \
        --stats-period 2s --apply-rows 7 >>"$work/daemon.log" 2>&1 &
    daemon_pid=$!
}
kill_daemon() {
    kill -KILL "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
    echo "killed the daemon (SIGKILL); batches applied so far: $(m_sql "select count(*) from mail.applied_batches")"
}
letters() { p_sql "select count(*) from mail.letters"; }

# -- 2. kill -9 and restart ---------------------------------------------------------------------
start_daemon
for i in 1 2 3 4; do
    sleep "$((1 + RANDOM % 2)).$((RANDOM % 10))"
    kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon died by itself"
    kill_daemon
    start_daemon
done
applied_before=$(m_sql "select count(*) from mail.applied_batches")
((applied_before > 0)) || fail "no batch applied after the first restarts"
kill_daemon
for point in after_target_commit before_queue_commit; do
    start_daemon PGQPP_FAILPOINT=$point
    for ((i = 0; i < 300; i++)); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$daemon_pid" 2>/dev/null && fail "the daemon did not reach failpoint $point within 30 s"
    set +e
    wait "$daemon_pid"
    rc=$?
    set -e
    ((rc == 128 + 9)) || fail "the daemon with failpoint $point exited $rc, not by SIGKILL"
    echo "the daemon killed itself at $point"
done
start_daemon
# The batch the mirror committed before the kill at after_target_commit comes again and is
# recognised (pgq_ext.is_batch_done; the mirror's batch log would also refuse its ticks): the
# exactly-once count at the end (mail_verify --count-events) fails if it was applied twice.

# -- 3. the mirror's server down and back -----------------------------------------------------
sleep 1
mirror_server stop
echo "mirror server stopped"
before=$(letters)
sleep 4
after=$(letters)
((after > before)) || fail "the primary stopped taking letters while the mirror was down ($before -> $after)"
kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited while the mirror was down"
kill -0 "$load_pid" 2>/dev/null || fail "mail_load exited while the mirror was down"
echo "primary went on: $before -> $after letters while the mirror was down"
mirror_server start
echo "mirror server started"
# The same daemon process reconnects by itself: new batches are applied.
for ((i = 0; i < 300; i++)); do
    n=$(m_sql "select count(*) from mail.applied_batches where applied_at > now() - interval '1 s'" 2>/dev/null || echo 0)
    ((n > 0)) && break
    sleep 0.1
done
((n > 0)) || fail "the daemon did not come back to the mirror within 30 s"
grep -q "lost the database" "$work/daemon.log" || fail "the daemon did not notice the mirror going away"
echo "the daemon reconnected to the mirror"
sleep 0.5
kill_daemon
start_daemon

# -- 4. the end: identical -------------------------------------------------------------------
wait "$load_pid" || fail "mail_load failed"
cat "$work/load.log"
grep -q "; 0 failed" "$work/load.log" || fail "some operations of mail_load failed on the primary"
kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon died"
if ! "$bin/mail_verify" --db "$primary" --target-db "$mirror" --wait 60s --count-events \
    >"$work/verify.log" 2>&1; then
    cat "$work/verify.log" >&2
    fail "mail_verify found differences"
fi
cat "$work/verify.log"
grep -q "IDENTICAL" "$work/verify.log" || fail "mail_verify did not say IDENTICAL"
(($(p_sql "select count(*) from mail.letters") > 1000)) || fail "too few letters to mean anything"

# -- 4b. one batch of new letters mixed with changes of them ------------------------------------
# The daemon copies new letters above the mirror's highest id straight into mail.letters and
# every other change through its stage; switching between the two must keep queue order: an
# update or delete of a letter inserted just before, a deleted id inserted again, new letters
# below an id the mirror already has, and a letter the mirror has already.
# A letter the mirror has already (written there by hand): its insert must not be copied in
# directly (a duplicate key would stop the mirror), it is upserted like any other change.
taken=$(($(p_sql "select max(id) from mail.letters") + 500))
m_sql "insert into mail.letters (id, folder_id, subject, sender, recipients, sent_at, received_at, size)
       values ($taken, (select min(id) from mail.folders), 'mirror only', 'm@x', '{m@x}', now(), now(), 3)"
p_sql "begin;
insert into mail.letters (id, folder_id, subject, sender, recipients, sent_at, received_at, size)
values ($taken, (select min(id) from mail.folders), 'mix e', 'a@x', '{b@x}', now(), now(), 4);
create temp table mix as
select i, (select min(id) from mail.folders) as folder from generate_series(1, 30) i;
insert into mail.letters (folder_id, subject, sender, recipients, sent_at, received_at, size)
select folder, 'mix a' || i, 'a@x', '{b@x}', now(), now(), i from mix where i <= 10;
update mail.letters set seen = true, labels = '{mixed}' where subject = 'mix a5';
insert into mail.letters (folder_id, subject, sender, recipients, sent_at, received_at, size)
select folder, 'mix b' || i, 'a@x', '{b@x}', now(), now(), i from mix where i <= 10;
create temp table gone as select id from mail.letters where subject in ('mix a7', 'mix b2');
delete from mail.letters where id in (select id from gone);
insert into mail.letters (id, folder_id, subject, sender, recipients, sent_at, received_at, size)
select id, (select min(id) from mail.folders), 'mix again', 'a@x', '{b@x}', now(), now(), 2
  from gone;
-- far above the others: the new letters after it are below the mirror's highest id
insert into mail.letters (id, folder_id, subject, sender, recipients, sent_at, received_at, size)
select (select max(id) from mail.letters) + 1000000, folder, 'mix c', 'a@x', '{b@x}', now(),
       now(), 1 from mix where i = 1;
insert into mail.letters (folder_id, subject, sender, recipients, sent_at, received_at, size)
select folder, 'mix d' || i, 'a@x', '{b@x}', now(), now(), i from mix where i <= 10;
commit;"
if ! "$bin/mail_verify" --db "$primary" --target-db "$mirror" --wait 60s \
    >"$work/verify_mix.log" 2>&1; then
    cat "$work/verify_mix.log" >&2
    fail "mail_verify found differences after the mixed batch"
fi
grep -q "IDENTICAL" "$work/verify_mix.log" || fail "mail_verify did not say IDENTICAL after the mixed batch"

# -- 5. verify sees differences -----------------------------------------------------------------
kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "the daemon did not exit 0 on SIGTERM"
daemon_pid=
# the primary's side of the changed letter spans lines: the report must keep it on one line
p_sql "update mail.letters set subject = E'two\\nlines' where id = (select min(id) from mail.letters)"
m_sql "update mail.letters set subject = 'tampered' where id = (select min(id) from mail.letters)"
m_sql "delete from mail.letters where id = (select max(id) from mail.letters)"
set +e
"$bin/mail_verify" --db "$primary" --target-db "$mirror" >"$work/verify2.log" 2>&1
rc=$?
set -e
cat "$work/verify2.log"
((rc == 1)) || fail "mail_verify exited $rc on a tampered mirror (expected 1)"
grep -q "letter different: .*tampered" "$work/verify2.log" || fail "the changed letter is not reported"
grep -q "letter missing on the mirror" "$work/verify2.log" || fail "the missing letter is not reported"
echo "PASS"
