-- ----------------------------------------------------------------------
-- Trigger support: what pgq.logutriga(), pgq.sqltriga() and pgq.jsontriga()
-- share.  See docs/change-capture.md.
--
-- How the triggers stay fast without reading the catalogs for every row:
--
--   * Everything a trigger needs about its table and its arguments (queue,
--     flags, column names already encoded for the payload, which columns are
--     the primary key, ignored, magic, their type classes, the rewritten
--     when=/ev_*= expressions) is built ONCE by pgq._trg_cache_build() and
--     kept as a text[] in a session setting (set_config(..., false)) named
--     after the table oid and a hash of the trigger name.  Settings are
--     per session, cost no catalog writes (unlike temp tables or generated
--     functions, which also forbid PREPARE TRANSACTION), and roll back with
--     the transaction that set them.
--   * The entry is checked against the table only when DDL ran anywhere in
--     the database since the last check: the event trigger pgq_trigger_cache
--     counts DDL in the sequence pgq._trg_ddl_seq (below), and reading it is
--     nearly free.  The check itself is the "stamp" (pgq._trg_stamp): xmin
--     and ctid of the table's pg_attribute rows, its replica identity index
--     (the primary key), and pg_class/pg_index where that is not enough.
--     Without the event trigger, the stamp is checked on every row.  The
--     trigger's name and arguments are part of the entry, so a re-created
--     trigger is noticed.
--   * Column values come from the row's text form (NEW::text, one C call):
--     record_out writes every column with its type's output function, the
--     same text the C triggers put in the payload.  The INSERT fast paths
--     (pgq._trg_logu_data, pgq._trg_json_data) encode a whole row with a few
--     string functions; everything else takes the row apart value by value
--     (pgq._trg_split) in pgq._trg_event.
--   * PL/pgSQL prepares each expression it evaluates anew in every
--     transaction, so for the usual one-row transactions the fast paths are
--     a few big expressions (SQL functions the planner inlines) rather than
--     many small steps.
-- ----------------------------------------------------------------------

-- ----------------------------------------------------------------------
-- Function: pgq._urlencode(1)
--
--      URL-encodes a text as PgQ's triggers do: [0-9A-Za-z_.-] stay, space
--      becomes '+', every other byte (of the database encoding) '%xx' with
--      lowercase hex digits.
-- ----------------------------------------------------------------------
create or replace function pgq._urlencode(val text)
returns text as $$
declare
    res     text;
    rest    text;
    c       text;
