#!/usr/bin/env bash
# apply_test.sh: the mirror's bulk apply (examples/mail_mirror/sql/mirror.sql) on both of its
# paths: a chunk of only new letters above the mirror's highest id (plain INSERT), and every
# other chunk (upsert and delete): letters, folder counters and the JSON entry point
# mail.apply_letter_changes. Each step's result is compared with what it must be.
set -euo pipefail
# shellcheck source=tests/harness/lib.sh
source "$PGQPP_SOURCE_DIR/tests/harness/lib.sh"
pgqpp_load_env
sql_dir="$PGQPP_SOURCE_DIR/examples/mail_mirror/sql"
db=$(pgqpp_db_name mail_apply "$$")
pgqpp_new_db "$db" template0
trap 'pgqpp_drop_db "$db"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

q -f "$sql_dir/mail_schema.sql" >/dev/null 2>&1
q -f "$sql_dir/mirror.sql" >/dev/null
q -c "insert into mail.folders (id, name) values (1, 'inbox'), (2, 'archive')"

# stage OP N ID FOLDER SUBJECT SEEN SIZE ...: then apply the chunk, in the same session.
apply() {
    q -c "select mail.create_letters_stage()" -c "insert into pg_temp.letters_stage
              (op, n, id, folder_id, subject, sender, recipients, sent_at, received_at, seen,
               flagged, answered, labels, size)
          select op, n, id, folder_id, subject, 's@x', '{r@x}', now(), now(), seen,
                 false, false, '{}', size
            from (values $1) v(op, n, id, folder_id, subject, seen, size)" \
        -c "select mail.apply_letters_stage()" \
        -c "select count(*) from pg_temp.letters_stage" >/dev/null
}

# letters as "id:folder:subject:seen:size" and the counters as "folder:total:unread:bytes"
state() {
    q -c "select string_agg(format('%s:%s:%s:%s:%s', id, folder_id, subject, seen, size), ' '
                            order by id) from mail.letters" \
      -c "select string_agg(format('%s:%s:%s:%s', id, total, unread, bytes), ' ' order by id)
            from mail.folders" | paste -sd '|'
}

check() {
    local what="$1" want="$2" got
    got=$(state)
    [[ "$got" == "$want" ]] || fail "$what:
  got  $got
  want $want"
    echo "ok: $what"
}

# 1. new letters, ids above the mirror's highest (none): the plain INSERT; the last change
#    of a letter in the chunk wins
apply "('I'::\"char\", 1, 1::bigint, 1, 'a', false, 10), ('I', 2, 2, 1, 'b', true, 20),
       ('I', 3, 3, 2, 'c', false, 30)"
check "new letters" "1:1:a:f:10 2:1:b:t:20 3:2:c:f:30|1:2:1:30 2:1:1:30"

# 2. an insert of a letter the mirror has (id 2, e.g. replayed) next to a new one: the upsert
apply "('I'::\"char\", 1, 2::bigint, 2, 'b2', false, 25), ('I', 2, 4, 1, 'd', false, 40)"
check "an insert of a letter the mirror has" \
    "1:1:a:f:10 2:2:b2:f:25 3:2:c:f:30 4:1:d:f:40|1:2:2:50 2:2:2:55"

# 3. updates and deletes (a move, a flag, a delete, and a letter inserted then changed in
#    the same chunk)
apply "('U'::\"char\", 1, 1::bigint, 2, 'a', true, 10), ('D', 2, 3, 2, 'c', false, 30),
       ('I', 3, 5, 1, 'e', false, 50), ('U', 4, 5, 1, 'e', true, 50)"
check "updates, deletes, insert-then-update" \
    "1:2:a:t:10 2:2:b2:f:25 4:1:d:f:40 5:1:e:t:50|1:2:1:90 2:2:1:35"

# 4. the same from JSON (mail.apply_letter_changes): new letters, then a delete
q -c "select mail.apply_letter_changes(
        'I{\"id\":6,\"folder_id\":1,\"subject\":\"f\",\"sender\":\"s@x\",\"recipients\":[\"r@x\"],'
        '\"sent_at\":\"2026-01-01T00:00:00+00:00\",\"received_at\":\"2026-01-01T00:00:00+00:00\",'
        '\"seen\":false,\"flagged\":false,\"answered\":false,\"labels\":[\"work\"],\"size\":60}' || E'\n' ||
        'D{\"id\":4,\"folder_id\":1,\"subject\":\"d\",\"sender\":\"s@x\",\"recipients\":[\"r@x\"],'
        '\"sent_at\":\"2026-01-01T00:00:00+00:00\",\"received_at\":\"2026-01-01T00:00:00+00:00\",'
        '\"seen\":false,\"flagged\":false,\"answered\":false,\"labels\":[],\"size\":40}')" >/dev/null
check "JSON changes" "1:2:a:t:10 2:2:b2:f:25 5:1:e:t:50 6:1:f:f:60|1:2:1:110 2:2:1:35"

# 5. the counters agree with the letters
got=$(q -c "select count(*) from mail.folders f left join (
                select folder_id, count(*) as total, count(*) filter (where not seen) as unread,
                       sum(size) as bytes
                  from mail.letters group by folder_id) l on l.folder_id = f.id
              where (f.total, f.unread, f.bytes)
                    is distinct from (coalesce(l.total, 0), coalesce(l.unread, 0), coalesce(l.bytes, 0))")
[[ "$got" == 0 ]] || fail "$got folders' counters differ from their letters"
echo "ok: counters agree with the letters"
echo "1 passed, 0 failed"
