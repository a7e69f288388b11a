"""Schema revisions of the ingest tables (see reasonops_runtime.migrations)."""
