-- Bring the tables up to date.  On a fresh install this finds nothing to do;
-- over an older pgq_ext it adds what is missing.
select pgq_ext.upgrade_schema();
