"""ReasonOps agent-capacity service."""
