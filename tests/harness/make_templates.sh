#!/usr/bin/env bash
# make_templates.sh DIR INSTALL_SQL [EXTRA_SQL...]: (re)creates the template databases every
# test copies.
#   tmpl_ours  our pgq, installed with `psql -f INSTALL_SQL` (build/pgq_sql/pgq_install.sql),
#              then each EXTRA_SQL the same way (ctest passes pgq_coop_install.sql and
#              pgq_ext_install.sql: the companion schemas pgq_coop and pgq_ext)
#   tmpl_pgq   the real PgQ 3.5 C extension from Debian: CREATE EXTENSION pgq
#   tmpl_ours_light  tmpl_ours where every queue created gets the option light_batches
#              (a test-only trigger on pgq.queue), to run the same tests on light batches
# Both are marked as templates and closed to connections: CREATE DATABASE ... TEMPLATE fails
# while anyone is connected to the template, so nobody may be.
set -euo pipefail

dir=${1:?usage: make_templates.sh DIR INSTALL_SQL}
install_sql=${2:?usage: make_templates.sh DIR INSTALL_SQL [EXTRA_SQL...]}
extra_sqls=("${@:3}")
export PGQPP_TEST_CLUSTER=$dir
# shellcheck source=tests/harness/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pgqpp_load_env
export PGOPTIONS="-c client_min_messages=warning"   # keep idempotent installs quiet

recreate() {
    pgqpp_admin_sql -v db="$1" <<'SQL'
select format('alter database %I is_template false allow_connections true', datname)
  from pg_database where datname = :'db' \gexec
drop database if exists :"db" with (force);
create database :"db" template template0;
SQL
}

finish() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'vacuum freeze'
    pgqpp_admin_sql -v db="$1" <<'SQL'
alter database :"db" is_template true allow_connections false;
SQL
}

discard() {
    pgqpp_admin_sql -v db="$1" <<'SQL'
drop database if exists :"db" with (force);
SQL
}

make_tmpl_pgq() {
    recreate tmpl_pgq || return 1
    psql -X -q -v ON_ERROR_STOP=1 -d tmpl_pgq -c 'create extension pgq' || return 1
    # If our pgq.control were installed over Debian's, this would be ours: catch that here.
    local c_functions
    c_functions=$(psql -X -At -v ON_ERROR_STOP=1 -d tmpl_pgq -c "
        select count(*) from pg_proc p
          join pg_namespace n on n.oid = p.pronamespace
          join pg_language l on l.oid = p.prolang
         where n.nspname = 'pgq' and l.lanname = 'c'") || return 1
    if [[ "$c_functions" -eq 0 ]]; then
        echo "make_templates.sh: CREATE EXTENSION pgq did not load the real (C) PgQ; is our" \
            "pgq.control installed over Debian's in /usr/share/postgresql/15/extension?" >&2
        return 1
    fi
}

make_tmpl_ours() {
    recreate tmpl_ours || return 1
    if [[ ! -f "$install_sql" ]]; then
        echo "make_templates.sh: $install_sql not found (build the pgq_sql target first)" >&2
        return 1
    fi
    psql -X -q -v ON_ERROR_STOP=1 -d tmpl_ours -f "$install_sql" || return 1
    local extra
    for extra in "${extra_sqls[@]}"; do
        if [[ ! -f "$extra" ]]; then
            echo "make_templates.sh: $extra not found (build its SQL target first)" >&2
            return 1
        fi
        psql -X -q -v ON_ERROR_STOP=1 -d tmpl_ours -f "$extra" || return 1
    done
}

# tmpl_ours plus a trigger (test machinery, not part of pgq) that turns the queue option
# light_batches on for every queue created, so that tests written for PgQ's kind of batches
# run on light ones unchanged.
make_tmpl_ours_light() {
    pgqpp_admin_sql <<'SQL' || return 1
select 'alter database tmpl_ours_light is_template false allow_connections true'
  from pg_database where datname = 'tmpl_ours_light' \gexec
drop database if exists tmpl_ours_light with (force);
create database tmpl_ours_light template tmpl_ours;
SQL
    psql -X -q -v ON_ERROR_STOP=1 -d tmpl_ours_light <<'SQL'
create function public.pgqpp_test_light_batches() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    insert into pgq.queue_option (qo_queue, qo_name, qo_value)
    values (new.queue_id, 'light_batches', 'true');
    return null;
end $$;
create trigger pgqpp_test_light_batches after insert on pgq.queue
    for each row execute function public.pgqpp_test_light_batches();
SQL
}

# All are always attempted, so one failure does not hide another.
status=0
for kind in pgq ours ours_light; do
    if "make_tmpl_$kind"; then
        finish "tmpl_$kind"
    else
        echo "make_templates.sh: could not build tmpl_$kind" >&2
        discard "tmpl_$kind"
        status=1
    fi
done
exit "$status"
