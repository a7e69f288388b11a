"""The agent-capacity tables as they were when migrations began; a database created before
then is adopted: only what it lacks is created.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from reasonops_runtime.migrations import create_index, create_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "capacity_incidents",
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    create_table(
        "capacity_points",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series", sa.String(length=512), nullable=False),
        sa.Column("metric", sa.String(length=256), nullable=False),
        sa.Column("resource", sa.String(length=512), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("limit", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    create_index(op.f("ix_capacity_points_series"), "capacity_points", ["series"], unique=False)
    create_table(
        "capacity_series",
        sa.Column("series", sa.String(length=512), nullable=False),
        sa.Column("last_urgency", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series"),
    )


def downgrade() -> None:
    op.drop_table("capacity_series")
    op.drop_index(op.f("ix_capacity_points_series"), table_name="capacity_points")
    op.drop_table("capacity_points")
    op.drop_table("capacity_incidents")
