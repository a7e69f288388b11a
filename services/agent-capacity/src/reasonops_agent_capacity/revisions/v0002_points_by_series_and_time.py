"""A series' points over the lookback, read by index; older points are forgotten.

Every measurement was kept for ever and a forecast read all of its series' points to
find the last day's. Points older than the lookback are now deleted as new ones arrive
(a series' next measurement after this upgrade removes those it kept so far).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_capacity_points_series", table_name="capacity_points")
    op.create_index("ix_capacity_points_series_at", "capacity_points", ["series", "at"])


def downgrade() -> None:
    op.drop_index("ix_capacity_points_series_at", table_name="capacity_points")
    op.create_index("ix_capacity_points_series", "capacity_points", ["series"])
