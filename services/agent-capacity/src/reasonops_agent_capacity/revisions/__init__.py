"""Schema revisions of the agent-capacity tables (see reasonops_runtime.migrations)."""
