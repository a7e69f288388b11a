"""Schema revisions of the gateway tables (see reasonops_runtime.migrations)."""
