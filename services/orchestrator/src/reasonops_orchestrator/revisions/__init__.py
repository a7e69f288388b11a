"""Schema revisions of the orchestrator tables (see reasonops_runtime.migrations)."""
