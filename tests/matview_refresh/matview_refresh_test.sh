#!/usr/bin/env bash
# matview_refresh_test.sh BINARY ours|pgq: examples/matview_refresh as a process against two
# databases of the ctest run's cluster: "shop" (queue, tables with pgq.jsontriga, four
# views) and "reports" (a copy of the tables, written before shop, like a synchronous
# replica, with one view). Every REFRESH MATERIALIZED VIEW is logged by an event trigger in
# the database where it runs, with its start (statement_timestamp) and end (clock_timestamp):
# the daemon cannot fake the count.
#   1. bad settings: exit 2 with one line naming the problem;
#   2. coalescing: 8 ticks of ~100 row changes each -> each view refreshed at least once and
#      at most once per batch (<= the ticks that touched its tables), consecutive refreshes
#      of a view at least refresh_interval apart (start of the next >= end of the previous +
#      interval), and at the end every view equals a fresh run of its query, on both servers;
#   2b. a batch that commits while its view is being refreshed gets a refresh of its own;
#   2c. a server that refuses connections: the other server's views are refreshed, the mark
#      of its view stays, and the view catches up when it is back;
#   2d. SIGHUP reloads [servers] and [views] (a bad map is refused, the old one kept);
#   3. kill -9 after a batch committed its marks but before the refresh (the interval holds
#      the refresh back): the view is stale; after a restart it is refreshed and correct.
set -euo pipefail
binary=${1:?usage: matview_refresh_test.sh BINARY ours|pgq}
kind=${2:?usage: matview_refresh_test.sh BINARY ours|pgq}
# shellcheck source=tests/harness/lib.sh
source "$PGQPP_SOURCE_DIR/tests/harness/lib.sh"
pgqpp_load_env

shop=$(pgqpp_db_name "matview_shop_$kind" "$$")
reports=$(pgqpp_db_name "matview_reports_$kind" "$$")
work=$(mktemp -d)
daemon_pid=
cleanup() {
    [[ -z "$(jobs -p)" ]] || kill $(jobs -p) 2>/dev/null || true   # the gate's psql, if held
    if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    pgqpp_drop_db "$shop" || true
    pgqpp_drop_db "$reports" || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "---- daemon output:" >&2
    tail -40 "$work/out.log" >&2 || true
    exit 1
}
on() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
conn_of() { echo "host='$PGHOST' port='$PGPORT' user='$PGUSER' dbname='$1'"; }

# ---- the two databases ------------------------------------------------------------------
pgqpp_new_db "$shop" "tmpl_$kind"
pgqpp_new_db "$reports" "tmpl_$kind"
tables_sql="
create table customers (id int primary key, region text not null);
create table orders (id int primary key, customer int not null, amount numeric not null);
create materialized view sales_by_customer as
    select customer, sum(amount) as total, count(*) as n from orders group by customer;
create unique index on sales_by_customer (customer);
create table unrelated (id int primary key);   -- its events touch no view
create table slow_src (id int primary key);    -- for a view whose refresh takes 3 s
-- Every refresh, logged where it runs (superuser only: an event trigger).
create table refresh_log (id bigserial, view_name text, started timestamptz, ended timestamptz);
create function log_refresh() returns event_trigger language plpgsql as \$\$
declare r record;
begin
    for r in select * from pg_event_trigger_ddl_commands() loop
        insert into refresh_log (view_name, started, ended)
        values (r.object_identity, statement_timestamp(), clock_timestamp());
    end loop;
end \$\$;
create event trigger log_refresh on ddl_command_end
    when tag in ('REFRESH MATERIALIZED VIEW') execute function log_refresh();
"
on "$reports" -c "$tables_sql"
on "$shop" -c "$tables_sql" -c "
create materialized view sales_by_region as
    select c.region, sum(o.amount) as total from orders o join customers c on c.id = o.customer
    group by c.region;
create unique index on sales_by_region (region);
create materialized view customers_by_region as
    select region, count(*) as n from customers group by region;
create unique index on customers_by_region (region);
select pgq.create_queue('changes');
select pgq.set_queue_config('changes', 'ticker_max_lag', '0');
select pgq.set_queue_config('changes', 'ticker_idle_period', '0');
create trigger capture after insert or update or delete on orders
    for each row execute procedure pgq.jsontriga('changes');
create trigger capture after insert or update or delete on customers
    for each row execute procedure pgq.jsontriga('changes');
-- Refreshing slow_view waits while the test holds advisory lock 4242 (section 2b).
create materialized view slow_view as
    select count(*) as n from slow_src, (select pg_advisory_xact_lock_shared(4242)) gate;
create unique index on slow_view (n);
create trigger capture after insert on slow_src
    for each row execute procedure pgq.jsontriga('changes');
