"""The ServiceNow sync's tables: a link per synced incident, and the poll's marks.

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
        "servicenow_links",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("sys_id", sa.String(length=32), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("assignment_group", sa.String(length=128), nullable=True),
        sa.Column("remote", sa.JSON(), nullable=False),
        sa.Column("pushed", sa.JSON(), nullable=False),
        sa.Column("mod_count", sa.Integer(), nullable=False),
        sa.Column("notes_pushed", sa.Integer(), nullable=False),
        sa.Column("notes_seen", sa.JSON(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_field", sa.String(length=80), nullable=True),
        sa.Column("failure", sa.String(length=1024), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
        sa.UniqueConstraint("sys_id"),
    )
    create_index(op.f("ix_servicenow_links_failed_at"), "servicenow_links", ["failed_at"],
                 unique=False)
    create_table(
        "servicenow_pushes",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wanted", sa.Integer(), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    create_index(op.f("ix_servicenow_pushes_due_at"), "servicenow_pushes", ["due_at"],
                 unique=False)
    create_table(
        "servicenow_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("servicenow_marks")
    op.drop_index(op.f("ix_servicenow_pushes_due_at"), table_name="servicenow_pushes")
    op.drop_table("servicenow_pushes")
    op.drop_index(op.f("ix_servicenow_links_failed_at"), table_name="servicenow_links")
    op.drop_table("servicenow_links")
