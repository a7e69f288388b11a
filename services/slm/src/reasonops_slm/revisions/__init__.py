"""Schema revisions of the slm tables (see reasonops_runtime.migrations)."""
