#!/usr/bin/env bash
# Golden-file SQL test runner (pg_regress style).
#
#   run_sql_test.sh --name NAME --sql FILE --expected FILE --target ours|pgq|ours_light
#                   [--target ...] [--results-dir DIR]
#
# For each target: a fresh database copied from tmpl_<target>, FILE fed to psql on stdin
# (as pg_regress does: error lines then carry no file name or line prefix), the output saved to
# DIR/NAME.<target>.out (default DIR: $PGQPP_BUILD_DIR/tests/results) and compared with the
# expected file. Every target must produce exactly the expected output, except that a
# target may have its own expected file next to it, <expected minus .out>.<target>.out
# (used for ours_light, where a test that reads pgq.subscription.sub_batch sees NULL).
#
# PGQPP_ACCEPT=1 first copies the first target's output over the expected file (then the
# other targets are still compared with it): review the diff in git afterwards.
set -euo pipefail

usage() {
    echo "usage: run_sql_test.sh --name NAME --sql FILE --expected FILE --target ours|pgq|ours_light [--target ...] [--results-dir DIR]" >&2
    exit 2
}

name="" sql="" expected="" results_dir="" targets=()
while (($#)); do
    case "$1" in
    --name) name=${2:-} ;;
    --sql) sql=${2:-} ;;
    --expected) expected=${2:-} ;;
    --target) targets+=("${2:-}") ;;
    --results-dir) results_dir=${2:-} ;;
    *) usage ;;
    esac
    shift 2 || usage
done
[[ -n "$name" && -n "$sql" && -n "$expected" && ${#targets[@]} -gt 0 ]] || usage
[[ -f "$sql" ]] || { echo "run_sql_test.sh: no such file: $sql" >&2; exit 2; }
for target in "${targets[@]}"; do
    [[ "$target" == ours || "$target" == pgq || "$target" == ours_light ]] || usage
done
results_dir=${results_dir:-${PGQPP_BUILD_DIR:?set PGQPP_BUILD_DIR or pass --results-dir}/tests/results}
mkdir -p "$results_dir"

# shellcheck source=tests/harness/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pgqpp_load_env

# The output must not depend on the developer's environment.
unset PGOPTIONS PGDATESTYLE
export PGTZ=UTC PGCLIENTENCODING=UTF8 PGAPPNAME="pgqpp:$name"

failed=0
for i in "${!targets[@]}"; do
    target=${targets[$i]}
    db=$(pgqpp_db_name "$name" "$target")
    out="$results_dir/$name.$target.out"

    pgqpp_new_db "$db" "tmpl_$target"
    psql_status=0
    PGDATABASE=$db psql -X -q -a -v ON_ERROR_STOP=0 <"$sql" >"$out" 2>&1 || psql_status=$?
    pgqpp_drop_db "$db"

    if [[ "${PGQPP_ACCEPT:-0}" == 1 && $i -eq 0 ]]; then
        cp "$out" "$expected"
        echo "accepted: $expected (from target $target)"
    fi
    target_expected=$expected
    if [[ -f "${expected%.out}.$target.out" ]]; then
        target_expected=${expected%.out}.$target.out
    fi
    if ((psql_status != 0)); then
        echo "FAIL [$target]: psql exited with status $psql_status; output in $out"
        failed=1
    elif [[ ! -f "$target_expected" ]]; then
        echo "FAIL [$target]: no expected output $target_expected (create it with PGQPP_ACCEPT=1)"
        failed=1
    elif diff -u "$target_expected" "$out"; then
        echo "ok [$target]"
    else
        echo "FAIL [$target]: output differs from $target_expected (full output: $out)"
        failed=1
    fi
done
exit "$failed"
