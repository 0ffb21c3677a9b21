# shellcheck shell=bash
# Shell helpers for pgqpp tests (source this file). The cluster comes from the ctest fixture:
# $PGQPP_TEST_CLUSTER is either the directory given to pg_cluster.sh start, or the base
# directory under which every ctest run starts its own cluster in run-<ctest pid> (so that
# two ctest runs in one build tree do not stop each other's server).

# Points PGQPP_TEST_CLUSTER at the cluster of this test's ctest run (exported, for children).
pgqpp_resolve_cluster() {
    local base="${PGQPP_TEST_CLUSTER:?PGQPP_TEST_CLUSTER is not set (run the test through ctest)}"
    if [[ ! -f "$base/env" && -f "$base/run-$PPID/env" ]]; then
        export PGQPP_TEST_CLUSTER="$base/run-$PPID"
    fi
}

pgqpp_load_env() {
    pgqpp_resolve_cluster
    local env_file="$PGQPP_TEST_CLUSTER/env"
    if [[ ! -f "$env_file" ]]; then
        echo "pgqpp: no test cluster at $PGQPP_TEST_CLUSTER (missing $env_file)" >&2
        return 1
    fi
    # PostgreSQL 15's own client tools, not whatever version the psql wrapper would pick.
    PATH="${PGQPP_PG_BIN:-/usr/lib/postgresql/15/bin}:$PATH"
    set -a
    # shellcheck source=/dev/null
    source "$env_file"
    set +a
}

# A database name derived from a test name (plus optional suffix): lowercase [a-z0-9_],
# at most 63 bytes; a long name is cut and gets a hash so that it stays unique.
pgqpp_db_name() {
    local name="t_${1}${2:+_$2}"
    name=$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_' '_' | tr -s '_')
    if ((${#name} > 63)); then
        local hash
        hash=$(printf '%s' "$name" | cksum | cut -d ' ' -f 1)
        name="${name:0:50}_${hash}"
    fi
    printf '%s\n' "$name"
}

# Runs SQL from stdin as the superuser in the maintenance database; names are passed as
# psql variables, so SQL can quote them with :"var" / :'var'.
pgqpp_admin_sql() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
}

# pgqpp_new_db NAME TEMPLATE: (re)creates database NAME as a copy of TEMPLATE.
pgqpp_new_db() {
    pgqpp_admin_sql -v db="$1" -v tmpl="$2" <<'SQL'
drop database if exists :"db" with (force);
create database :"db" template :"tmpl";
SQL
}

# pgqpp_drop_db NAME
pgqpp_drop_db() {
    pgqpp_admin_sql -v db="$1" <<'SQL'
drop database if exists :"db" with (force);
SQL
}
