-- Dumps the catalog of schema pgq as comparable rows "<kind> <object> | <attribute>=<value>",
-- one attribute per row (see catalog_compare.sh).  Nothing volatile: no OIDs, no owners' OIDs,
-- column positions as ranks among live columns.
with
fn as (
    select p.oid::regprocedure::text as sig, p.*
      from pg_proc p
     where p.pronamespace = 'pgq'::regnamespace
),
rel as (
    select 'pgq.' || c.relname as name, c.*
      from pg_class c
     where c.relnamespace = 'pgq'::regnamespace
       and c.relkind in ('r', 'p', 'v', 'm', 'S', 'i', 'f')
),
rows as (
    -- functions
    select 'function ' || sig as obj, 'exists' as attr, 't' as val from fn
    union all select 'function ' || sig, 'result', pg_get_function_result(oid) from fn
    union all select 'function ' || sig, 'argnames', coalesce(array_to_string(proargnames, ',', '-'), '') from fn
    union all select 'function ' || sig, 'arguments', pg_get_function_arguments(oid) from fn
    union all select 'function ' || sig, 'kind', prokind::text from fn
    union all select 'function ' || sig, 'strict', proisstrict::text from fn
    union all select 'function ' || sig, 'volatility', provolatile::text from fn
    union all select 'function ' || sig, 'secdef', prosecdef::text from fn
    union all select 'function ' || sig, 'retset', proretset::text from fn
    union all select 'function ' || sig, 'config', coalesce(array_to_string(proconfig, ','), '') from fn
    union all
    select 'function ' || sig, 'acl',
           case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end
           || ':' || a.privilege_type || case when a.is_grantable then '*' else '' end
      from fn, aclexplode(coalesce(proacl, acldefault('f', proowner))) a
    -- relations: tables, sequences, indexes, views
    union all select 'relation ' || name, 'relkind', relkind::text from rel
    union all select 'relation ' || name, 'persistence', relpersistence::text from rel
    union all select 'relation ' || name, 'reloptions', coalesce(array_to_string(reloptions, ','), '') from rel
    union all
    select 'relation ' || r.name, 'toast.reloptions', coalesce(array_to_string(t.reloptions, ','), '')
      from rel r join pg_class t on t.oid = r.reltoastrelid
    union all
    select 'relation ' || r.name, 'inherits', i.inhparent::regclass::text
      from rel r join pg_inherits i on i.inhrelid = r.oid
    union all
    select 'relation ' || name, 'indexdef', pg_get_indexdef(oid) from rel where relkind = 'i'
    union all
    select 'relation ' || r.name, 'sequence',
           format('type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s',
                  format_type(s.seqtypid, null), s.seqstart, s.seqincrement, s.seqmin,
                  s.seqmax, s.seqcache, s.seqcycle)
      from rel r join pg_sequence s on s.seqrelid = r.oid
    union all
    select 'relation ' || r.name, 'owned_by',
           d.refobjid::regclass::text || '.' || a.attname
      from rel r
      join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = r.oid
                      and d.refclassid = 'pg_class'::regclass and d.refobjsubid > 0
                      and d.deptype in ('a', 'i')
      join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
     where r.relkind = 'S'
    union all
    select 'relation ' || r.name, 'acl',
           case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end
           || ':' || a.privilege_type || case when a.is_grantable then '*' else '' end
      from rel r, aclexplode(coalesce(r.relacl, acldefault((case when r.relkind = 'S' then 's' else 'r' end)::"char", r.relowner))) a
     where r.relkind <> 'i'
    -- columns
    union all
    select 'column ' || c.name || '.' || a.attname, x.attr, x.val
      from rel c
      join (select attrelid, attname, attnum, atttypid, atttypmod, attnotnull,
                   rank() over (partition by attrelid order by attnum) as pos
              from pg_attribute where attnum > 0 and not attisdropped) a on a.attrelid = c.oid
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     cross join lateral (values
            ('position', a.pos::text),
            ('type', format_type(a.atttypid, a.atttypmod)),
            ('notnull', a.attnotnull::text),
            ('default', coalesce(pg_get_expr(d.adbin, d.adrelid), ''))) x(attr, val)
     where c.relkind in ('r', 'p', 'v', 'm', 'f')
    -- constraints
    union all
    select 'constraint ' || conrelid::regclass::text || '.' || conname, 'definition',
           pg_get_constraintdef(oid)
      from pg_constraint where connamespace = 'pgq'::regnamespace
    -- triggers on pgq's own tables
    union all
    select 'trigger ' || tgrelid::regclass::text || '.' || tgname, 'definition',
           pg_get_triggerdef(oid)
      from pg_trigger where not tgisinternal
       and tgrelid in (select oid from pg_class where relnamespace = 'pgq'::regnamespace)
    -- the schema
    union all
    select 'schema pgq', 'acl',
           case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end
           || ':' || a.privilege_type || case when a.is_grantable then '*' else '' end
      from pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
     where n.nspname = 'pgq'
    -- types defined in pgq (other than the row types of its tables)
    union all
    select 'type ' || t.oid::regtype::text, 'typtype', t.typtype::text
      from pg_type t
     where t.typnamespace = 'pgq'::regnamespace and t.typrelid = 0 and t.typelem = 0
)
select obj || ' | ' || attr || '=' || replace(replace(val, E'\n', ' '), E'\t', ' ')
  from rows
 order by 1;
