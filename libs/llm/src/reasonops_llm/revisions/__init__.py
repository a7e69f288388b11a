"""Schema revisions of the agent-queue tables (see reasonops_runtime.migrations)."""
