#!/usr/bin/env bash
# Our pgq as a real extension: CREATE EXTENSION, pg_dump/restore, DROP EXTENSION, and
# ALTER EXTENSION UPDATE from the real PgQ 3.5 (C) to ours.
#
#   extension_test.sh
#
# The problem: Debian's postgresql-15-pgq3 owns /usr/share/postgresql/15/extension/pgq.control,
# so in an ordinary cluster CREATE EXTENSION pgq loads the C original, and we must not touch
# that directory. The way out: PostgreSQL finds its share and lib directories relative to the
# real location of the `postgres` binary (symlinks resolved). So the test builds a private
# "shadow" installation in a temp dir:
#
#   ROOT/lib/postgresql/15/bin/    copies of postgres, pg_ctl, initdb (pg_ctl and initdb look
#                                  for postgres next to their own resolved path); symlinks to
#                                  the other tools
#   ROOT/lib/postgresql/15/lib  -> /usr/lib/postgresql/15/lib (plpgsql.so, pgq_lowlevel.so, ...)
#   ROOT/share/postgresql/15/*  -> symlinks to /usr/share/postgresql/15/*, except extension/:
#   ROOT/share/postgresql/15/extension/
#                                  symlinks to every Debian file except pgq.control, so the
#                                  real pgq--3.5.sql stays (CREATE EXTENSION pgq VERSION '3.5'
#                                  installs the real C one), plus copies of our build output:
#                                  pgq.control, pgq--<ver>.sql, pgq--3.5--<ver>.sql
#
# and starts a separate throwaway cluster from it (tests/harness/pg_cluster.sh with
# PGQPP_PG_BIN = ROOT/lib/postgresql/15/bin). The test first proves that the server really
# uses the shadow share dir (pg_config view) and offers our pgq.control.
#
# (a) CREATE EXTENSION pgq installs ours (version, no C, new functions, a round trip);
#     pg_dump | psql into a new database keeps the queue metadata (extension config dump) and
#     the restored queue keeps working; DROP EXTENSION removes the schema.
# (b) CREATE EXTENSION pgq VERSION '3.5' (real PgQ, C), queue + consumer + events, one batch
#     consumed, one batch left open, then ALTER EXTENSION pgq UPDATE TO '<ver>': the functions
#     are ours (insert_event_raw no longer C), the schema matches a fresh install, and the
#     consumer gets every event exactly once, from before and after the upgrade.
# (b2) the same from pgqpp's previous release: CREATE EXTENSION pgq VERSION '3.6.0' (the script
#     that release installed: tests/install/previous/pgq--3.6.0.sql.gz), ALTER EXTENSION pgq
#     UPDATE: exactly a fresh install's functions and tables, every event exactly once.
# (c) the companion extensions: CREATE EXTENSION pgq_ext in a database without pgq (version,
#     membership, a tracking round trip, pg_dump/restore keeps its rows, DROP EXTENSION);
#     pgq_coop requires pgq (refused without it, CREATE ... CASCADE brings ours), a
#     cooperative round trip, DROP EXTENSION pgq_coop leaves pgq.
set -Eeuo pipefail
trap 'echo "FAIL [install.extension]: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
source "$here/../harness/lib.sh"

build_dir=${PGQPP_BUILD_DIR:?PGQPP_BUILD_DIR is not set (run the test through ctest)}
SYS_BIN=/usr/lib/postgresql/15/bin
SYS_SHARE=/usr/share/postgresql/15
SYS_LIB=/usr/lib/postgresql/15/lib
UPGRADE_FROM=3.5
# pgqpp's previous release; its install script is kept in tests/install/previous/. When
# pgq_sql/VERSION changes, add the outgoing version's script there and name it here.
PREVIOUS=3.6.0

tmp=""
cluster=""

log() { printf '[extension_test] %s\n' "$*"; }
fail() {
    echo "FAIL [install.extension]: $*" >&2
    exit 1
}

