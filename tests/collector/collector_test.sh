#!/usr/bin/env bash
# collector_test.sh WORKER MAIL_SERVER TICKER: examples/collector end to end on a fresh
# database of ours (pgq + pgq_coop): three cooperative workers (one killed -9 while it
# holds a batch, and restarted), pgqpp-ticker (ticks and the retry queue), and the mail
# server with two good sources, a flaky one (every 3rd request fails) and one that always
# fails.
#   - every job of the good and flaky sources is done exactly once (collected_jobs has each
#     job id once), its letters stored once, one follow-up event per job in 'collected';
#   - flaky jobs needed retries and got through; more than one worker did jobs;
#   - the job of the dead source is a dead letter after max_retries + 1 attempts (the mail
#     server counted them), a mailbox the source does not have is a dead letter at once;
#   - the mail server never saw more than per_source_limit concurrent requests of a source;
#   - requeue: the dead source recovers, pgq.dead_letter_requeue, the job is collected.
set -euo pipefail
worker=${1:?usage: collector_test.sh WORKER MAIL_SERVER TICKER}
mail_server=${2:?}
ticker=${3:?}
# shellcheck source=tests/harness/lib.sh
source "$PGQPP_SOURCE_DIR/tests/harness/lib.sh"
pgqpp_load_env

