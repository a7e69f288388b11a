"""The on-call service's schema revisions (Alembic)."""
