-- ----------------------------------------------------------------------
-- Privileges.  As PgQ's pgq_ext: the functions are callable by any role that
-- may connect to the target database (PostgreSQL's default EXECUTE for
-- PUBLIC; the full forms run as their owner), the tables are the owner's.
-- To restrict it: REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA pgq_ext FROM
-- PUBLIC, then GRANT to the consumers' roles.  A re-install keeps such
-- changes (CREATE OR REPLACE FUNCTION keeps a function's privileges).
-- ----------------------------------------------------------------------

grant usage on schema pgq_ext to public;
