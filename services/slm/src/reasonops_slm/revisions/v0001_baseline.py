"""The slm tables as they were when migrations began; a database created before
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
        "sla_clocks",
        sa.Column("clock_id", sa.String(length=96), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("policy", sa.String(length=128), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agreement", sa.String(length=8), nullable=False),
        sa.Column("party", sa.String(length=256), nullable=True),
        sa.Column("schedule", sa.String(length=128), nullable=False),
        sa.Column("paused_seconds", sa.Float(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned", sa.Integer(), nullable=False),
        sa.Column("pause_on", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("clock_id"),
    )
    create_index(op.f("ix_sla_clocks_incident_id"), "sla_clocks", ["incident_id"], unique=False)
    create_index(op.f("ix_sla_clocks_state"), "sla_clocks", ["state"], unique=False)
    create_table(
        "sla_penalties",
        sa.Column("penalty_id", sa.String(length=160), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("clock_id", sa.String(length=160), nullable=False),
        sa.Column("contract_id", sa.String(length=128), nullable=False),
        sa.Column("supplier", sa.String(length=256), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("clause", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("penalty_id"),
    )
    create_index(op.f("ix_sla_penalties_clock_id"), "sla_penalties", ["clock_id"], unique=False)
    create_index(
        op.f("ix_sla_penalties_incident_id"), "sla_penalties", ["incident_id"], unique=False
    )
    create_index(op.f("ix_sla_penalties_month"), "sla_penalties", ["month"], unique=False)
    create_table(
        "slm_incidents",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    create_index(op.f("ix_slm_incidents_opened_at"), "slm_incidents", ["opened_at"], unique=False)
    create_index(op.f("ix_slm_incidents_service"), "slm_incidents", ["service"], unique=False)
    create_table(
        "slm_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("month"),
    )
    create_table(
        "slm_outages",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("incident_id", "seq"),
    )
    create_index(op.f("ix_slm_outages_service"), "slm_outages", ["service"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_slm_outages_service"), table_name="slm_outages")
    op.drop_table("slm_outages")
    op.drop_table("slm_months")
    op.drop_index(op.f("ix_slm_incidents_service"), table_name="slm_incidents")
    op.drop_index(op.f("ix_slm_incidents_opened_at"), table_name="slm_incidents")
    op.drop_table("slm_incidents")
    op.drop_index(op.f("ix_sla_penalties_month"), table_name="sla_penalties")
    op.drop_index(op.f("ix_sla_penalties_incident_id"), table_name="sla_penalties")
    op.drop_index(op.f("ix_sla_penalties_clock_id"), table_name="sla_penalties")
    op.drop_table("sla_penalties")
    op.drop_index(op.f("ix_sla_clocks_state"), table_name="sla_clocks")
    op.drop_index(op.f("ix_sla_clocks_incident_id"), table_name="sla_clocks")
    op.drop_table("sla_clocks")
