"""pgqpp benchmarks: ours (pure PL/pgSQL) against the real PgQ extension, side by side."""
