"""Schema revisions of the finance tables (see reasonops_runtime.migrations)."""
