"""ReasonOps agent-triage service."""
