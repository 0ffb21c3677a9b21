-- ----------------------------------------------------------------------
-- Function: pgq.seq_getval(1)
--
--      Reads a sequence's last_value without advancing it (not
--      transactional: a hint, rolled-back nextval() calls count too).
-- ----------------------------------------------------------------------
create or replace function pgq.seq_getval(i_seq_name text)
returns bigint as $$
declare
    res bigint;
begin
    execute 'select last_value from ' || pgq.quote_fqname(i_seq_name) into res;
    return res;
end;
$$ language plpgsql strict;

-- ----------------------------------------------------------------------
-- Function: pgq.seq_setval(2)
--
--      Moves a sequence forward to i_new_value; never moves it back.
--
-- Returns:
--      the sequence's value afterwards
-- ----------------------------------------------------------------------
create or replace function pgq.seq_setval(i_seq_name text, i_new_value int8)
returns bigint as $$
declare
    cur bigint;
begin
    cur := pgq.seq_getval(i_seq_name);
    if cur < i_new_value then
        perform pg_catalog.setval(pgq.quote_fqname(i_seq_name)::regclass, i_new_value);
        return i_new_value;
    end if;
    return cur;
end;
$$ language plpgsql strict;
