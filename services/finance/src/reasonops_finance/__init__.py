"""ReasonOps finance service."""
