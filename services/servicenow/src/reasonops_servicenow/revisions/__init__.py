"""The ServiceNow sync's schema revisions (Alembic)."""
