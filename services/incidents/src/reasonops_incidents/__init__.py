"""ReasonOps incidents service."""
