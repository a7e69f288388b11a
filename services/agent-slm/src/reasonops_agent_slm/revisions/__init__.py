"""Schema revisions of the agent-slm tables (see reasonops_runtime.migrations)."""
