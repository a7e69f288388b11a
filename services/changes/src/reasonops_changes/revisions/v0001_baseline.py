"""The change service's tables: changes, and the incidents linked to them.

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
        "changes",
        sa.Column("change_id", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("risk_reason", sa.String(length=256), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("implementation_plan", sa.Text(), nullable=True),
        sa.Column("backout_plan", sa.Text(), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("requested_by", sa.String(length=160), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=1024), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("note", sa.String(length=4096), nullable=True),
        sa.Column("silence_ids", sa.JSON(), nullable=False),
        sa.Column("review_due", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=160), nullable=True),
        sa.PrimaryKeyConstraint("change_id"),
    )
    for column in ("state", "planned_start", "planned_end", "completed_at"):
        create_index(op.f(f"ix_changes_{column}"), "changes", [column], unique=False)
    create_table(
        "change_incidents",
        sa.Column("change_id", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("change_id", "incident_id"),
    )
    create_index(op.f("ix_change_incidents_incident_id"), "change_incidents",
                 ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_change_incidents_incident_id"), table_name="change_incidents")
    op.drop_table("change_incidents")
    for column in ("completed_at", "planned_end", "planned_start", "state"):
        op.drop_index(op.f(f"ix_changes_{column}"), table_name="changes")
    op.drop_table("changes")
