"""The agent-slm tables as first created.

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
        "slm_agent_clocks",
        sa.Column("clock_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("agreement", sa.String(length=8), nullable=False),
        sa.Column("party", sa.String(length=128), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("forecast", sa.Boolean(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("clock_id"),
    )
    create_index(op.f("ix_slm_agent_clocks_incident_id"), "slm_agent_clocks",
                 ["incident_id"], unique=False)
    create_table(
        "slm_agent_incidents",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("assignment_group", sa.String(length=128), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    create_index(op.f("ix_slm_agent_incidents_assignment_group"), "slm_agent_incidents",
                 ["assignment_group"], unique=False)
    create_table(
        "slm_agent_met",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assignment_group", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("elapsed_seconds", sa.Float(), nullable=False),
        sa.Column("in_hours", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("slm_agent_met")
    op.drop_index(op.f("ix_slm_agent_incidents_assignment_group"),
                  table_name="slm_agent_incidents")
    op.drop_table("slm_agent_incidents")
    op.drop_index(op.f("ix_slm_agent_clocks_incident_id"), table_name="slm_agent_clocks")
    op.drop_table("slm_agent_clocks")
