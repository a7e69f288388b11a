"""The decisions a briefing combines (``rca_decisions``) and each incident's priority.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rca_decisions",
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=256), nullable=True),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=1024), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    op.create_index("ix_rca_decisions_incident_id", "rca_decisions", ["incident_id"])
    op.create_index("ix_rca_decisions_source", "rca_decisions", ["source"])
    with op.batch_alter_table("rca_incidents") as table:
        table.add_column(sa.Column("priority", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rca_incidents") as table:
        table.drop_column("priority")
    op.drop_index("ix_rca_decisions_source", table_name="rca_decisions")
    op.drop_index("ix_rca_decisions_incident_id", table_name="rca_decisions")
    op.drop_table("rca_decisions")
