"""When ReasonOps opened each incident it follows (``reported_at``): an incident's
effort counts from there, not from its first alert's start.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("finance_incidents") as table:
        table.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("finance_incidents") as table:
        table.drop_column("reported_at")
