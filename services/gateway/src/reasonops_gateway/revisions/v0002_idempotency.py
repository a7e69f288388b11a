"""What each ``Idempotency-Key`` was answered with, so a retried or doubled command is
applied once whichever replica it reaches (``gateway_idempotency``).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from reasonops_runtime.migrations import create_index, create_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "gateway_idempotency",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=128), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "idempotency_key"),
    )
    create_index(op.f("ix_gateway_idempotency_created_at"), "gateway_idempotency",
                 ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_idempotency_created_at"), table_name="gateway_idempotency")
    op.drop_table("gateway_idempotency")
