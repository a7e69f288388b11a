"""Schema revisions of the kit tables (see reasonops_runtime.migrations)."""
