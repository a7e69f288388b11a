"""Links in pages that were used (each works once): ``oncall_links_used``.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa

from reasonops_runtime.migrations import create_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "oncall_links_used",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )


def downgrade() -> None:
    from alembic import op

    op.drop_table("oncall_links_used")