begin
    if val !~ '[^0-9A-Za-z_.-]' then
        return val;
    end if;
    -- '%' first (the others produce '%'), then the usual suspects
    -- (\x01-\x03 are the separators of pgq._trg_wrap()), ' ' last
    res := pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(
               val, '%', '%25'), E'\x01', '%01'), E'\x02', '%02'), E'\x03', '%03'),
               ':', '%3a'), '+', '%2b'), '/', '%2f'), ',', '%2c'), '&', '%26'), '=', '%3d'),
               '''', '%27'), '"', '%22'), '(', '%28'), ')', '%29');
    if res ~ '[^0-9A-Za-z_.% -]' then
        -- anything else, one distinct character at a time
        rest := pg_catalog.regexp_replace(res, '[0-9A-Za-z_.% -]+', '', 'g');
        while rest <> '' loop
            c := pg_catalog.left(rest, 1);
            rest := pg_catalog.replace(rest, c, '');
            if pg_catalog.ascii(c) < 128 then
                res := pg_catalog.replace(res, c, '%' || pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.ascii(c)), 2, '0'));
            else
                res := pg_catalog.replace(res, c, pg_catalog.regexp_replace(
                           pg_catalog.encode(pg_catalog.convert_to(c, pg_catalog.getdatabaseencoding()), 'hex'),
                           '(..)', '%\1', 'g'));
            end if;
        end loop;
    end if;
    return pg_catalog.replace(res, ' ', '+');
end;
$$ language plpgsql strict immutable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_wrap(1)
--
--      The fast form of a row's values: the text form '(v1,"v 2",,...)'
--      rewritten with a few C string functions into fields separated by
--      \x01, each non-NULL value (unquoted) wrapped in \x02 .. \x03, a NULL
--      empty.  A whole row can then be encoded with one call.
--
-- Returns:
--      NULL when the fast form does not apply: a quoted value contains a
--      comma, or the row contains \x01-\x03; the callers then take the
--      values one by one.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_wrap(rowtext text)
returns text as $$
declare
    t   text := pg_catalog.substr(rowtext, 2, pg_catalog.length(rowtext) - 2);
    w   text;
begin
    if t ~ '[\x01-\x03]' then
        return null;
    end if;
    w := pg_catalog.replace(E'\x02' || pg_catalog.replace(t, ',', E'\x03\x01\x02') || E'\x03',
                            E'\x02\x03', '');
    if pg_catalog.strpos(t, '"') = 0 then
        return w;
    end if;
    -- a comma inside a quoted value: the split above was wrong
    if t ~ '(?:^|,)"(?:[^"]|"")*,' then
        return null;
    end if;
    return pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
               w, E'\x02"', E'\x02'), E'"\x03', E'\x03'), '""', '"'), '\\', '\');
end;
$$ language plpgsql strict immutable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_split(1)
--
--      Splits the text form of a row, '(v1,"v 2",,...)', into the column
--      values: unquoted as record_out quoted them ("" and \\ inside quotes),
--      an empty unquoted field is NULL.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_split(rowtext text)
returns text[] as $$
declare
    t       text;
    parts   text[];
    res     text[] := '{}';
    p       text;
    i       integer := 1;
    n       integer;
begin
    t := pg_catalog.substr(rowtext, 2, pg_catalog.length(rowtext) - 2);
    if pg_catalog.strpos(t, '"') = 0 then
        return pg_catalog.array_replace(pg_catalog.string_to_array(t, ','), '', null);
    end if;
    parts := pg_catalog.string_to_array(t, ',');
    n := pg_catalog.array_length(parts, 1);
    while i <= n loop
        p := parts[i];
        if p = '' then
            res := res || null::text;
        elsif pg_catalog.left(p, 1) <> '"' then
            res := res || p;
        else
            -- inside quotes every '"' is doubled: a complete field has an
            -- even number of them, a field cut at a comma an odd one
            while (pg_catalog.length(p) - pg_catalog.length(pg_catalog.replace(p, '"', ''))) % 2 = 1 loop
                i := i + 1;
                p := p || ',' || parts[i];
            end loop;
            p := pg_catalog.substr(p, 2, pg_catalog.length(p) - 2);
            if pg_catalog.strpos(p, '"') > 0 then
                p := pg_catalog.replace(p, '""', '"');
            end if;
            if pg_catalog.strpos(p, '\') > 0 then
                p := pg_catalog.replace(p, '\\', '\');
            end if;
            res := res || p;
        end if;
        i := i + 1;
    end loop;
    return res;
end;
$$ language plpgsql strict immutable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_stamp(2)
--
--      The version stamp of a table's definition, as far as the triggers
--      care; the cache entry is rebuilt when it changes.
--
--      Always: xmin:ctid of the table's pg_attribute rows (every ALTER
--      TABLE that adds, drops, renames or retypes a column writes one; ctid
--      changes even within the transaction that wrote the row), and the
--      replica identity index (the primary key, with the default replica
--      identity; from the relation cache, nearly free).
--      i_mode 'd' (default identity, primary key): nothing else.
--      i_mode 'n' (default identity, no primary key): also pg_class.xmin,
--          which changes with REPLICA IDENTITY (after which the replica
--          identity index would no longer show a new primary key).
--      i_mode 'r' (other replica identity): also the pg_index row of the
--          primary key.
--      The triggers compute the 'd' part inline, with the same text.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_stamp(i_relid oid, i_mode text)
returns text as $$
    select (select pg_catalog.string_agg(a.xmin::text || ':' || a.ctid::text, ',')
              from pg_catalog.pg_attribute a
             where a.attrelid = i_relid and a.attnum > 0)
           || '/' || coalesce(pg_catalog.pg_get_replica_identity_index(i_relid)::text, '-')
           || case i_mode
              when 'n' then '/' || (select c.xmin::text from pg_catalog.pg_class c where c.oid = i_relid)
              when 'r' then '/' || coalesce((select pg_catalog.string_agg(x.indexrelid::text || ':'
                                                 || x.xmin::text || ':' || x.ctid::text, ',')
                                               from pg_catalog.pg_index x
                                              where x.indrelid = i_relid and x.indisprimary), '-')
              else '' end;
$$ language sql stable;

-- ----------------------------------------------------------------------
-- Sequence: pgq._trg_ddl_seq, event trigger pgq_trigger_cache
--
--      A database-wide DDL counter: the event trigger pgq_trigger_cache
--      bumps it at the end of every DDL command (in any session, even one
--      that is rolled back later).  A trigger's cache entry remembers the
--      counter at which it last checked the stamp; while the counter has not
--      moved no DDL has run since, and the trigger does not look at the
--      catalogs at all (pg_sequence_last_value() is a few hundred ns).
--      The check is safe because a table cannot change while a trigger on
--      it runs: DDL holds a lock that conflicts with the DML, so a trigger
--      that sees the new counter also sees the committed change.
--      Without the event trigger (not allowed to create it: a non-superuser
--      install), the triggers check the stamp on every row.
--      The same event trigger regenerates pgq.insert_event(3) when a user
--      replaces pgq.insert_event(7) (see pgq.insert_event_raw.sql); without it,
--      that happens at the next create_queue/drop_queue.
-- ----------------------------------------------------------------------
create sequence if not exists pgq._trg_ddl_seq;

create or replace function pgq._trg_ddl_event()
returns event_trigger as $$
begin
    perform pg_catalog.nextval('pgq._trg_ddl_seq');
    -- A user's own pgq.insert_event(7): the generated insert_event(3) becomes a
    -- wrapper calling it at once (see pgq.insert_event_raw.sql).
    if tg_tag = 'CREATE FUNCTION' and exists (
            select 1
              from pg_catalog.pg_event_trigger_ddl_commands() c
              join pg_catalog.pg_proc p on p.oid = c.objid
             where c.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
               and p.oid = pg_catalog.to_regprocedure(
                               'pgq.insert_event(text, text, text, text, text, text, text)')
               and p.prosrc not like '%-- pgqpp:generated%') then
        perform pgq._refresh_insert_dispatch();
    end if;
exception when others then
    -- never make DDL fail; the triggers then notice the change late only
    -- if this keeps failing
    raise warning 'pgq: could not record DDL for the trigger cache: %', sqlerrm;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

do $$
begin
    if not exists (select 1 from pg_catalog.pg_event_trigger where evtname = 'pgq_trigger_cache') then
        create event trigger pgq_trigger_cache on ddl_command_end
            execute function pgq._trg_ddl_event();
    end if;
    alter event trigger pgq_trigger_cache enable always;
exception when insufficient_privilege then
    raise notice 'pgq: not allowed to create the event trigger pgq_trigger_cache; the change-capture triggers will check the table definition on every row';
end;
$$;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_qb_rewrite(2)
--
--      Rewrites a when=/ev_*= expression as PgQ's query builder does: an
--      unquoted identifier that is exactly (case-sensitively) a column name,
--      and is not qualified, becomes a reference to that column of the row
--      ($1 = NEW, or OLD for DELETE).  String literals (also E'' and
--      dollar-quoted), comments and qualified names are left alone; a
--      double-quoted identifier is an error, as in PgQ.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_qb_rewrite(expr text, colnames text[])
returns text as $$
declare
    res     text := '';
    n       integer := pg_catalog.length(expr);
    i       integer := 1;
    j       integer;
    c       text;
    tok     text;
    tag     text;
    prev    text := '';
begin
    while i <= n loop
        c := pg_catalog.substr(expr, i, 1);
        if c = '''' or (c in ('E', 'e') and pg_catalog.substr(expr, i + 1, 1) = ''''
                        and prev !~ '[A-Za-z0-9_$]') then
            -- string literal, E'' allows backslash escapes
            j := i + case when c = '''' then 1 else 2 end;
            loop
                exit when j > n;
                if pg_catalog.substr(expr, j, 1) = '\' and c <> '''' then
                    j := j + 2;
                elsif pg_catalog.substr(expr, j, 1) = '''' then
                    if pg_catalog.substr(expr, j + 1, 1) = '''' then
                        j := j + 2;
                    else
                        exit;
                    end if;
                else
                    j := j + 1;
                end if;
            end loop;
            if j > n then
                raise exception 'QB: syntax error';
            end if;
            res := res || pg_catalog.substr(expr, i, j - i + 1);
            i := j + 1;
            prev := '''';
        elsif c = '"' then
            raise exception 'QB: syntax error';
        elsif c = '-' and pg_catalog.substr(expr, i + 1, 1) = '-' then
            j := pg_catalog.strpos(pg_catalog.substr(expr, i), E'\n');
            if j = 0 then
                res := res || pg_catalog.substr(expr, i);
                i := n + 1;
            else
                res := res || pg_catalog.substr(expr, i, j);
                i := i + j;
            end if;
        elsif c = '/' and pg_catalog.substr(expr, i + 1, 1) = '*' then
            j := pg_catalog.strpos(pg_catalog.substr(expr, i + 2), '*/');
            if j = 0 then
                raise exception 'QB: syntax error';
            end if;
            res := res || pg_catalog.substr(expr, i, j + 3);
            i := i + j + 3;
        elsif c = '$' and pg_catalog.substr(expr, i) ~ '^\$([A-Za-z_][A-Za-z0-9_]*)?\$' then
            tag := pg_catalog.substring(pg_catalog.substr(expr, i), '^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$');
            j := pg_catalog.strpos(pg_catalog.substr(expr, i + pg_catalog.length(tag)), tag);
            if j = 0 then
                raise exception 'QB: syntax error';
            end if;
            res := res || pg_catalog.substr(expr, i, pg_catalog.length(tag) * 2 + j - 1);
            i := i + pg_catalog.length(tag) * 2 + j - 1;
            prev := '$';
        elsif c ~ '[A-Za-z_]' then
            tok := pg_catalog.substring(pg_catalog.substr(expr, i), '^[A-Za-z_][A-Za-z0-9_$]*');
            j := i + pg_catalog.length(tok);
            if tok = any (colnames) and prev <> '.'
               and pg_catalog.substr(expr, j) !~ '^\s*\.' then
                res := res || '$1.' || pg_catalog.quote_ident(tok);
            else
                res := res || tok;
            end if;
            i := j;
            prev := 'a';
        else
            res := res || c;
            if c !~ '\s' then
                prev := c;
            end if;
            i := i + 1;
        end if;
    end loop;
    return res;
