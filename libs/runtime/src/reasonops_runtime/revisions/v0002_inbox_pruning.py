"""Inbox rows are pruned by age: an index on when each message was handled.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kit_inbox_processed", "kit_inbox", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_kit_inbox_processed", table_name="kit_inbox")