create trigger capture after insert on unrelated
    for each row execute procedure pgq.jsontriga('changes');
" >/dev/null

# The view queries, to compare each view with a fresh run of its query.
declare -A query=(
    [sales_by_customer]="select customer, sum(amount) as total, count(*) as n from orders group by customer"
    [sales_by_region]="select c.region, sum(o.amount) as total from orders o join customers c on c.id = o.customer group by c.region"
    [customers_by_region]="select region, count(*) as n from customers group by region")
# stale DB VIEW: rows that differ between the view and its query (0: up to date).
stale() {
    on "$1" -c "select count(*) from ((table $2 except ${query[$2]})
                                       union all (${query[$2]} except table $2)) d"
}
all_fresh() {
    local v
    for v in sales_by_customer sales_by_region customers_by_region; do
        [[ $(stale "$shop" $v) == 0 ]] || return 1
    done
    [[ $(stale "$reports" sales_by_customer) == 0 ]]
}
refreshes() { on "$1" -c "select count(*) from refresh_log where view_name = 'public.$2'"; }
# change SQL: the same change on reports first (a synchronous replica), then on shop
# (whose triggers queue the events), then a tick: one batch's worth.
change() {
    on "$reports" -c "$1"
    on "$shop" -c "$1"
    on "$shop" -c "select pgq.ticker('changes')" >/dev/null
}

cat >"$work/mr.ini" <<INI
[matview_refresh]
queue = changes
consumer = mv
poll_period = 200ms
refresh_poll = 1s
refresh_retry = 1s
stats_period = 1s

[servers]
reports = $(conn_of "$reports")

