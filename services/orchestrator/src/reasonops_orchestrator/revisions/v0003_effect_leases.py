"""A claimed effect names its owner and a lease, so a starting replica recovers only what
a dead one left, not what a live one is running.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_effects") as table:
        table.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        table.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workflow_effects") as table:
        table.drop_column("lease_until")
        table.drop_column("claimed_by")
