-- ----------------------------------------------------------------------
-- Function: pgq.grant_perms(1)
--
--      Gives a queue's tables and sequences the privileges of
--      pgq.event_template, so roles granted on the template (pgq_reader,
--      pgq_admin, ...) can read every queue.
--
-- Errors:
--      'Queue not found'
-- ----------------------------------------------------------------------
create or replace function pgq.grant_perms(x_queue_name text)
returns integer as $$
declare
    q       record;
    i       integer;
    tbl     text;
begin
    select queue_ntables, queue_data_pfx, queue_event_seq, queue_tick_seq
      into q
      from pgq.queue
     where queue_name = x_queue_name;
    if not found then
        raise exception 'Queue not found';
    end if;

    execute 'grant select on ' || pgq.quote_fqname(q.queue_tick_seq) || ' to public';
    execute 'grant select on ' || pgq.quote_fqname(q.queue_event_seq) || ' to public';
    execute 'grant usage on ' || pgq.quote_fqname(q.queue_event_seq) || ' to pgq_admin';

    perform pgq._grant_perms_from('pgq', 'event_template',
                                  split_part(q.queue_data_pfx, '.', 1),
                                  split_part(q.queue_data_pfx, '.', 2));
    for i in 0 .. q.queue_ntables - 1 loop
        tbl := q.queue_data_pfx || '_' || i;
        perform pgq._grant_perms_from('pgq', 'event_template',
                                      split_part(tbl, '.', 1), split_part(tbl, '.', 2));
    end loop;
    return 1;
end;
$$ language plpgsql security definer set search_path = pg_catalog, pg_temp;

-- ----------------------------------------------------------------------
-- Function: pgq._grant_perms_from(4)
--
--      Copies the table privileges of one table onto another, grant
--      options included.  Like PgQ, which reads them from
--      information_schema.table_privileges: the source owner's privileges
--      are copied too (with grant option), and only the privileges that
--      view shows the caller.  So the ACLs come out identical.
--
-- Returns:
--      1 (always, as in PgQ; also when there was nothing to copy)
-- ----------------------------------------------------------------------
create or replace function pgq._grant_perms_from(
    src_schema text, src_table text, dst_schema text, dst_table text)
returns integer as $$
declare
    g       record;
begin
    for g in
        select a.privilege_type,
               a.is_grantable or a.grantee = c.relowner as is_grantable,
               case when a.grantee = 0 then 'public'
                    else pg_catalog.quote_ident(r.rolname) end as grantee
          from pg_catalog.pg_class c
          join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
         cross join lateral pg_catalog.aclexplode(
                coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
          left join pg_catalog.pg_roles r on r.oid = a.grantee
         where ns.nspname = src_schema
           and c.relname = src_table
           -- what information_schema.table_privileges shows the caller
           and case when a.grantee = 0 then true
                    else pg_catalog.pg_has_role(a.grantee, 'usage')
                         or pg_catalog.pg_has_role(a.grantor, 'usage') end
         order by 3, 1
    loop
        execute 'grant ' || g.privilege_type
             || ' on ' || pg_catalog.quote_ident(dst_schema) || '.' || pg_catalog.quote_ident(dst_table)
             || ' to ' || g.grantee
             || case when g.is_grantable then ' with grant option' else '' end;
    end loop;
    return 1;
end;
$$ language plpgsql strict;
