"""ReasonOps orchestrator service."""