db=$(pgqpp_db_name collector "$$")
work=$(mktemp -d)
declare -A pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    pgqpp_drop_db "$db" || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    local f
    for f in "$work"/*.log; do echo "---- $f:" >&2; tail -15 "$f" >&2; done
    echo "---- ticks, jobs by worker:" >&2
    sql "select tick_queue, count(*) from pgq.tick group by 1" >&2 || true
    sql "select worker, string_agg(job_id::text, ' ' order by job_id) from collected_jobs group by 1" >&2 || true
    exit 1
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

letters=5 limit=2 max_retries=3
pgqpp_new_db "$db" tmpl_ours
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$PGQPP_SOURCE_DIR/examples/collector/schema.sql" >/dev/null
sql "select pgq.register_consumer('collect_jobs', 'collector')" >/dev/null  # before the jobs
sql "select pgq.register_consumer('collected', 'check')" >/dev/null

"$mail_server" --letters $letters --delay-ms "good1=150, good2=150, flaky=50, down=20" \
    --fail-every "flaky=3, down=1" >"$work/mail_server.out" 2>"$work/mail_server.log" &
pids[mail]=$!
for _ in $(seq 50); do grep -q listening "$work/mail_server.out" && break; sleep 0.1; done
port=$(awk '/listening on/ {print $3}' "$work/mail_server.out")
[[ -n "$port" ]] || fail "the mail server did not start"
stats() { /usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/_stats', timeout=10).read().decode(), end='')"; }
control() { /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/_control/$1', timeout=10).read()"; }

"$ticker" --base-connstr "host='$PGHOST' port='$PGPORT' user='$PGUSER'" --database-list "$db" \
    --ticker-period 0.2 --retry-period 0.3 --syslog 0 --stats-period 0 >"$work/ticker.log" 2>&1 &
pids[ticker]=$!
start_worker() {  # start_worker NAME
    "$worker" --db "host='$PGHOST' port='$PGPORT' user='$PGUSER' dbname='$db'" \
        --subconsumer "$1" --mail-server "127.0.0.1:$port" --per-source-limit $limit \
        --retry-delay 1s --retry-max-delay 2s --max-retries $max_retries --dead-interval 4s \
        --poll-period 200ms --stats-period 0 >>"$work/$1.log" 2>&1 &
    pids[$1]=$!
}
for w in w1 w2 w3; do start_worker $w; done

wait_for() {  # wait_for SECONDS WHAT COMMAND...
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        if "$@"; then return 0; fi
        sleep 0.1
    done
    fail "no $what within $secs s"
}
holding_batch_name() {  # holding_batch_name [EXCEPT]: a worker that holds a batch
    sql "select substr(consumer_name, length('collector.') + 1)
           from pgq.get_consumer_info('collect_jobs')
          where consumer_name like 'collector.%' and current_batch is not null
            and consumer_name <> 'collector.${1:-}' limit 1"
}
# kill_busy_worker [EXCEPT]: kill -9 a worker that holds a batch (adding jobs until one
# does); sets victim and victim_batch.
extra_jobs=0
kill_busy_worker() {
    local i
    for ((i = 0; i < 100; i++)); do
        victim=$(holding_batch_name "${1:-}")
        if [[ -n "$victim" ]]; then
            kill -KILL "${pids[$victim]}"; wait "${pids[$victim]}" 2>/dev/null || true
            unset "pids[$victim]"
            victim_batch=$(sql "select current_batch from pgq.get_consumer_info('collect_jobs', 'collector.$victim')")
            [[ -n "$victim_batch" ]] || fail "$victim was killed holding no batch"
            return 0
        fi
        extra_jobs=$((extra_jobs + 1))
        add_jobs good2 "extra$extra_jobs"
        sleep 0.1
    done
    fail "no worker ever held a batch"
}

# The jobs, one or two per transaction (so that there are many small batches to share).
add_jobs() {  # add_jobs SOURCE MAILBOX...
    local source=$1 m
    shift
    local values=()
    for m in "$@"; do values+=("pgq.insert_event('collect_jobs', 'collect', '$m', '$source', null, null, null)"); done
    sql "select $(IFS=,; echo "${values[*]}")" >/dev/null
}
for i in $(seq 1 8); do
    add_jobs good1 "alice$i" "bob$i"
    add_jobs good2 "carol$i"
    if ((i <= 6)); then add_jobs flaky "dave$i"; fi
    if ((i == 4)); then
        # kill -9 of a worker while it holds a batch (its jobs half done); restarted under
        # the same name, it gets that batch back and does it again from the start.
        kill_busy_worker
        restarted=$victim restarted_batch=$victim_batch
        start_worker "$victim"
    fi
    if ((i == 6)); then
        # Another one killed for good: after dead_interval a live member takes its batch.
        kill_busy_worker "$restarted"
        gone=$victim gone_batch=$victim_batch
    fi
    sleep 0.1
done
add_jobs down erin
add_jobs good1 missing-frank
good_jobs=$((8 * 3 + 6 + extra_jobs))

jobs_done() { [[ $(sql "select count(*) from collected_jobs") -ge $1 ]]; }
dead_count() { sql "select count(*) from pgq.dead_letter"; }
two_dead() { [[ $(dead_count) -ge 2 ]]; }
wait_for 60 "all $good_jobs good jobs" jobs_done $good_jobs
wait_for 60 "2 dead letters" two_dead
# Nothing left anywhere (one snapshot): no retry pending, no event waiting for a tick, no
# ticked event waiting for a batch, no member holding a batch.
idle() {
    [[ $(sql "select (select count(*) from pgq.retry_queue)
                   + (select ev_new from pgq.get_queue_info('collect_jobs'))
                   + (select pending_events from pgq.get_consumer_info('collect_jobs', 'collector'))
                   + (select count(*) from pgq.subscription where sub_batch is not null)") == 0 ]]
}
wait_for 30 "an idle job queue" idle
echo "ok: killed -9 holding a batch: $restarted (batch $restarted_batch, restarted), $gone (batch $gone_batch, taken over)"

# Each job exactly once, its letters once.
read -r n distinct <<<"$(sql "select count(*), count(distinct job_id) from collected_jobs" | tr '|' ' ')"
[[ $n == "$good_jobs" && $distinct == "$good_jobs" ]] || fail "collected_jobs: $n rows, $distinct jobs, expected $good_jobs each"
[[ $(sql "select count(*) from collected_letters") == $((good_jobs * letters)) ]] ||
    fail "letters: $(sql "select count(*) from collected_letters"), expected $((good_jobs * letters))"
[[ $(sql "select count(*) from collected_jobs where source = 'down' or mailbox like 'missing%'") == 0 ]] ||
    fail "a failing job was recorded as done"
# One follow-up per job, read as a consumer of 'collected' would.
# (max_lag 0: pgq.ticker ticks whenever there are new events, PgQ waits 3 s by default)
sql "select pgq.set_queue_config('collected', 'ticker_max_lag', '0')" >/dev/null
sql "select pgq.ticker('collected')" >/dev/null
sql "create table followups (ev_id bigint, ev_type text, ev_data text, ev_extra1 text)" >/dev/null
while b=$(sql "select pgq.next_batch('collected', 'check')"); [[ -n "$b" ]]; do
    sql "insert into followups (ev_id, ev_type, ev_data, ev_extra1)
         select ev_id, ev_type, ev_data, ev_extra1 from pgq.get_batch_events($b);
         select pgq.finish_batch($b)" >/dev/null
done
read -r n distinct <<<"$(sql "select count(*), count(distinct (ev_extra1, ev_data)) from followups
                             where ev_type = 'mailbox.collected'" | tr '|' ' ')"
if [[ $n != "$good_jobs" || $distinct != "$good_jobs" ]]; then
    sql "select j.*, (select count(*) from pgq.event_2 e where e.ev_data = j.mailbox) as in_queue
           from collected_jobs j where not exists (select 1 from followups f
                where f.ev_data = j.mailbox and f.ev_extra1 = j.source)" >&2
    sql "select * from pgq.get_consumer_info('collected')" >&2
    sql "select tick_id, tick_snapshot from pgq.tick where tick_queue = 2 order by 1" >&2
    sql "select ev_id, ev_txid, ev_data from pgq.event_2 order by ev_txid" >&2
    fail "follow-ups: $n events for $distinct mailboxes, expected $good_jobs each"
fi
echo "ok: $good_jobs jobs done once each, $((good_jobs * letters)) letters stored once, $n follow-up events"

# Retries: the flaky source failed some requests, and its jobs got through anyway.
retried=$(sql "select count(*) from collected_jobs where source = 'flaky' and attempts > 1")
[[ $retried -gt 0 ]] || fail "no flaky job needed a retry"
workers=$(sql "select count(distinct worker) from collected_jobs")
[[ $workers -ge 2 ]] || fail "only $workers worker did jobs: not cooperative"
echo "ok: $retried flaky jobs retried and collected; jobs done by $workers workers: $(sql "select string_agg(worker || '=' || n, ' ') from (select worker, count(*) n from collected_jobs group by 1 order by 1) w")"

# Dead letters: the dead source after max_retries + 1 attempts, the missing mailbox at once.
down=$(sql "select ev_retry || '|' || dl_reason from pgq.dead_letter where ev_extra1 = 'down'")
[[ $down == "$max_retries|too many retries ($max_retries)" ]] || fail "down's dead letter: '$down'"
missing=$(sql "select coalesce(ev_retry, 0) || '|' || dl_reason from pgq.dead_letter where ev_data = 'missing-frank'")
[[ $missing == "0|good1: HTTP 404: no such mailbox" ]] || fail "missing mailbox's dead letter: '$missing'"
down_requests=$(stats | awk '$1 == "down" {print $2}')
[[ $down_requests == $((max_retries + 1)) ]] || fail "the dead source got $down_requests requests, expected $((max_retries + 1))"
echo "ok: dead letters: down after $down_requests attempts, missing-frank at once"

# The per-source limit, as the mail server counted it.
stats >"$work/stats"
cat "$work/stats"
while read -r source _ _ max; do
    [[ $max -le $limit ]] || fail "$source had $max concurrent requests, limit $limit"
done <"$work/stats"
echo "ok: at most $limit concurrent requests per source (max seen: $(awk '{print $1 "=" $4}' "$work/stats" | tr '\n' ' '))"

# Requeue: the dead source comes back; its dead letter is requeued and collected.
control "down?fail_every=0"
[[ $(sql "select pgq.dead_letter_requeue(array(select dl_id from pgq.dead_letter where ev_extra1 = 'down'))") == 1 ]] ||
    fail "requeue did not requeue 1 dead letter"
down_done() { [[ $(sql "select count(*) from collected_jobs where source = 'down'") == 1 ]]; }
wait_for 30 "the requeued job" down_done
wait_for 30 "an idle job queue" idle
[[ $(sql "select count(*) from collected_letters where source = 'down'") == "$letters" ]] ||
    fail "the requeued job's letters are not there once"
[[ $(sql "select count(*) from pgq.dead_letter where ev_extra1 = 'down'") == 0 ]] ||
    fail "the requeued dead letter is still there"
[[ $(sql "select count(*) from collected_jobs") == $((good_jobs + 1)) ]] || fail "jobs done twice after the requeue"
echo "ok: requeued job collected (attempt $(sql "select attempts from collected_jobs where source = 'down'"))"

for w in w1 w2 w3; do
    [[ $w != "$gone" ]] || continue
    kill -TERM "${pids[$w]}"
    rc=0; wait "${pids[$w]}" || rc=$?
    [[ $rc -eq 0 ]] || fail "worker $w: exit status $rc after SIGTERM, expected 0"
    unset "pids[$w]"
done
echo "ok: workers stopped with SIGTERM"