end;
$$ language plpgsql immutable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_cache_build(5)
--
--      Parses a trigger's arguments and reads its table's definition; the
--      result is what the trigger keeps in its session cache entry.
--
-- Parameters:
--      i_kind      - 'l' logutriga, 's' sqltriga, 'j' jsontriga
--      i_relid     - the table
--      i_sig       - the trigger's name and arguments (cache key check)
--      i_args      - TG_ARGV
--      i_truncate  - true for a TRUNCATE trigger
--
-- Returns:
--      text[]: c[1] .. c[32] fixed (see the end of the function), then
--      three arrays of n elements: names, payload prefixes, modes
--
-- Errors:
--      'pgq trigger must have destination queue as argument',
--      'bad param to pgq trigger', and for TRUNCATE triggers
--      'Custom expressions do not make sense for truncater trigger',
--      'Column ignore does not make sense for truncate trigger',
--      'Custom pkey_list does not make sense for truncate trigger',
--      'Backup does not make sense for truncate trigger'
-- ----------------------------------------------------------------------
create or replace function pgq._trg_cache_build(
    i_kind char, i_relid oid, i_sig text, i_args text[], i_truncate boolean)
returns text[] as $$
declare
    nargs       integer := coalesce(pg_catalog.array_length(i_args, 1), 0);
    arg         text;
    flags       text := '';
    ignore_list text[] := '{}';
    pkey_list   text[];
    exprs       text[] := array[null, null, null, null, null, null, null]::text[];
    -- exprs: 1 when, 2 ev_type, 3 ev_data, 4..7 ev_extra1..4
    fld         text;
    k           integer;
    names       text[] := '{}';
    prefixes    text[] := '{}';
    modes       text[] := '{}';
    magic       text[] := array['', '', '', '', '', '']::text[];
    pk_names    text[] := '{}';
    col         record;
    n           integer := 0;
    first       boolean := true;
    m_out       text;
    m_pk        text;
    m_cmp       text;
    m_json      text;
    m_rtj       text;
    pkey_txt    text;
    eq_sql      text := '';
    fmt         text;
    smode       text;
    when_type   oid;
    res         text[];
