"""ReasonOps agent-rca service."""
