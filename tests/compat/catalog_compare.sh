#!/usr/bin/env bash
# compat.catalog: compares the catalog of schema pgq between the real PgQ (tmpl_pgq) and
# ours (tmpl_ours), one queue created in each so that per-queue objects are compared too.
#
# Each side is dumped by catalog_dump.sql as rows "<kind> <object> | <attribute>=<value>":
# functions (result, argument names and modes, strictness, volatility, security definer,
# set-returning, proconfig, EXECUTE grants), relations (kind, options, inheritance, index
# and sequence definitions, grants), columns (position, type, not null, default),
# constraints, triggers and the schema's grants.
#
# Every PgQ row must be present identically in ours, unless it matches a line of
# catalog_known_differences.txt; every row only in ours must match a line of
# catalog_ours_additions.txt.  Both files: "<pattern> ## <reason>", '*' matches anything,
# '#' starts a comment line.  A line that matches nothing is an error too (stale).
# The dumps are kept in $PGQPP_BUILD_DIR/tests/results/compat.catalog.{pgq,ours}.txt.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../harness/lib.sh
source "$here/../harness/lib.sh"
pgqpp_load_env
unset PGOPTIONS

results_dir=${PGQPP_BUILD_DIR:?run through ctest, or set PGQPP_BUILD_DIR}/tests/results
mkdir -p "$results_dir"

dbs=()
cleanup() {
    local db
    for db in "${dbs[@]}"; do pgqpp_drop_db "$db" || true; done
}
trap cleanup EXIT

for target in pgq ours; do
    db=$(pgqpp_db_name compat.catalog "$target")
    dbs+=("$db")
    pgqpp_new_db "$db" "tmpl_$target"
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "select pgq.create_queue('catalog_q')" >/dev/null
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f "$here/catalog_dump.sql" \
        >"$results_dir/compat.catalog.$target.txt"
done

python3 - "$results_dir/compat.catalog.pgq.txt" "$results_dir/compat.catalog.ours.txt" \
    "$here/catalog_known_differences.txt" "$here/catalog_ours_additions.txt" <<'PY'
import re
import sys
from collections import defaultdict

pgq_file, ours_file, known_file, additions_file = sys.argv[1:5]


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n") for line in f if line.strip()}


def read_patterns(path):
    """Lines '<pattern> ## <reason>'; returns [(pattern, regex, lineno)]."""
    patterns, errors = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            pattern, sep, reason = line.partition(" ## ")
            if not sep or not reason.strip() or not pattern.strip():
                errors.append(f"{path}:{lineno}: expected '<pattern> ## <reason>': {line}")
                continue
            regex = re.compile("^" + ".*".join(map(re.escape, pattern.split("*"))) + "$")
            patterns.append((pattern, regex, lineno))
    return patterns, errors


def split(row):
    obj, _, attr_val = row.partition(" | ")
    attr, _, val = attr_val.partition("=")
    return obj, attr, val


pgq_rows, ours_rows = read_rows(pgq_file), read_rows(ours_file)
known, errors = read_patterns(known_file)
additions, errors2 = read_patterns(additions_file)
errors += errors2
if not pgq_rows or not ours_rows:
    errors.append("empty catalog dump")

used = set()


def allowed(row, patterns, path):
    for pattern, regex, lineno in patterns:
        if regex.match(row):
            used.add((path, lineno))
            return True
    return False


only_pgq = sorted(r for r in pgq_rows - ours_rows if not allowed(r, known, known_file))
only_ours = sorted(r for r in ours_rows - pgq_rows if not allowed(r, additions, additions_file))

stale = [f"{path}:{lineno}: matches nothing, remove it: {pattern}"
         for path, patterns in ((known_file, known), (additions_file, additions))
         for pattern, _, lineno in patterns if (path, lineno) not in used]

# Readable report, grouped by object: changed attributes side by side.
by_obj = defaultdict(lambda: {"pgq": defaultdict(list), "ours": defaultdict(list)})
for side, rows in (("pgq", only_pgq), ("ours", only_ours)):
    for row in rows:
        obj, attr, val = split(row)
        by_obj[obj][side][attr].append(val)

all_pgq_objs = {split(r)[0] for r in pgq_rows}
all_ours_objs = {split(r)[0] for r in ours_rows}
report = []
for obj in sorted(by_obj):
    sides = by_obj[obj]
    if obj not in all_ours_objs:
        report.append(f"  {obj}: in PgQ, missing in pgqpp (not in {known_file.split('/')[-1]})")
        continue
    if obj not in all_pgq_objs:
        report.append(f"  {obj}: only in pgqpp, not listed in {additions_file.split('/')[-1]}")
        continue
    report.append(f"  {obj}:")
    for attr in sorted(set(sides["pgq"]) | set(sides["ours"])):
        p = sides["pgq"].get(attr)
        o = sides["ours"].get(attr)
        report.append(f"      {attr}:")
        report.append(f"          PgQ:    {', '.join(p) if p else '(none)'}")
        report.append(f"          pgqpp:  {', '.join(o) if o else '(none)'}")

ok = not (only_pgq or only_ours or stale or errors)
print(f"compat.catalog: {len(pgq_rows)} PgQ rows, {len(ours_rows)} pgqpp rows")
for e in errors:
    print("ERROR: " + e)
if report:
    print("Catalog differences (see the file headers of tests/compat/*.txt to accept one):")
    print("\n".join(report))
    print("Rows (< PgQ only, > pgqpp only):")
    for r in only_pgq:
        print("  < " + r)
    for r in only_ours:
        print("  > " + r)
for s in stale:
    print("STALE: " + s)
print("ok" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
