"""Schema revisions of the agent-rca tables (see reasonops_runtime.migrations)."""
