"""The agent-queue tables as they were when migrations began; a database created before
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
        "agent_decisions",
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("decision_id"),
        sa.UniqueConstraint("request_id"),
    )
    create_index(
        op.f("ix_agent_decisions_incident_id"), "agent_decisions", ["incident_id"], unique=False
    )
    create_table(
        "agent_pending",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("trace_context", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    create_index(
        op.f("ix_agent_pending_lease_owner"), "agent_pending", ["lease_owner"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_agent_pending_lease_owner"), table_name="agent_pending")
    op.drop_table("agent_pending")
    op.drop_index(op.f("ix_agent_decisions_incident_id"), table_name="agent_decisions")
    op.drop_table("agent_decisions")
