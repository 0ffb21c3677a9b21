-- Smoke test of the golden-file harness itself: runs against both targets.
select 1 as one;
