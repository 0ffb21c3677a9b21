-- ----------------------------------------------------------------------
-- Function: pgq.quote_fqname(1)
--
--      Quotes a possibly schema-qualified name: 'a.B' -> a."B".
--      The schema is everything before the first dot; without a dot the
--      schema is 'public'.
-- ----------------------------------------------------------------------
create or replace function pgq.quote_fqname(i_name text)
returns text as $$
    select case when strpos(i_name, '.') > 0
                then pg_catalog.quote_ident(pg_catalog.substr(i_name, 1, strpos(i_name, '.') - 1))
                     || '.' || pg_catalog.quote_ident(pg_catalog.substr(i_name, strpos(i_name, '.') + 1))
                else 'public.' || pg_catalog.quote_ident(i_name)
           end;
$$ language sql strict immutable;
