"""ReasonOps agent-security service."""
