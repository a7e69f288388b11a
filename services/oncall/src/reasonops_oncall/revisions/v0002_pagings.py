"""Paging an incident through its escalation policy (``oncall_pagings``).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa

from reasonops_runtime.migrations import create_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "oncall_pagings",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
    )


def downgrade() -> None:
    from alembic import op

    op.drop_table("oncall_pagings")