[views]
public.orders = sales_by_customer, sales_by_region, reports:public.sales_by_customer
customers = sales_by_region customers_by_region
slow_src = slow_view
INI
start() {  # start ARGS...: the daemon in the background
    "$binary" --config "$work/mr.ini" --db "$(conn_of "$shop")" "$@" >>"$work/out.log" 2>&1 &
    daemon_pid=$!
}
caught_up() {
    [[ $(on "$shop" -c "select (select last_tick from pgq.get_consumer_info('changes', 'mv')) =
                               (select last_tick_id from pgq.get_queue_info('changes'))") == t ]]
}
wait_for() {  # wait_for SECONDS WHAT COMMAND...
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        if "$@"; then return 0; fi
        kill -0 "$daemon_pid" 2>/dev/null || fail "daemon died while waiting for $what"
        sleep 0.1
    done
    fail "no $what within $secs s"
}

# ---- 1. bad settings --------------------------------------------------------------------
sed 's/^customers = .*/customers = nosuch:public.x/' "$work/mr.ini" >"$work/bad.ini"
rc=0; timeout 20 "$binary" --config "$work/bad.ini" --db "$(conn_of "$shop")" >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -q "unknown server 'nosuch'" "$work/bad.log" ||
    { cat "$work/bad.log"; fail "unknown server: exit $rc, expected 2 naming it"; }
rc=0; timeout 20 "$binary" --config "$work/mr.ini" --db "$(conn_of "$shop")" --delivery at_least_once >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -q "delivery = local" "$work/bad.log" ||
    { cat "$work/bad.log"; fail "at_least_once: exit $rc, expected 2"; }
rc=0; timeout 20 "$binary" --db "$(conn_of "$shop")" --queue changes --consumer mv >"$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -q "views-file" "$work/bad.log" ||
    { cat "$work/bad.log"; fail "no view map: exit $rc, expected 2"; }
echo "ok: bad settings"

# ---- 2. coalescing ----------------------------------------------------------------------
interval=1
on "$shop" -c "select pgq.register_consumer('changes', 'mv')" >/dev/null
start --refresh-interval "${interval}s"
change "insert into customers select g, 'region_' || g % 5 from generate_series(1, 50) g"
order_ticks=0 customer_ticks=1
for round in $(seq 8); do
    base=$((round * 1000))
    sql="insert into orders select $base + g, 1 + g % 50, g * $round from generate_series(1, 80) g;
         update orders set amount = amount + 1 where id % 7 = $round % 7;
         delete from orders where id % 11 = $round % 11 and id < $base;
         insert into unrelated values ($round);"
    if ((round % 4 == 0)); then
        sql+="update customers set region = 'region_' || ((id + $round) % 6) where id % 3 = 0;"
        customer_ticks=$((customer_ticks + 1))
    fi
    change "$sql"
    order_ticks=$((order_ticks + 1))
    sleep 0.3
done
wait_for 60 "consumer caught up" caught_up
wait_for 60 "fresh views" all_fresh
events=$(on "$shop" -c "select count(*) from refresh_log")  # sanity: the trigger works here
[[ $events -gt 0 ]] || fail "the event trigger logged nothing"
check_count() {  # check_count DB VIEW MAX_BATCHES
    local n
    n=$(refreshes "$1" "$2")
    echo "  $1 $2: $n refreshes for at most $3 batches"
    [[ $n -ge 1 ]] || fail "$2 on $1 never refreshed"
    [[ $n -le $3 ]] || fail "$2 on $1 refreshed $n times, more than the $3 batches that touched it"
}
check_count "$shop" sales_by_customer "$order_ticks"
check_count "$shop" sales_by_region $((order_ticks + 1))   # + the tick of the first customers
check_count "$shop" customers_by_region "$customer_ticks"
check_count "$reports" sales_by_customer "$order_ticks"
# The interval: each refresh starts >= interval after the previous one of the view ended.
check_interval() {  # check_interval DB SECONDS [FROM_ID]: refreshes with id > FROM_ID
    local bad
    bad=$(on "$1" -c "select count(*) from (select id, started, lag(ended) over w as prev_end
                                            from refresh_log window w as (partition by view_name order by id)) r
                      where id > ${3:-0} and started < prev_end + interval '$2 s'")
    [[ $bad == 0 ]] || { on "$1" -c "select * from refresh_log order by id"; fail "$bad refreshes on $1 came sooner than $2 s after the previous one"; }
}
check_interval "$shop" "$interval"
check_interval "$reports" "$interval"
echo "ok: coalescing: $order_ticks batches of ~100 changes, refreshes counted above, interval ${interval}s kept, views correct on both servers"

# ---- 2b. a batch that commits while its view is being refreshed -------------------------
# The refresh started before the change committed and cannot have seen it: the mark must
# survive the refresh (its generation changed) and the view be refreshed again.
# The refresh is held at a gate (advisory lock 4242, taken by a session of the test) until
# the second change has committed: no timing involved.
slow_refreshing() {
    [[ $(on "$shop" -c "select count(*) from pg_stat_activity where datname = current_database()
                         and state = 'active' and wait_event_type = 'Lock'
                         and query ilike 'refresh materialized view%slow_view%'") == 1 ]]
}
slow_n() { on "$shop" -c "select n from slow_view"; }
gate_closed() {
    [[ $(on "$shop" -c "select count(*) from pg_locks l join pg_database d on d.oid = l.database
                         where d.datname = current_database() and l.locktype = 'advisory'
                         and l.objid = 4242 and l.mode = 'ExclusiveLock' and l.granted") == 1 ]]
}
PGAPPNAME=slow_view_gate psql -X -q -d "$shop" \
    -c "select pg_advisory_lock(4242)" -c "select pg_sleep(120)" >/dev/null 2>&1 &
wait_for 30 "the gate of slow_view closed" gate_closed
change "insert into slow_src values (1)"
wait_for 30 "a refresh of slow_view waiting at the gate" slow_refreshing
change "insert into slow_src values (2)"
wait_for 30 "consumer caught up" caught_up
slow_refreshing || fail "the refresh of slow_view is no longer waiting at the gate"
on "$shop" -c "select pg_terminate_backend(pid) from pg_stat_activity
               where application_name = 'slow_view_gate' and datname = current_database()" >/dev/null
slow_is_2() { [[ $(slow_n) == 2 ]]; }
wait_for 30 "slow_view with both rows" slow_is_2
echo "ok: a batch committed during its view's refresh got a refresh of its own ($(refreshes "$shop" slow_view) refreshes of slow_view)"

# ---- 2c. a server that is down ----------------------------------------------------------
# reports refuses connections: its refresh fails and is retried; the views of the other
# server are refreshed meanwhile; when reports is back, its view catches up.
on "$reports" -c "insert into orders values (90001, 7, 70)"
pgqpp_admin_sql -v db="$reports" <<'SQL'
alter database :"db" allow_connections false;
select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = :'db';
SQL
on "$shop" -c "insert into orders values (90001, 7, 70)"
on "$shop" -c "select pgq.ticker('changes')" >/dev/null
shop_fresh() { [[ $(stale "$shop" sales_by_customer) == 0 && $(stale "$shop" sales_by_region) == 0 ]]; }
wait_for 30 "fresh views on shop while reports is down" shop_fresh
reports_failed() { grep -q "refresh of reports:public.sales_by_customer failed" "$work/out.log"; }
wait_for 30 "a failed refresh on reports" reports_failed
[[ $(on "$shop" -c "select count(*) from matview_refresh_state
                    where server = 'reports' and dirty_since is not null") == 1 ]] ||
    fail "the mark of reports' view is gone while reports is down"
pgqpp_admin_sql -v db="$reports" <<'SQL'
alter database :"db" allow_connections true;
SQL
wait_for 30 "fresh views after reports came back" all_fresh
check_interval "$shop" "$interval"
check_interval "$reports" "$interval"
echo "ok: reports down: shop's views refreshed meanwhile, reports' view caught up when it came back"

# ---- 2d. SIGHUP reloads the view map ----------------------------------------------------
# A view of a table that no view depended on: not refreshed until [views] names it and the
# daemon gets SIGHUP; a bad [views] line is refused and the old map kept.
on "$shop" -c "create materialized view unrelated_count as select count(*) as n from unrelated;
               create unique index on unrelated_count (n)"
unrelated_stale() { [[ $(on "$shop" -c "select (select n from unrelated_count) <> (select count(*) from unrelated)") == t ]]; }
logged() { grep -q "$1" "$work/out.log"; }
change "insert into unrelated values (101)"
wait_for 30 "consumer caught up" caught_up
cp "$work/mr.ini" "$work/mr.ini.orig"
echo "unrelated = nosuch:public.unrelated_count" >>"$work/mr.ini"
kill -HUP "$daemon_pid"
wait_for 30 "the bad view map refused" logged "view map not reloaded, keeping the old one: .*unknown server 'nosuch'"
change "insert into unrelated values (102)"
wait_for 30 "consumer caught up" caught_up
sleep 1.5   # a refresh round (refresh_poll 1s) that must not refresh it
[[ $(refreshes "$shop" unrelated_count) == 0 ]] || fail "unrelated_count refreshed under the old view map"
unrelated_stale || fail "unrelated_count is not stale before the reload"
cp "$work/mr.ini.orig" "$work/mr.ini"
echo "unrelated = unrelated_count" >>"$work/mr.ini"
kill -HUP "$daemon_pid"
wait_for 30 "the view map reloaded" logged "view map reloaded"
change "insert into unrelated values (103)"
unrelated_fresh() { ! unrelated_stale; }
wait_for 30 "unrelated_count refreshed after the reload" unrelated_fresh
[[ $(refreshes "$shop" unrelated_count) -ge 1 ]] || fail "unrelated_count fresh without a logged refresh"
cp "$work/mr.ini.orig" "$work/mr.ini"
echo "ok: SIGHUP reloaded the view map (a bad one refused, the old one kept)"

# ---- 3. kill -9 between the batch's commit and the refresh ------------------------------
kill -TERM "$daemon_pid"
rc=0; wait "$daemon_pid" || rc=$?
daemon_pid=
[[ $rc -eq 0 ]] || fail "exit status $rc after SIGTERM, expected 0"
interval=6
phase3=$(on "$shop" -c "select coalesce(max(id), 0) from refresh_log")
start --refresh-interval "${interval}s"
# After phase 2 the last refresh is old: this change is refreshed at once...
before=$(refreshes "$shop" sales_by_customer)
change "insert into orders values (100001, 1, 5)"
wait_for 30 "refresh after the first change" bash -c "[[ \$(psql -X -At -d '$shop' -c \"select count(*) from refresh_log where view_name = 'public.sales_by_customer'\") -gt $before ]]"
wait_for 30 "fresh views" all_fresh
# ...and this one is held back by the interval: its batch commits its marks, then kill -9.
after_first=$(refreshes "$shop" sales_by_customer)
change "insert into orders values (100002, 2, 7)"
wait_for 30 "consumer caught up" caught_up
marked=$(on "$shop" -c "select count(*) from matview_refresh_state
                        where view_name = 'public.sales_by_customer' and dirty_since is not null")
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
[[ $(refreshes "$shop" sales_by_customer) == "$after_first" ]] ||
    fail "the refresh ran before the kill: the ${interval}s window was missed (machine too slow?)"
[[ $marked == 2 ]] || fail "expected 2 marks for sales_by_customer (queue and reports), got $marked"
[[ $(stale "$shop" sales_by_customer) != 0 ]] || fail "the view is not stale after the kill"
echo "ok: killed with the batch finished and the refresh pending (view stale)"
start --refresh-interval "${interval}s"
wait_for 40 "fresh views after the restart" all_fresh
[[ $(refreshes "$shop" sales_by_customer) -gt $after_first ]] || fail "no refresh after the restart"
check_interval "$shop" "$interval" "$phase3"  # the interval survives the restart (kept in the state table)
kill -TERM "$daemon_pid"
rc=0; wait "$daemon_pid" || rc=$?
daemon_pid=
[[ $rc -eq 0 ]] || fail "exit status $rc after SIGTERM, expected 0"
echo "ok: after kill -9 and a restart the pending refresh ran, views correct"