cleanup() {
    local status=$?
    if [[ -n "$cluster" && -d "$cluster" ]]; then
        if ((status != 0)) && [[ -f "$cluster/server.log" ]]; then
            echo "---- last lines of the shadow server log ----" >&2
            tail -n 30 "$cluster/server.log" >&2 || true
            echo "----" >&2
        fi
        PGQPP_PG_BIN="$tmp/root/lib/postgresql/15/bin" \
            bash "$here/../harness/pg_cluster.sh" stop "$cluster" >/dev/null 2>&1 ||
            bash "$here/../harness/pg_cluster.sh" stop "$cluster" >/dev/null 2>&1 || true
    fi
    [[ -n "$tmp" ]] && rm -rf -- "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------
# Our extension files, from the build.
# ---------------------------------------------------------------------------------------
control="$build_dir/pgq_sql/pgq.control"
[[ -f "$control" ]] || fail "$control not found (build the pgq_sql target first)"
version=$(sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$control")
[[ -n "$version" ]] || fail "no default_version in $control"
ext_sql="$build_dir/pgq_sql/pgq--$version.sql"
upgrade_sql="$build_dir/pgq_sql/pgq--$UPGRADE_FROM--$version.sql"
previous_upgrade_sql="$build_dir/pgq_sql/pgq--$PREVIOUS--$version.sql"
previous_sql_gz="$here/previous/pgq--$PREVIOUS.sql.gz"
for f in "$ext_sql" "$upgrade_sql" "$previous_upgrade_sql" "$previous_sql_gz"; do
    [[ -f "$f" ]] || fail "$f not found (build the pgq_sql target first)"
done
# The companion units (pgq_sql/pgq_ext, pgq_sql/pgq_coop): control file and install script.
companion_files=()
for unit in pgq_ext pgq_coop; do
    unit_control="$build_dir/pgq_sql/$unit.control"
    [[ -f "$unit_control" ]] || fail "$unit_control not found (build the ${unit}_sql target first)"
    unit_version=$(sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$unit_control")
    [[ -f "$build_dir/pgq_sql/$unit--$unit_version.sql" ]] ||
        fail "$build_dir/pgq_sql/$unit--$unit_version.sql not found (build the ${unit}_sql target first)"
    companion_files+=("$unit_control" "$build_dir/pgq_sql/$unit--$unit_version.sql")
    printf -v "${unit}_version" '%s' "$unit_version"
done
[[ -f "$SYS_SHARE/extension/pgq--$UPGRADE_FROM.sql" ]] ||
    fail "the real PgQ $UPGRADE_FROM is not installed ($SYS_SHARE/extension/pgq--$UPGRADE_FROM.sql; apt-get install postgresql-15-pgq3)"

# ---------------------------------------------------------------------------------------
# The shadow installation.
# ---------------------------------------------------------------------------------------
tmp=$(mktemp -d /tmp/pgqpp-ext.XXXXXX)
chmod 755 "$tmp"
root="$tmp/root"
bin="$root/lib/postgresql/15/bin"
share="$root/share/postgresql/15"
mkdir -p "$bin" "$share/extension"
for f in "$SYS_BIN"/*; do
    name=$(basename "$f")
    case "$name" in
    # These find `postgres` (and the share dir) from their own resolved location: copies.
    postgres | pg_ctl | initdb) cp -p "$f" "$bin/$name" ;;
    # postmaster is a symlink to postgres in Debian: point it at our copy.
    postmaster) ln -s postgres "$bin/$name" ;;
    *) ln -s "$f" "$bin/$name" ;;
    esac
done
ln -s "$SYS_LIB" "$root/lib/postgresql/15/lib"
for f in "$SYS_SHARE"/*; do
    name=$(basename "$f")
    [[ "$name" == extension ]] || ln -s "$f" "$share/$name"
done
for f in "$SYS_SHARE"/extension/*; do
    name=$(basename "$f")
    case "$name" in
    pgq.control | "pgq--$version.sql" | "pgq--$UPGRADE_FROM--$version.sql") ;;
    *) ln -s "$f" "$share/extension/$name" ;;
    esac
done
cp "$control" "$ext_sql" "$upgrade_sql" "$previous_upgrade_sql" "${companion_files[@]}" "$share/extension/"
gzip -dc "$previous_sql_gz" >"$share/extension/pgq--$PREVIOUS.sql"
chmod -R a+rX "$root"

# In the build tree (not in $tmp): if this test is ever killed before its trap runs, the
# watcher stops the server (PGQPP_CLUSTER_OWNER), and the next run's start would too.
cluster="$build_dir/tests/install-extension-cluster"
mkdir -p "$build_dir/tests"
PGQPP_PG_BIN="$bin" PGQPP_CLUSTER_OWNER=$$ bash "$here/../harness/pg_cluster.sh" start "$cluster" >/dev/null ||
    fail "could not start a cluster from the shadow installation $root"
PGQPP_TEST_CLUSTER=$cluster pgqpp_load_env
PATH="$SYS_BIN:$PATH"       # client tools: the system ones
unset PGOPTIONS
export PGTZ=UTC PGCLIENTENCODING=UTF8 PGAPPNAME="pgqpp:install.extension"

sql() {
    local db=$1
    shift
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# ---------------------------------------------------------------------------------------
# The server must really run from the shadow tree and see our control file.
# ---------------------------------------------------------------------------------------
sharedir=$(sql postgres -c "select setting from pg_config where name = 'SHAREDIR'")
[[ "$sharedir" == "$share" ]] ||
    fail "the shadow server uses SHAREDIR '$sharedir', expected '$share'"
pkglibdir=$(sql postgres -c "select setting from pg_config where name = 'PKGLIBDIR'")
[[ "$pkglibdir" == "$root/lib/postgresql/15/lib" ]] ||
    fail "the shadow server uses PKGLIBDIR '$pkglibdir', expected '$root/lib/postgresql/15/lib'"
avail=$(sql postgres -c "select default_version || '|' || comment from pg_available_extensions where name = 'pgq'")
[[ "$avail" == "$version|"*pgqpp* ]] ||
    fail "pg_available_extensions shows pgq as '$avail', expected our $version"
versions=$(sql postgres -c "select string_agg(version, ',' order by version) from pg_available_extension_versions where name = 'pgq' and version in ('$UPGRADE_FROM', '$version')")
[[ "$versions" == "$UPGRADE_FROM,$version" ]] ||
    fail "pg_available_extension_versions offers pgq '$versions', expected $UPGRADE_FROM and $version"
log "shadow server runs with SHAREDIR=$sharedir; pgq default_version $version"

new_db() {
    pgqpp_new_db "$1" template0
}

# Functions of schema pgq as 'signature language', one per line.
functions_of() {
    sql "$1" <<'SQL'
select p.oid::regprocedure::text || ' ' || l.lanname
  from pg_catalog.pg_proc p join pg_catalog.pg_language l on l.oid = p.prolang
 where p.pronamespace = 'pgq'::regnamespace
 order by 1;
SQL
}

# Columns of the fixed pgq tables, one per line.
columns_of() {
    sql "$1" <<'SQL'
select c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || case when a.attnotnull then ' not null' else '' end
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
  from pg_catalog.pg_class c
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  left join pg_catalog.pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
 where c.relnamespace = 'pgq'::regnamespace and c.relkind = 'r'
   and c.relname in ('queue', 'consumer', 'subscription', 'tick', 'retry_queue', 'event_template')
 order by c.relname, a.attname;
SQL
}

# Members of schema pgq that are not members of the extension pgq (functions, fixed tables).
non_members_of() {
    sql "$1" <<'SQL'
select 'function ' || p.oid::regprocedure::text
  from pg_catalog.pg_proc p
 where p.pronamespace = 'pgq'::regnamespace
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
                      and d.refclassid = 'pg_catalog.pg_extension'::regclass and d.deptype = 'e')
union all
select 'table ' || c.oid::regclass::text
  from pg_catalog.pg_class c
 where c.relnamespace = 'pgq'::regnamespace
   and c.relname in ('queue', 'consumer', 'subscription', 'tick', 'retry_queue', 'event_template')
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
                      and d.refclassid = 'pg_catalog.pg_extension'::regclass and d.deptype = 'e');
SQL
}

# Producer/consumer bookkeeping in a test database: sent = committed events (written in the
# producer's transaction), recv = what the consumer got (written in the consumer's
# transaction that finishes the batch).
make_bookkeeping() {
    sql "$1" >/dev/null <<'SQL'
create table public.sent (ev_id bigint primary key, ev_type text, ev_data text, phase text);
create table public.recv (batch_id bigint, ord bigint, ev_id bigint, ev_retry int4,
                          ev_type text, ev_data text, primary key (batch_id, ord));
SQL
}

# produce DB QUEUE PHASE COUNT [rollback]: one producer transaction of COUNT events.
produce() {
    local end=commit
    [[ "${5:-}" == rollback ]] && end=rollback
    sql "$1" -v q="$2" -v phase="$3" -v n="$4" >/dev/null <<SQL
begin;
insert into public.sent
select pgq.insert_event(:'q', 'ev', :'phase' || '-' || i, 'x1', null, :'phase', null),
       'ev', :'phase' || '-' || i, :'phase'
  from generate_series(1, :n) i;
$end;
SQL
}

tick() {
    sql "$1" -v q="$2" >/dev/null <<'SQL'
select pgq.ticker(:'q');
SQL
}

# The events of batch :b (a psql variable) into recv.
record_batch_sql="insert into public.recv (batch_id, ord, ev_id, ev_retry, ev_type, ev_data)
select :b, e.ord, e.ev_id, e.ev_retry, e.ev_type, e.ev_data
  from pgq.get_batch_events(:b) with ordinality
       as e(ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, e1, e2, e3, e4, ord);"

# take_events DB BATCH: records the batch's events in recv (not finished).
take_events() {
    sql "$1" -v b="$2" >/dev/null <<<"$record_batch_sql"
}

# take_and_finish DB BATCH: records the batch's events and finishes it, in one transaction.
take_and_finish() {
    sql "$1" -v b="$2" >/dev/null <<<"begin;
$record_batch_sql
select pgq.finish_batch(:b);
commit;"
}

# consume_all DB QUEUE CONSUMER: tick, then take and finish batches until none is left.
consume_all() {
    local db=$1 q=$2 c=$3 batch n=0
    tick "$db" "$q"
    while :; do
        batch=$(sql "$db" -v q="$q" -v c="$c" <<<"select pgq.next_batch(:'q', :'c');")
        [[ -n "$batch" ]] || break
        take_and_finish "$db" "$batch"
        n=$((n + 1))
        ((n < 1000)) || fail "consume_all: more than 1000 batches on $db"
    done
}

# check_exactly_once DB WHAT: every sent event received exactly once, nothing else.
check_exactly_once() {
    local problems
    problems=$(sql "$1" <<'SQL'
select 'missing: ' || s.ev_id || ' (' || s.ev_data || ')' from public.sent s
 where not exists (select 1 from public.recv r where r.ev_id = s.ev_id)
union all
select 'delivered ' || count(*) || ' times: ' || ev_id from public.recv group by ev_id having count(*) > 1
union all
select 'not sent: ' || r.ev_id from public.recv r
 where not exists (select 1 from public.sent s where s.ev_id = r.ev_id)
union all
select 'changed: ' || r.ev_id from public.recv r join public.sent s using (ev_id)
 where r.ev_type is distinct from s.ev_type or r.ev_data is distinct from s.ev_data
union all
select 'order in batch ' || batch_id from (
    select batch_id, ev_id, lag(ev_id) over (partition by batch_id order by ord) as prev
      from public.recv) x
 where prev >= ev_id;
SQL
    )
    [[ -z "$problems" ]] || fail "$2: the consumer did not get every event exactly once:
$problems"
}

# ---------------------------------------------------------------------------------------
# (a) CREATE EXTENSION pgq installs ours.
# ---------------------------------------------------------------------------------------
db_a=ext_fresh
new_db "$db_a"
sql "$db_a" -c "create extension pgq" >/dev/null
got=$(sql "$db_a" -c "select extversion from pg_extension where extname = 'pgq'")
[[ "$got" == "$version" ]] || fail "(a) CREATE EXTENSION pgq installed version '$got', expected '$version'"
got=$(sql "$db_a" -c "select pgq.version()")
[[ "$got" == "$version" ]] || fail "(a) pgq.version() = '$got', expected '$version'"
got=$(sql "$db_a" -c "select count(*) from pg_proc where pronamespace = 'pgq'::regnamespace and proname = 'insert_event_bulk'")
((got > 0)) || fail "(a) pgq.insert_event_bulk does not exist: CREATE EXTENSION did not install ours"
got=$(sql "$db_a" -c "select string_agg(p.oid::regprocedure::text, ', ') from pg_proc p join pg_language l on l.oid = p.prolang where p.pronamespace = 'pgq'::regnamespace and l.lanname = 'c'")
[[ -z "$got" ]] || fail "(a) our extension has C functions: $got"
got=$(non_members_of "$db_a")
[[ -z "$got" ]] || fail "(a) objects of schema pgq that are not members of the extension:
$got"

make_bookkeeping "$db_a"
sql "$db_a" >/dev/null <<'SQL'
select pgq.create_queue('ext_q');
select pgq.create_queue('ext_q2');
-- every pgq.ticker(q) call ticks
select pgq.set_queue_config('ext_q', 'ticker_max_lag', '0');
select pgq.set_queue_config('ext_q', 'ticker_idle_period', '0');
select pgq.register_consumer('ext_q', 'c1');
select pgq.register_consumer('ext_q2', 'c2');
SQL
produce "$db_a" ext_q a1 3
produce "$db_a" ext_q a1-rolled-back 2 rollback
produce "$db_a" ext_q a2 4
consume_all "$db_a" ext_q c1
check_exactly_once "$db_a" "(a) round trip"
got=$(sql "$db_a" -c "select count(*) from public.recv")
[[ "$got" == 7 ]] || fail "(a) round trip: the consumer got $got events, expected 7"
log "(a) CREATE EXTENSION pgq: ours $version, round trip create_queue/insert/tick/next_batch/get_batch_events/finish_batch OK"

# State to dump: pending events in an open batch, ticked-but-unread events, an event in
# the retry queue, a second queue.
produce "$db_a" ext_q a3-open-batch 5
tick "$db_a" ext_q
open_batch=$(sql "$db_a" -c "select pgq.next_batch('ext_q', 'c1')")
[[ -n "$open_batch" ]] || fail "(a) no batch after a tick"
take_events "$db_a" "$open_batch"
retry_id=$(sql "$db_a" -v b="$open_batch" <<'SQL'
select ev_id from public.recv where batch_id = :b order by ev_id limit 1;
SQL
)
sql "$db_a" -v b="$open_batch" -v id="$retry_id" >/dev/null <<'SQL'
select pgq.event_retry(:b, :id, 3600);
SQL
# A dead letter too (pgqpp's pgq.dead_letter and its id sequence must survive the dump).
sql "$db_a" -v b="$open_batch" -v id="$retry_id" >/dev/null <<'SQL'
select pgq.dead_letter_add(:b, array[:id]::bigint[], 'dumped');
SQL
# The dump is taken while the batch is open: what recv has of it is not "received" yet.
sql "$db_a" -v b="$open_batch" <<'SQL'
delete from public.recv where batch_id = :b;
SQL
produce "$db_a" ext_q a4-after-open 3
tick "$db_a" ext_q
sql "$db_a" >/dev/null <<'SQL'
select pgq.insert_event('ext_q2', 'ev', 'a5-q2-' || i) from generate_series(1, 2) i;
SQL

# pg_dump | psql into a new database.
db_r=ext_restored
new_db "$db_r"
pg_dump -d "$db_a" -f "$tmp/dump.sql" || fail "(a) pg_dump failed"
grep -q "CREATE EXTENSION IF NOT EXISTS pgq" "$tmp/dump.sql" || fail "(a) the dump does not create extension pgq"
if ! sql "$db_r" -f "$tmp/dump.sql" >"$tmp/restore.log" 2>&1; then
    cat "$tmp/restore.log" >&2
    fail "(a) restoring the pg_dump output failed"
fi

# The metadata rows and events must be the same in both databases.
snapshot() {
    sql "$1" <<'SQL'
select 'queue', to_jsonb(q) from pgq.queue q order by queue_id;
select 'consumer', to_jsonb(c) from pgq.consumer c order by co_id;
select 'subscription', to_jsonb(s) from pgq.subscription s order by sub_id;
select 'tick', to_jsonb(t) from pgq.tick t order by tick_queue, tick_id;
select 'retry_queue', to_jsonb(r) from pgq.retry_queue r order by ev_id;
select 'dead_letter', to_jsonb(d) from pgq.dead_letter d order by dl_id;
select 'event', to_jsonb(e) from pgq.event_template e order by ev_id;
-- (not pgq._trg_ddl_seq: a DDL counter of the trigger cache, not data; any DDL moves it)
select 'seq ' || c.relname, pgq.seq_getval('pgq.' || c.relname)
  from pg_class c where c.relnamespace = 'pgq'::regnamespace and c.relkind = 'S'
   and c.relname <> '_trg_ddl_seq' order by 1;
select 'sent', count(*) from public.sent;
SQL
}
snapshot "$db_a" >"$tmp/before.txt"
snapshot "$db_r" >"$tmp/after.txt"
if ! diff -u "$tmp/before.txt" "$tmp/after.txt" >"$tmp/snapshot.diff"; then
    cat "$tmp/snapshot.diff" >&2
    hint=""
    if grep -q '^[-+]seq ' "$tmp/snapshot.diff"; then
        hint="
A sequence of schema pgq lost its value: sequences that are extension members are dumped only
if marked with pg_extension_config_dump (pgq_sql/structure/ext_postproc.sql)."
    fi
    fail "(a) pg_dump + restore changed the pgq metadata or events (diff above: - original, + restored)$hint"
fi
for t in queue consumer subscription tick retry_queue dead_letter; do
    got=$(sql "$db_r" -c "select count(*) from pgq.$t")
    ((got > 0)) || fail "(a) pgq.$t is empty after the restore: its rows were not dumped"
done
got=$(sql "$db_r" -c "select extversion from pg_extension where extname = 'pgq'")
[[ "$got" == "$version" ]] || fail "(a) the restored database has pgq '$got', expected '$version'"

# The restored queue keeps working: the open batch is still open, the consumer continues,
# new queues and consumers can be added.
again=$(sql "$db_r" -c "select pgq.next_batch('ext_q', 'c1')")
[[ "$again" == "$open_batch" ]] ||
    fail "(a) after the restore next_batch returned '$again', expected the open batch $open_batch"
take_and_finish "$db_r" "$open_batch"
produce "$db_r" ext_q a6-after-restore 4
consume_all "$db_r" ext_q c1
check_exactly_once "$db_r" "(a) after pg_dump/restore"
if ! out=$(sql "$db_r" 2>&1 <<'SQL'
select pgq.create_queue('ext_q3');
select pgq.register_consumer('ext_q', 'c_new');
select pgq.register_consumer('ext_q3', 'c_new');
SQL
); then
    fail "(a) after pg_dump/restore, creating a queue or registering a consumer fails
(the serial sequences pgq.queue_queue_id_seq / consumer_co_id_seq / subscription_sub_id_seq
must be marked with pg_extension_config_dump, or they restart at 1):
$out"
fi
log "(a) pg_dump/restore keeps queues, consumers, ticks, the open batch, the retry queue and events"

# DROP EXTENSION: with queues only CASCADE works (event tables depend on the schema, as in
# PgQ); without queues a plain DROP EXTENSION works. Either way nothing of pgq is left.
no_pgq_left() {
    local got
    got=$(sql "$1" <<'SQL'
select (select count(*) from pg_namespace where nspname = 'pgq')
     + (select count(*) from pg_extension where extname = 'pgq')
     + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'pgq');
SQL
    )
    [[ "$got" == 0 ]]
}
sql "$db_a" -c "drop extension pgq cascade" >/dev/null 2>&1 || fail "(a) DROP EXTENSION pgq CASCADE failed"
no_pgq_left "$db_a" || fail "(a) DROP EXTENSION pgq CASCADE left pgq objects behind"
sql "$db_r" >/dev/null <<'SQL'
select pgq.drop_queue(queue_name, true) from pgq.queue;
SQL
sql "$db_r" -c "drop extension pgq" >/dev/null || fail "(a) DROP EXTENSION pgq (no queues left) failed"
no_pgq_left "$db_r" || fail "(a) DROP EXTENSION pgq left pgq objects behind"
log "(a) DROP EXTENSION pgq removes schema pgq"

# workload_before_update DB WHAT: a queue and a consumer, a batch consumed, one left open
# (open_batch), committed events not yet ticked.
workload_before_update() {
    local db=$1 what=$2
    make_bookkeeping "$db"
    sql "$db" >/dev/null <<'SQL'
select pgq.create_queue('up_q');
select pgq.set_queue_config('up_q', 'ticker_max_lag', '0');
select pgq.set_queue_config('up_q', 'ticker_idle_period', '0');
select pgq.register_consumer('up_q', 'c1');
SQL
    produce "$db" up_q b1-before 5
    produce "$db" up_q b1-rolled-back 3 rollback
    consume_all "$db" up_q c1              # a first batch, consumed under the old version
    produce "$db" up_q b2-before 4
    produce "$db" up_q b2-before-more 2
    tick "$db" up_q
    open_batch=$(sql "$db" -c "select pgq.next_batch('up_q', 'c1')")
    [[ -n "$open_batch" ]] || fail "$what no batch after a tick"
    produce "$db" up_q b3-before-unticked 3  # committed, not yet ticked
}

# workload_after_update DB WHAT: the consumer continues (the open batch, the unticked events,
# new ones) and gets every event exactly once.
workload_after_update() {
    local db=$1 what=$2 again phases
    again=$(sql "$db" -c "select pgq.next_batch('up_q', 'c1')")
    [[ "$again" == "$open_batch" ]] ||
        fail "$what after the update next_batch returned '$again', expected the open batch $open_batch"
    take_and_finish "$db" "$open_batch"
    produce "$db" up_q b4-after 6
    produce "$db" up_q b4-after-rolled-back 2 rollback
    sql "$db" -c "select pgq.register_consumer('up_q', 'c2')" >/dev/null
    produce "$db" up_q b5-after 1
    sql "$db" >/dev/null <<'SQL' || fail "$what maintenance functions fail after the update"
select count(*) from pgq.maint_operations();
select pgq.maint_retry_events();
SQL
    consume_all "$db" up_q c1
    check_exactly_once "$db" "$what across ALTER EXTENSION UPDATE"
    phases=$(sql "$db" -c "select string_agg(distinct s.phase, ',' order by s.phase) from public.recv r join public.sent s using (ev_id)")
    [[ "$phases" == "b1-before,b2-before,b2-before-more,b3-before-unticked,b4-after,b5-after" ]] ||
        fail "$what the consumer got events of phases '$phases'"
    log "$what the consumer got every event exactly once across the update ($(sql "$db" -c 'select count(*) from public.recv') events)"
}

# ---------------------------------------------------------------------------------------
# (b) ALTER EXTENSION pgq UPDATE from the real PgQ 3.5 to ours.
# ---------------------------------------------------------------------------------------
db_f=ext_reference      # a fresh install of ours, to compare the upgraded schema with
new_db "$db_f"
sql "$db_f" -c "create extension pgq" >/dev/null
functions_of "$db_f" >"$tmp/functions.fresh"
columns_of "$db_f" >"$tmp/columns.fresh"

db_u=ext_upgraded
new_db "$db_u"
sql "$db_u" -c "create extension pgq version '$UPGRADE_FROM'" >/dev/null
got=$(sql "$db_u" -c "select l.lanname from pg_proc p join pg_language l on l.oid = p.prolang where p.oid = 'pgq.insert_event_raw'::regproc")
[[ "$got" == c ]] ||
    fail "(b) CREATE EXTENSION pgq VERSION '$UPGRADE_FROM' did not install the real PgQ (insert_event_raw is '$got', not C)"
functions_of "$db_u" >"$tmp/functions.old"

workload_before_update "$db_u" "(b)"

if ! out=$(sql "$db_u" -c "alter extension pgq update to '$version'" 2>&1); then
    fail "(b) ALTER EXTENSION pgq UPDATE TO '$version' failed:
$out"
fi
got=$(sql "$db_u" -c "select extversion from pg_extension where extname = 'pgq'")
[[ "$got" == "$version" ]] || fail "(b) after the update extversion is '$got', expected '$version'"
got=$(sql "$db_u" -c "select pgq.version()")
[[ "$got" == "$version" ]] || fail "(b) after the update pgq.version() = '$got', expected '$version'"
got=$(sql "$db_u" -c "select l.lanname from pg_proc p join pg_language l on l.oid = p.prolang where p.oid = 'pgq.insert_event_raw'::regproc")
[[ "$got" == plpgsql ]] || fail "(b) after the update pgq.insert_event_raw is '$got', expected plpgsql"

functions_of "$db_u" >"$tmp/functions.upgraded"
# Every function of a fresh install, with the same language: nothing missing, nothing still C.
missing=$(comm -23 "$tmp/functions.fresh" "$tmp/functions.upgraded")
[[ -z "$missing" ]] || fail "(b) after the update these functions of a fresh $version install are missing or in another language:
$missing
(functions of the updated database: $tmp/functions.upgraded)"
new_functions=$(comm -23 <(sed 's/ [a-z]*$//' "$tmp/functions.fresh") <(sed 's/ [a-z]*$//' "$tmp/functions.old") | tr '\n' ' ')
[[ -n "$new_functions" ]] || fail "(b) a fresh $version install has no function that PgQ $UPGRADE_FROM lacks?"
leftover=$(comm -13 "$tmp/functions.fresh" "$tmp/functions.upgraded")
if [[ -n "$leftover" ]]; then
    still_c=$(grep ' c$' <<<"$leftover" | grep -v -E '^pgq\.(logutriga|sqltriga|jsontriga)\(\) c$' || true)
    [[ -z "$still_c" ]] || fail "(b) after the update these C functions of PgQ $UPGRADE_FROM are left over:
$still_c"
    log "(b) note: left over from PgQ $UPGRADE_FROM (not defined by ours $version): $(tr '\n' ' ' <<<"$leftover")"
fi
columns_of "$db_u" >"$tmp/columns.upgraded"
if ! diff -u "$tmp/columns.fresh" "$tmp/columns.upgraded" >"$tmp/columns.diff"; then
    cat "$tmp/columns.diff" >&2
    fail "(b) after the update the pgq tables differ from a fresh $version install (diff above: - fresh, + updated)"
fi
got=$(non_members_of "$db_u")
[[ -z "$got" ]] || fail "(b) after the update these objects of schema pgq are not members of the extension:
$got"
log "(b) ALTER EXTENSION pgq UPDATE TO '$version': functions and tables match a fresh install; new: $new_functions"

workload_after_update "$db_u" "(b)"

# ---------------------------------------------------------------------------------------
# (b2) ALTER EXTENSION pgq UPDATE from pgqpp's previous release.
# ---------------------------------------------------------------------------------------
db_p=ext_from_previous
new_db "$db_p"
sql "$db_p" -c "create extension pgq version '$PREVIOUS'" >/dev/null
got=$(sql "$db_p" -c "select pgq.version()")
[[ "$got" == "$PREVIOUS" ]] || fail "(b2) CREATE EXTENSION pgq VERSION '$PREVIOUS' gave pgq.version() '$got'"
workload_before_update "$db_p" "(b2)"
if ! out=$(sql "$db_p" -c "alter extension pgq update to '$version'" 2>&1); then
    fail "(b2) ALTER EXTENSION pgq UPDATE from $PREVIOUS TO '$version' failed:
$out"
fi
got=$(sql "$db_p" -c "select extversion || ' ' || pgq.version() from pg_extension where extname = 'pgq'")
[[ "$got" == "$version $version" ]] || fail "(b2) after the update extversion and pgq.version() are '$got'"
if ! diff -u "$tmp/functions.fresh" <(functions_of "$db_p") >"$tmp/functions.diff" ||
    ! diff -u "$tmp/columns.fresh" <(columns_of "$db_p") >"$tmp/columns.diff"; then
    cat "$tmp/functions.diff" "$tmp/columns.diff" >&2
    fail "(b2) after the update from $PREVIOUS the schema differs from a fresh $version install (diff above: - fresh, + updated)"
fi
got=$(non_members_of "$db_p")
[[ -z "$got" ]] || fail "(b2) after the update these objects of schema pgq are not members of the extension:
$got"
workload_after_update "$db_p" "(b2)"
log "(b2) ALTER EXTENSION pgq UPDATE from $PREVIOUS: the schema of a fresh $version install"

# ---------------------------------------------------------------------------------------
# (c) The companion extensions pgq_ext and pgq_coop.
# ---------------------------------------------------------------------------------------
# pgq_ext: in a target database without pgq.
db_e=ext_pgq_ext
new_db "$db_e"
sql "$db_e" -c "create extension pgq_ext" >/dev/null || fail "(c) CREATE EXTENSION pgq_ext failed"
got=$(sql "$db_e" -c "select extversion || ' ' || pgq_ext.version() || ' ' || (to_regnamespace('pgq') is null) from pg_extension where extname = 'pgq_ext'")
[[ "$got" == "$pgq_ext_version $pgq_ext_version true" ]] ||
    fail "(c) pgq_ext: extversion, version(), no pgq: '$got', expected '$pgq_ext_version $pgq_ext_version true'"
got=$(sql "$db_e" <<'SQL'
select string_agg(x, ', ') from (
    select 'function ' || p.oid::regprocedure::text as x from pg_proc p
     where p.pronamespace = 'pgq_ext'::regnamespace
       and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass
                          and d.objid = p.oid and d.refclassid = 'pg_extension'::regclass)
    union all
    select 'table ' || c.oid::regclass::text from pg_class c
     where c.relnamespace = 'pgq_ext'::regnamespace and c.relkind = 'r'
       and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                          and d.objid = c.oid and d.refclassid = 'pg_extension'::regclass)) m;
SQL
)
[[ -z "$got" ]] || fail "(c) objects of schema pgq_ext that are not members of the extension: $got"
got=$(sql "$db_e" <<'SQL'
select pgq_ext.set_batch_done('c1', 5)::text || pgq_ext.is_batch_done('c1', 5)::text
       || pgq_ext.set_last_tick('c1', 'sub', 7) || pgq_ext.set_event_done('c1', 6, 1)::text;
SQL
)
[[ "$got" == "truetrue1true" ]] || fail "(c) pgq_ext round trip: '$got'"
db_er=ext_pgq_ext_restored
new_db "$db_er"
pg_dump -d "$db_e" -f "$tmp/dump_ext.sql" || fail "(c) pg_dump of the pgq_ext database failed"
sql "$db_er" -f "$tmp/dump_ext.sql" >"$tmp/restore_ext.log" 2>&1 || {
    cat "$tmp/restore_ext.log" >&2
    fail "(c) restoring the pgq_ext dump failed"
}
got=$(sql "$db_er" -c "select pgq_ext.is_batch_done('c1', 5)::text || pgq_ext.get_last_tick('c1', 'sub') || pgq_ext.is_event_done('c1', 6, 1)::text")
[[ "$got" == "true7true" ]] || fail "(c) pgq_ext after pg_dump/restore: '$got' (its rows were not dumped?)"
sql "$db_e" -c "drop extension pgq_ext" >/dev/null || fail "(c) DROP EXTENSION pgq_ext failed"
got=$(sql "$db_e" -c "select count(*) from pg_namespace where nspname = 'pgq_ext'")
[[ "$got" == 0 ]] || fail "(c) DROP EXTENSION pgq_ext left schema pgq_ext behind"
log "(c) CREATE EXTENSION pgq_ext $pgq_ext_version without pgq, pg_dump/restore of its rows, DROP EXTENSION"

# pgq_coop: requires pgq.
db_c=ext_pgq_coop
new_db "$db_c"
if out=$(sql "$db_c" -c "create extension pgq_coop" 2>&1); then
    fail "(c) CREATE EXTENSION pgq_coop without pgq succeeded"
fi
grep -q 'required extension "pgq" is not installed' <<<"$out" ||
    fail "(c) CREATE EXTENSION pgq_coop without pgq: unexpected error: $out"
sql "$db_c" -c "create extension pgq_coop cascade" >/dev/null || fail "(c) CREATE EXTENSION pgq_coop CASCADE failed"
got=$(sql "$db_c" -c "select string_agg(extname || ' ' || extversion, ', ' order by extname) from pg_extension where extname like 'pgq%'")
[[ "$got" == "pgq $version, pgq_coop $pgq_coop_version" ]] ||
    fail "(c) after CREATE EXTENSION pgq_coop CASCADE: '$got'"
got=$(sql "$db_c" <<'SQL'
select pgq.create_queue('coop_q');
select pgq.set_queue_config('coop_q', 'ticker_max_lag', '0');
select pgq_coop.register_subconsumer('coop_q', 'grp', 's1');
select pgq.insert_event('coop_q', 'ev', 'coop-' || i) from generate_series(1, 3) i;
select pgq.ticker('coop_q');
select pgq_coop.next_batch('coop_q', 'grp', 's1') as b \gset
select string_agg(ev_data, ',' order by ev_id) from pgq.get_batch_events(:b);
select pgq_coop.finish_batch(:b);
select pgq_coop.version();
SQL
)
[[ "$(tail -n 3 <<<"$got" | tr '
' ' ')" == "coop-1,coop-2,coop-3 1 $pgq_coop_version " ]] ||
    fail "(c) pgq_coop round trip: $got"
sql "$db_c" -c "drop extension pgq_coop" >/dev/null || fail "(c) DROP EXTENSION pgq_coop failed"
got=$(sql "$db_c" -c "select (select count(*) from pg_namespace where nspname = 'pgq_coop') || ' ' || (select count(*) from pg_extension where extname = 'pgq')")
[[ "$got" == "0 1" ]] || fail "(c) after DROP EXTENSION pgq_coop: pgq_coop schemas, pgq extensions: '$got'"
log "(c) CREATE EXTENSION pgq_coop $pgq_coop_version requires pgq (CASCADE brings ours), round trip, DROP EXTENSION"

for d in "$db_f" "$db_u" "$db_a" "$db_r" "$db_e" "$db_er" "$db_c"; do
    pgqpp_drop_db "$d"
done
log "OK"
