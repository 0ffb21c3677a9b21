#!/usr/bin/env bash
# run_example.sh NAME TEMPLATE BINARY [ARGS...]: runs an example program against a fresh
# database made from TEMPLATE (tmpl_ours or tmpl_pgq) of the ctest run's cluster. The
# example gets the database's connection string as its first argument (what users would
# pass), the rest of ARGS after it.
set -euo pipefail
name=${1:?usage: run_example.sh NAME TEMPLATE BINARY [ARGS...]}
template=${2:?}
binary=${3:?}
shift 3
# shellcheck source=tests/harness/lib.sh
source "$PGQPP_SOURCE_DIR/tests/harness/lib.sh"
pgqpp_load_env
db=$(pgqpp_db_name "example_$name" "$$")
pgqpp_new_db "$db" "$template"
trap 'pgqpp_drop_db "$db"' EXIT
"$binary" "host='$PGHOST' port='$PGPORT' user='$PGUSER' dbname='$db'" "$@"
