"""ReasonOps ingest service."""
