"""The agent-rca tables as they were when migrations began; a database created before
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
        "rca_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("summary", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    create_index(op.f("ix_rca_alerts_at"), "rca_alerts", ["at"], unique=False)
    create_index(op.f("ix_rca_alerts_fingerprint"), "rca_alerts", ["fingerprint"], unique=False)
    create_index(op.f("ix_rca_alerts_service"), "rca_alerts", ["service"], unique=False)
    create_table(
        "rca_changes",
        sa.Column("change_id", sa.String(length=128), nullable=False),
        sa.Column("summary", sa.String(length=1024), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("change_id"),
    )
    create_index(op.f("ix_rca_changes_at"), "rca_changes", ["at"], unique=False)
    create_index(op.f("ix_rca_changes_service"), "rca_changes", ["service"], unique=False)
    create_table(
        "rca_incidents",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=2000), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    create_index(op.f("ix_rca_incidents_opened_at"), "rca_incidents", ["opened_at"], unique=False)
    create_index(op.f("ix_rca_incidents_service"), "rca_incidents", ["service"], unique=False)
    create_table(
        "rca_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=1024), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    create_index(op.f("ix_rca_timeline_incident_id"), "rca_timeline", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rca_timeline_incident_id"), table_name="rca_timeline")
    op.drop_table("rca_timeline")
    op.drop_index(op.f("ix_rca_incidents_service"), table_name="rca_incidents")
    op.drop_index(op.f("ix_rca_incidents_opened_at"), table_name="rca_incidents")
    op.drop_table("rca_incidents")
    op.drop_index(op.f("ix_rca_changes_service"), table_name="rca_changes")
    op.drop_index(op.f("ix_rca_changes_at"), table_name="rca_changes")
    op.drop_table("rca_changes")
    op.drop_index(op.f("ix_rca_alerts_service"), table_name="rca_alerts")
    op.drop_index(op.f("ix_rca_alerts_fingerprint"), table_name="rca_alerts")
    op.drop_index(op.f("ix_rca_alerts_at"), table_name="rca_alerts")
    op.drop_table("rca_alerts")