begin
    if nargs < 1 then
        raise exception 'pgq trigger must have destination queue as argument';
    end if;

    -- TG_ARGV counts from 0
    for k in pg_catalog.array_lower(i_args, 1) + 1 .. pg_catalog.array_upper(i_args, 1) loop
        arg := i_args[k];
        if arg = 'SKIP' then
            flags := flags || 'S';
        elsif arg = 'backup' then
            flags := flags || 'B';
        elsif arg = 'deny' then
            flags := flags || 'D';
        elsif pg_catalog.left(arg, 7) = 'ignore=' then
            select pg_catalog.array_agg(pg_catalog.btrim(x)) into ignore_list
              from pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.substr(arg, 8), ',')) x;
            flags := flags || 'I';
        elsif pg_catalog.left(arg, 5) = 'pkey=' then
            select pg_catalog.array_agg(pg_catalog.btrim(x)) into pkey_list
              from pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.substr(arg, 6), ',')) x;
            flags := flags || 'P';
        elsif arg ~ '^(when|ev_type|ev_data|ev_extra[1-4])=' then
            fld := pg_catalog.split_part(arg, '=', 1);
            k := case fld when 'when' then 1 when 'ev_type' then 2 when 'ev_data' then 3
                          else 3 + pg_catalog.right(fld, 1)::integer end;
            if exprs[k] is null then
                exprs[k] := pg_catalog.substr(arg, pg_catalog.length(fld) + 2);
            end if;
            flags := flags || case when k = 1 then 'W' else 'E' end;
        else
            raise exception 'bad param to pgq trigger';
        end if;
    end loop;

    if i_truncate then
        if pg_catalog.strpos(flags, 'W') > 0 or pg_catalog.strpos(flags, 'E') > 0 then
            raise exception 'Custom expressions do not make sense for truncater trigger';
        elsif pg_catalog.strpos(flags, 'I') > 0 then
            raise exception 'Column ignore does not make sense for truncate trigger';
        elsif pg_catalog.strpos(flags, 'P') > 0 then
            raise exception 'Custom pkey_list does not make sense for truncate trigger';
        elsif pg_catalog.strpos(flags, 'B') > 0 then
            raise exception 'Backup does not make sense for truncate trigger';
        end if;
    end if;

    -- the columns, in the order of the row's text form
    for col in
        select a.attnum, a.attname::text as name, a.atttypid,
               coalesce(nullif(t.typbasetype, 0), a.atttypid) as basetype,
               bt.typcategory, bt.typelem, bt.typtype,
               coalesce(cl.collisdeterministic, true) as determ,
               exists (select 1 from pg_catalog.pg_index i
                        where i.indrelid = a.attrelid and i.indisprimary
                          and a.attnum = any (i.indkey::int2[])) as is_pk,
               exists (select 1 from pg_catalog.pg_opclass oc
                        where oc.opcdefault and oc.opcmethod in (403, 405)
                          and oc.opcintype in (coalesce(nullif(t.typbasetype, 0), a.atttypid),
                                               case bt.typtype when 'c' then 'record'::regtype
                                                               when 'r' then 'anyrange'::regtype
                                                               when 'm' then 'anymultirange'::regtype
                                                               when 'e' then 'anyenum'::regtype
                                                               else 0 end,
                                               case when bt.typcategory = 'S' then 'text'::regtype
                                                    else 0 end)) as has_eq
          from pg_catalog.pg_attribute a
          join pg_catalog.pg_type t on t.oid = a.atttypid
          join pg_catalog.pg_type bt on bt.oid = coalesce(nullif(t.typbasetype, 0), a.atttypid)
          left join pg_catalog.pg_collation cl on cl.oid = a.attcollation
         where a.attrelid = i_relid and a.attnum > 0 and not a.attisdropped
         order by a.attnum
    loop
        n := n + 1;
        names := names || col.name;
        m_pk := case when pkey_list is not null then
                          case when col.name = any (pkey_list) then 'p' else '-' end
                     when col.is_pk then 'p' else '-' end;
        if m_pk = 'p' then
            pk_names := pk_names || col.name;
        end if;

        -- payload class: x = left out, s = never needs encoding,
        -- f = float (only '+'), t = date/time text, u = anything
        if col.name in ('_pgq_ev_type', '_pgq_ev_data', '_pgq_ev_extra1', '_pgq_ev_extra2',
                        '_pgq_ev_extra3', '_pgq_ev_extra4') then
            k := case col.name when '_pgq_ev_type' then 1 when '_pgq_ev_data' then 2
                               else 2 + pg_catalog.right(col.name, 1)::integer end;
            if magic[k] = '' then
                magic[k] := n::text;
            end if;
            m_out := 'x';
        elsif col.name = any (ignore_list) then
            m_out := 'x';
        elsif col.basetype in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'oid'::regtype,
                               'bool'::regtype, 'numeric'::regtype, 'uuid'::regtype) then
            m_out := 's';
        elsif col.basetype in ('float4'::regtype, 'float8'::regtype) then
            m_out := 'f';
        elsif col.basetype in ('date'::regtype, 'time'::regtype, 'timetz'::regtype,
                               'timestamp'::regtype, 'timestamptz'::regtype, 'interval'::regtype) then
            m_out := 't';
        else
            m_out := 'u';
        end if;

        -- how "changed" is decided on UPDATE: as the C triggers do, with the
        -- type's default equality, except arrays and types without one
        -- (compared as they are, i.e. by their text here)
        m_cmp := case
            when col.typelem <> 0 and col.typcategory = 'A' then 'T'
            when not coalesce(col.has_eq, false) then 'T'
            when col.basetype in ('numeric'::regtype) then 'N'
            when col.basetype in ('float4'::regtype, 'float8'::regtype) then 'F'
            when col.basetype = 'interval'::regtype then 'V'
            when col.basetype = 'jsonb'::regtype then 'J'
            when col.basetype = 'bpchar'::regtype then 'B'
            when col.basetype in ('text'::regtype, 'varchar'::regtype, 'name'::regtype)
                 and not col.determ then 'X'
            when col.basetype in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                                  'oid'::regtype, 'bool'::regtype, 'text'::regtype,
                                  'varchar'::regtype, 'name'::regtype, 'char'::regtype,
                                  'uuid'::regtype, 'bytea'::regtype, 'date'::regtype,
                                  'time'::regtype, 'timetz'::regtype, 'timestamp'::regtype,
                                  'timestamptz'::regtype, 'inet'::regtype, 'cidr'::regtype,
                                  'macaddr'::regtype, 'macaddr8'::regtype, 'money'::regtype,
                                  'xid8'::regtype, 'pg_lsn'::regtype, 'bit'::regtype,
                                  'varbit'::regtype, 'tsvector'::regtype, 'oidvector'::regtype,
                                  'int2vector'::regtype, 'regclass'::regtype,
                                  'regproc'::regtype, 'regtype'::regtype) then 'T'
            when col.typtype = 'e' then 'T'
            else 'X' end;
        if m_cmp = 'X' then
            eq_sql := eq_sql || case when eq_sql = '' then '' else ', ' end
                || '$1.' || pg_catalog.quote_ident(col.name) || ' is distinct from $2.'
                || pg_catalog.quote_ident(col.name);
        end if;

        -- jsontriga value class: n = number (text form), b = bool,
        -- d = date/time as ISO (taken from row_to_json), s = string
        m_json := case
            when col.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) then 'n'
            when col.atttypid = 'bool'::regtype then 'b'
            when col.atttypid in ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) then 'd'
            else 's' end;

        if m_out = 'x' then
            prefixes := prefixes || ''::text;
        elsif i_kind = 'l' then
            prefixes := prefixes || (case when first then '' else '&' end || pgq._urlencode(col.name));
            first := false;
        elsif i_kind = 'j' then
            prefixes := prefixes || (case when first then '' else ',' end || pg_catalog.to_json(col.name)::text || ':');
            first := false;
        else
            prefixes := prefixes || pg_catalog.quote_ident(col.name);
            first := false;
        end if;
        -- row_to_json against PgQ's JSON: the same ('-'), a number to quote
        -- ('q'), or different ('r': the fast path cannot be used)
        m_rtj := case
            when col.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'bool'::regtype,
                                  'date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) then '-'
            when col.basetype in ('numeric'::regtype, 'float4'::regtype, 'float8'::regtype) then 'q'
            when col.basetype in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'bool'::regtype,
                                  'date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype,
                                  'json'::regtype, 'jsonb'::regtype) then 'r'
            when col.typcategory = 'A' or col.typtype = 'c' then 'r'
            when exists (select 1 from pg_catalog.pg_cast pc
                          where pc.castsource = col.basetype
                            and pc.casttarget in ('json'::regtype, 'jsonb'::regtype)) then 'r'
            else '-' end;
        modes := modes || (m_out || m_pk || m_cmp || m_json
                           || case when col.name like '\_pgq\_ev\_%' and m_out = 'x'
                                        and not col.name = any (ignore_list) then 'g' else '-' end
                           || m_rtj);
        if m_json = 'd' and m_out <> 'x' then
            flags := flags || 'J';
        end if;
    end loop;

    -- expressions, rewritten to read the row
    for k in 1 .. 7 loop
        if exprs[k] is not null then
            exprs[k] := 'select ' || pgq._trg_qb_rewrite(exprs[k], names);
        end if;
    end loop;
    -- the type of when=, found once without running it (errors are left
    -- for the trigger to raise, with PgQ's positions)
    if exprs[1] is not null then
        begin
            -- an aggregate over no rows: typed, but nothing evaluated
            execute 'select pg_catalog.pg_typeof((pg_catalog.array_agg(x))[1])::oid from ('
                    || pg_catalog.replace(exprs[1], '$1.', '(null::' || i_relid::regclass::text || ').')
                    || E'\n where false) s(x)'
               into when_type;
        exception when others then
            when_type := null;
        end;
    end if;
    if magic <> array['', '', '', '', '', '']::text[] then
        flags := flags || 'M';
    end if;
    if eq_sql <> '' then
        eq_sql := 'select array[' || eq_sql || ']';
    else
        eq_sql := null;
    end if;

    if pkey_list is not null then
        -- as given, also names that are no column (PgQ does the same)
        pk_names := pkey_list;
    else
        -- the primary key's columns in index order
        select coalesce(pg_catalog.array_agg(a.attname::text order by k.ord), '{}')
          into pk_names
          from pg_catalog.pg_index i
         cross join lateral pg_catalog.unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
          join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
         where i.indrelid = i_relid and i.indisprimary;
    end if;
    if i_kind = 'j' then
        pkey_txt := pg_catalog.to_json(pk_names)::text;
    else
        pkey_txt := pg_catalog.array_to_string(pk_names, ',');
    end if;

    -- which extra stamp the table needs (see pgq._trg_stamp)
    if pkey_list is not null then
        smode := 'd';
    else
        select case when c.relreplident <> 'd' then 'r'
                    when pg_catalog.array_length(pk_names, 1) is null then 'n'
                    else 'd' end
          into smode
          from pg_catalog.pg_class c where c.oid = i_relid;
    end if;

    -- the payload as a format() string over the values of pgq._trg_wrap():
    -- logutriga: name%k$s ('=value' or '' for NULL);
    -- jsontriga: "name":%k$s with k chosen by type: quoted string (k),
    -- number (n+k), bool (2n+k), ISO date/time (3n+k)
    fmt := '';
    for k in 1 .. n loop
        m_out := pg_catalog.left(modes[k], 1);
        continue when m_out = 'x';
        if i_kind = 'l' then
            fmt := fmt || case when fmt = '' then '' else '&' end
                   || pg_catalog.replace(pgq._urlencode(names[k]), '%', '%%') || '%' || k || '$s';
        elsif i_kind = 'j' then
            -- over the values of row_to_json (see pgq._trg_json_data); numbers
            -- other than int2/4/8 are strings in PgQ's JSON
            fmt := fmt || case when fmt = '' then '' else ',' end
                   || pg_catalog.replace(pg_catalog.to_json(names[k])::text, '%', '%%')
                   || case when pg_catalog.substr(modes[k], 6, 1) = 'q' then ':"%' || 2 * k || '$s"'
                           else ':%' || 2 * k || '$s' end;
        end if;
    end loop;
    if i_kind = 'j' then
        fmt := '{' || fmt || '}';
        -- the fast path needs row_to_json to write every value as PgQ does
        -- (or as a number to be quoted), and keys it can split at
        if pg_catalog.strpos(pg_catalog.array_to_string(modes, ''), 'r') > 0
           or pg_catalog.array_to_string(names, '') ~ '["\\]' then
            flags := flags || 'j';
        elsif pg_catalog.strpos(pg_catalog.array_to_string(modes, ''), 'q') > 0 then
            flags := flags || 'q';
        end if;
    end if;

    res := array[i_sig, null, i_args[pg_catalog.array_lower(i_args, 1)], flags, n::text, pkey_txt,
                 fmt, i_kind::text, smode,
                 case when flags ~ '[SDWEMj]' then '-' else 'F' end,
                 exprs[1], exprs[2], exprs[3], exprs[4], exprs[5], exprs[6], exprs[7],
                 magic[1], magic[2], magic[3], magic[4], magic[5], magic[6],
                 eq_sql, when_type::text, null, null, null, null, null];
    res := res[1:10] || array[null, null]::text[] || res[11:30];
    -- 1..10 hot: sig, stamp, queue, flags, n, pkey, fmt, kind, stamp mode,
    --       F when an INSERT can take the fast path
    -- 11 DDL counter when the stamp was checked, 12 'e' with the event trigger
    -- 13 when, 14 ev_type, 15 ev_data, 16..19 ev_extra1..4 (SQL)
    -- 20..25 magic column positions, 26 eq_sql, 27 type of when=,
    -- 33.. names, prefixes, modes
    return res || names || prefixes || modes;
end;
$$ language plpgsql;


-- ----------------------------------------------------------------------
-- Function: pgq._trg_refresh(6)
--
--      Builds a trigger's cache entry and stores it in the session: the
--      whole description under 'pgq.trgx_<...>', its first twelve elements
--      and the table's names (all that an INSERT needs) under i_key.
--
-- Returns:
--      the hot part (14 elements)
-- ----------------------------------------------------------------------
create or replace function pgq._trg_refresh(
    i_kind char, i_relid oid, i_sig text, i_key text, i_args text[], i_truncate boolean,
    i_schema text, i_table text)
returns text[] as $$
declare
    c   text[];
begin
    c := pgq._trg_cache_build(i_kind, i_relid, i_sig, i_args, i_truncate);
    c[11] := coalesce(pg_catalog.pg_sequence_last_value('pgq._trg_ddl_seq'::regclass), 0)::text;
    c[2] := pgq._trg_stamp(i_relid, c[9]);
    c[12] := case when exists (select 1 from pg_catalog.pg_event_trigger
                                where evtname = 'pgq_trigger_cache' and evtenabled = 'A')
                  then 'e' else 's' end;
    perform pg_catalog.set_config(pg_catalog.replace(i_key, 'pgq.trg_', 'pgq.trgx_'), c::text, false);
    c := c[1:12] || pgq._trg_names(i_schema, i_table, c[6]);
    perform pg_catalog.set_config(i_key, c::text, false);
    return c;
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_entry(10)
--
--      What the three triggers do before an event when their fast path does
--      not apply: the session_replication_role and FOR EACH ROW checks, the
--      cache entry i_key of this trigger (rebuilt when the trigger or the
--      table changed; the table is looked at only when DDL ran since the last
--      look), the SKIP and deny checks.
--
-- Parameters:
--      i_kind  - 'l' logutriga, 'j' jsontriga, 's' sqltriga
--      i_key   - the entry's setting, 'pgq.trg_<relid>_<hash of the name>'
--      the rest: the trigger's TG_ variables
--
-- Returns:
--      the hot part of the entry (see pgq._trg_refresh); NULL when the
--      session's role is 'local' (the triggers then let the row through)
-- ----------------------------------------------------------------------
create or replace function pgq._trg_entry(
    i_kind char, i_key text, i_relid oid, i_name text, i_args text[], i_op text,
    i_level text, i_when text, i_schema text, i_table text)
returns text[] as $$
declare
    c       text[];
    sig     text;
    gen     text;
begin
    if pg_catalog.current_setting('session_replication_role') = 'local' then
        return null;
    end if;
    if i_level <> 'ROW' and i_op <> 'TRUNCATE' then
        raise exception 'pgq Ins/Upd/Del trigger must be fired FOR EACH ROW';
    end if;

    sig := i_name || E'\x01' || coalesce(pg_catalog.array_to_string(i_args, E'\x01'), '');
    c := nullif(pg_catalog.current_setting(i_key, true), '')::text[];
    gen := coalesce(pg_catalog.pg_sequence_last_value('pgq._trg_ddl_seq'::regclass), 0)::text;
    if c is null or c[1] <> sig or c[8] <> i_kind then
        c := pgq._trg_refresh(i_kind, i_relid, sig, i_key, i_args, i_op = 'TRUNCATE',
                              i_schema, i_table);
    elsif c[11] <> gen or c[12] <> 'e' then
        if c[2] <> pgq._trg_stamp(i_relid, c[9]) then
            c := pgq._trg_refresh(i_kind, i_relid, sig, i_key, i_args, i_op = 'TRUNCATE',
                                  i_schema, i_table);
        elsif c[11] <> gen then     -- DDL, not on this table: a rename may have changed the names
            c := c[1:10] || array[gen, c[12]] || pgq._trg_names(i_schema, i_table, c[6]);
            perform pg_catalog.set_config(i_key, c::text, false);
        end if;
    end if;

    if pg_catalog.strpos(c[4], 'S') > 0 and i_when = 'AFTER' then
        raise exception 'SKIP does not work in AFTER trigger.';
    end if;
    if pg_catalog.strpos(c[4], 'D') > 0 then
        raise exception 'Table ''%.%'' to queue ''%'': change not allowed (%)',
            i_schema, i_table, c[3], i_op;
    end if;
    return c;
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_names(3)
--
--      The table's names as the events carry them, for the hot part of a
--      cache entry (refreshed whenever DDL ran: renames are DDL):
--      'schema.table' and the tail of jsontriga's ev_type.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_names(i_schema text, i_table text, i_pkey text)
returns text[] as $$
    select array[i_schema || '.' || i_table,
                 '","table":' || pg_catalog.to_json(array[i_schema, i_table])::text
                 || ',"pkey":' || i_pkey || '}'];
$$ language sql immutable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_urlenc_row(3)
--
--      The logutriga payload of one row from its values one by one (the
--      slow path, when pgq._trg_wrap() does not apply): 'col=val&col2&...'.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_urlenc_row(vals text[], c text[], n integer)
returns text as $$
declare
    res     text := '';
    sep     text := '';
    i       integer;
begin
    for i in 1 .. n loop
        continue when pg_catalog.left(c[32 + 2 * n + i], 1) = 'x';
        res := res || sep || pgq._urlencode(c[32 + i]);
        if vals[i] is not null then
            res := res || '=' || pgq._urlencode(vals[i]);
        end if;
        sep := '&';
    end loop;
    return res;
end;
$$ language plpgsql immutable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_json_row(4)
--
--      The jsontriga payload of one row from its values one by one: a
--      JSON object in column order.  int2/int4/int8 as numbers, bool as
--      true/false, date/timestamp/timestamptz as ISO strings (taken from
--      row_to_json), NULL as null, every other value as a JSON string of its
--      text form.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_json_row(vals text[], c text[], n integer, js json)
returns text as $$
declare
    res     text := '{';
    sep     text := '';
    j       text;
    v       text;
    i       integer;
begin
    for i in 1 .. n loop
        continue when pg_catalog.left(c[32 + 2 * n + i], 1) = 'x';
        j := pg_catalog.substr(c[32 + 2 * n + i], 4, 1);
        v := vals[i];
        res := res || c[32 + n + i];    -- ',"name":'
        if v is null then
            res := res || 'null';
        elsif j = 'n' then
            res := res || v;
        elsif j = 'b' then
            res := res || case v when 't' then 'true' else 'false' end;
        elsif j = 'd' then
            res := res || (js -> c[32 + i])::text;
        else
            res := res || pg_catalog.to_json(v)::text;
        end if;
    end loop;
    return res || '}';
end;
$$ language plpgsql immutable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_fast(4)
--
--      The logutriga payload of one row through pgq._trg_wrap(): one
--      encoding call for the whole row, then format() with the cached format
--      string.  Used for rows the inlined fast path (pgq._trg_logu_data)
--      leaves alone: other characters, commas inside values.
--
-- Returns:
--      the payload, or NULL when pgq._trg_wrap() does not apply
-- ----------------------------------------------------------------------
create or replace function pgq._trg_fast(i_kind char, i_fmt text, i_rowtext text, i_js json)
returns text as $$
declare
    w       text;
begin
    w := pgq._trg_wrap(i_rowtext);
    if w is null or i_kind <> 'l' then
        return null;
    end if;
    return pg_catalog.format(i_fmt, variadic pg_catalog.string_to_array(pg_catalog.replace(
               pg_catalog.replace(pgq._urlencode(w), '%02', '='), '%03', ''), '%01'));
end;
$$ language plpgsql immutable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_event(9)
--
--      The complete path of the three triggers for one row, used when the
--      fast one does not apply (UPDATE, expressions, magic columns, ...):
--      the values one by one, change detection, payload, and the
--      pgq.insert_event() call (by name: overriding it changes them all).
--      The caller has done the checks and refreshed the cache entry i_key.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_event(
    i_kind char, i_op text, i_key text, i_schema text, i_table text,
    i_new record, i_old record, i_fast_data text, i_fast_old text)
returns void as $$
declare
    c           text[];
    n           integer;
    flags       text;
    vals        text[];
    ovals       text[];
    chg         boolean[];
    xchg        boolean[];
    xi          integer := 0;
    m           text;
    i           integer;
    nv          text;
    ov          text;
    any_ign     boolean := false;
    any_other   boolean := false;
    ev_type     text;
    ev_data     text;
    ev_extra1   text;
    ev_extra2   text;
    ev_extra3   text;
    ev_extra4   text;
    ev_id       bigint;
    opchar      text;
    js          json;
    ok          boolean;
    r           record;
    k           integer;
    txt         text;
    setl        text;
    wherel      text;
    cols        text;
    vlist       text;
begin
    c := pg_catalog.current_setting(pg_catalog.replace(i_key, 'pgq.trg_', 'pgq.trgx_'))::text[];
    flags := c[4];
    n := c[5]::integer;

    ev_extra1 := i_schema || '.' || i_table;
    if i_op = 'DELETE' then
        vals := pgq._trg_split(i_old::text);
        opchar := 'D';
    else
        vals := pgq._trg_split(i_new::text);
        opchar := pg_catalog.left(i_op, 1);
    end if;

    if i_op <> 'INSERT' and c[6] in ('', '[]') then
        raise exception 'Update/Delete on table without pkey';
    end if;

    if i_op = 'UPDATE' then
        ovals := pgq._trg_split(i_old::text);
        if c[26] is not null then
            execute c[26] into xchg using i_new, i_old;
        end if;
        chg := array_fill(false, array[n]);
        for i in 1 .. n loop
            m := c[32 + 2 * n + i];
            nv := vals[i];
            ov := ovals[i];
            if nv is null or ov is null then
                chg[i] := (nv is null) <> (ov is null);
            elsif nv = ov then
                chg[i] := false;
            else
                chg[i] := case pg_catalog.substr(m, 3, 1)
                    when 'T' then true
                    when 'N' then nv::numeric <> ov::numeric
                    when 'F' then nv::float8 <> ov::float8
                    when 'V' then nv::interval <> ov::interval
                    when 'J' then nv::jsonb <> ov::jsonb
                    when 'B' then pg_catalog.rtrim(nv, ' ') <> pg_catalog.rtrim(ov, ' ')
                    else null end;
            end if;
            if pg_catalog.substr(m, 3, 1) = 'X' then
                xi := xi + 1;
                chg[i] := xchg[xi];
            end if;
            if chg[i] then
                if pg_catalog.substr(m, 2, 1) = 'p' then
                    raise exception 'primary key update not allowed';
                end if;
                if pg_catalog.left(m, 1) = 'x' then
                    any_ign := true;
                else
                    any_other := true;
                end if;
            end if;
        end loop;
        -- only left-out columns (ignored or magic) changed: no event; as in
        -- PgQ, logutriga and jsontriga apply this only with an ignore= list
        if any_ign and not any_other and (i_kind = 's' or pg_catalog.strpos(flags, 'I') > 0) then
            return;
        end if;
    end if;

    -- payload
    if i_kind = 'l' then
        ev_type := opchar || ':' || c[6];
        ev_data := coalesce(i_fast_data, pgq._trg_urlenc_row(vals, c, n));
        if i_op = 'UPDATE' and pg_catalog.strpos(flags, 'B') > 0 then
            ev_extra2 := coalesce(i_fast_old, pgq._trg_urlenc_row(ovals, c, n));
        end if;
    elsif i_kind = 'j' then
        ev_type := '{"op":"' || i_op || '","table":' || pg_catalog.to_json(array[i_schema, i_table])::text
                   || ',"pkey":' || c[6] || '}';
        if pg_catalog.strpos(flags, 'J') > 0 then
            js := pg_catalog.row_to_json(case when i_op = 'DELETE' then i_old else i_new end);
        end if;
        ev_data := coalesce(i_fast_data, pgq._trg_json_row(vals, c, n, js));
        if i_op = 'UPDATE' and pg_catalog.strpos(flags, 'B') > 0 then
            if js is not null then
                js := pg_catalog.row_to_json(i_old);
            end if;
            ev_extra2 := coalesce(i_fast_old, pgq._trg_json_row(ovals, c, n, js));
        end if;
    else
        ev_type := opchar;
        if i_op = 'INSERT' then
            cols := '';
            vlist := '';
            for i in 1 .. n loop
                continue when pg_catalog.left(c[32 + 2 * n + i], 1) = 'x';
                cols := cols || case when cols = '' then '' else ',' end || c[32 + n + i];
                vlist := vlist || case when vlist = '' then '' else ',' end
                         || coalesce(pg_catalog.quote_literal(vals[i]), 'null');
            end loop;
            ev_data := '(' || cols || ') values (' || vlist || ')';
        else
            wherel := '';
            for i in 1 .. n loop
                continue when pg_catalog.substr(c[32 + 2 * n + i], 2, 1) <> 'p';
                wherel := wherel || case when wherel = '' then '' else ' and ' end
                          || c[32 + n + i] || '=' || coalesce(pg_catalog.quote_literal(
                              case when i_op = 'DELETE' then vals[i] else ovals[i] end), 'NULL');
            end loop;
            if i_op = 'DELETE' then
                ev_data := wherel;
            else
                setl := '';
                for i in 1 .. n loop
                    continue when pg_catalog.left(c[32 + 2 * n + i], 1) = 'x' or not chg[i];
                    setl := setl || case when setl = '' then '' else ',' end
                            || c[32 + n + i] || '=' || coalesce(pg_catalog.quote_literal(vals[i]), 'NULL');
                end loop;
                if setl = '' then
                    -- nothing changed: the first key column, set to itself
                    for i in 1 .. n loop
                        continue when pg_catalog.substr(c[32 + 2 * n + i], 2, 1) <> 'p';
                        setl := c[32 + n + i] || '=' || coalesce(pg_catalog.quote_literal(vals[i]), 'NULL');
                        exit;
                    end loop;
                end if;
                ev_data := setl || ' where ' || wherel;
            end if;
        end if;
        if i_op = 'UPDATE' and pg_catalog.strpos(flags, 'B') > 0 then
            ev_extra2 := pgq._trg_urlenc_row(ovals, c, n);
        end if;
    end if;

    -- magic columns override the fields, even with NULL
    if pg_catalog.strpos(flags, 'M') > 0 then
        if c[20] <> '' then ev_type := vals[c[20]::integer]; end if;
        if c[21] <> '' then ev_data := vals[c[21]::integer]; end if;
        if c[22] <> '' then ev_extra1 := vals[c[22]::integer]; end if;
        if c[23] <> '' then ev_extra2 := vals[c[23]::integer]; end if;
        if c[24] <> '' then ev_extra3 := vals[c[24]::integer]; end if;
        if c[25] <> '' then ev_extra4 := vals[c[25]::integer]; end if;
    end if;

    -- expressions: ev_type, ev_data, ev_extra1..4, then when
    if pg_catalog.strpos(flags, 'E') > 0 or pg_catalog.strpos(flags, 'W') > 0 then
        for k in 14 .. 19 loop
            continue when c[k] is null;
            -- into a record, then its text form: the value's output
            -- function, whatever type the expression has
            if i_op = 'DELETE' then
                execute c[k] into r using i_old;
            else
                execute c[k] into r using i_new;
            end if;
            txt := (pgq._trg_split(r::text))[1];
            case k
                when 14 then ev_type := txt;
                when 15 then ev_data := txt;
                when 16 then ev_extra1 := txt;
                when 17 then ev_extra2 := txt;
                when 18 then ev_extra3 := txt;
                else ev_extra4 := txt;
            end case;
        end loop;
        if c[13] is not null then
            if i_op = 'DELETE' then
                execute c[13] into r using i_old;
            else
                execute c[13] into r using i_new;
            end if;
            if c[27] <> 'boolean'::regtype::oid::text then
                raise exception 'when= query result must be boolean, got=%', c[27];
            end if;
            ok := case r::text when '(t)' then true when '(f)' then false end;
            if ok is null then
                raise exception 'when= should not be NULL';
            elsif not ok then
                return;
            end if;
        end if;
    end if;

    ev_id := pgq.insert_event(c[3], ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4);
end;
$$ language plpgsql;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_json_data(3)
--
--      The jsontriga payload for the INSERT fast path, inlined like
--      pgq._trg_logu_data(): row_to_json() of the row already writes every
--      value as PgQ does, except other numbers than int2/4/8, which PgQ
--      writes as strings.  Its text is split into keys and values at '":'
--      and ',"' (inside JSON strings '"' is always escaped, and a key or
--      value with '\":' is excluded), and the cached format string puts
--      them together again, quoting those numbers.
--
-- Returns:
--      NULL when this does not apply: a value with '\":', a column count
--      that does not match, or a quoted number that was NULL or NaN.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_json_data(fmt text, n integer, js text)
returns text as $$
    select case
        when pg_catalog.strpos(js, '\":') > 0 then null
        else pg_catalog.format(fmt, variadic pg_catalog.string_to_array(pg_catalog.replace(
                 pg_catalog.left(js, -1), '":', ',"'), ',"'))
        end;
$$ language sql stable;

-- ----------------------------------------------------------------------
-- Function: pgq._trg_logu_data(2)
--
--      The logutriga payload of a row for the INSERT fast path, as one SQL
--      expression that the planner inlines into the trigger's own (it is
--      called with variables; stable, not immutable, because format() is
--      stable: otherwise it would not be inlined).  PL/pgSQL prepares every
--      expression anew in each transaction, at a cost that grows with the
--      number of function calls in it, so this handles only the common rows
--      and is short: values of [0-9A-Za-z_.-], space, ':', '+' (numbers,
--      words, timestamps), quoted by record_out when they hold a space, a
--      comma or are empty.
--
--      The row's text form '(v1,"v 2",,...)' loses its quotes, its ':', '+'
--      and spaces are encoded, and each comma becomes '%2c=': every field
--      now starts with '=', which is taken away again from the empty (NULL)
--      ones; split at %2c, the fields are fed to the cached format string
--      'name%1$s&...'.
--
-- Returns:
--      NULL when the row holds anything else (a comma inside a value, other
--      characters, an empty string or a '"' in a value); the trigger then
--      takes the general path.
-- ----------------------------------------------------------------------
create or replace function pgq._trg_logu_data(fmt text, rowtext text)
returns text as $$
    select case
        when pg_catalog.substr(rowtext, 2, pg_catalog.length(rowtext) - 2)
             ~ '[^0-9A-Za-z_.:+ ,"-]|""|(?:^|,)"[^"]*,' then null
        else pg_catalog.format(fmt, variadic pg_catalog.string_to_array(pg_catalog.replace(
            '=' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                pg_catalog.replace(pg_catalog.substr(rowtext, 2, pg_catalog.length(rowtext) - 2),
                    '"', ''), ':', '%3a'), '+', '%2b'), ' ', '+'), ',', '%2c=') || '%2c',
            '=%2c', '%2c'), '%2c'))
        end;
$$ language sql stable;
