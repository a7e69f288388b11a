"""Schema revisions of the agent-security tables (see reasonops_runtime.migrations)."""
