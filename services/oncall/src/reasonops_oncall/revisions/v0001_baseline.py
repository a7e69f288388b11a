"""The on-call tables: overrides made by command.

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
        "oncall_overrides",
        sa.Column("override_id", sa.String(length=16), nullable=False),
        sa.Column("schedule", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("created_by", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=160), nullable=True),
        sa.PrimaryKeyConstraint("override_id"),
    )
    create_index(op.f("ix_oncall_overrides_schedule"), "oncall_overrides", ["schedule"],
                 unique=False)
    create_index(op.f("ix_oncall_overrides_end"), "oncall_overrides", ["end"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_oncall_overrides_end"), table_name="oncall_overrides")
    op.drop_index(op.f("ix_oncall_overrides_schedule"), table_name="oncall_overrides")
    op.drop_table("oncall_overrides")
