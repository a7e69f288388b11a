"""The change service's schema revisions (Alembic)."""
