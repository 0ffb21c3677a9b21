-- pgq.version() of a plain (psql -f) install: the built-in version, never NULL
-- (stock pgqd ignores a database whose pgq.version() is NULL).
\set VERBOSITY terse
select pgq.version();
select count(*) as pgq_extensions from pg_extension where extname = 'pgq';
select has_function_privilege('public', 'pgq.version()', 'execute') as public_may_call;
