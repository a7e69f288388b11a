"""Events awaited by workflows are kept under the values waits are keyed by
(``workflow_recent_events``); the table that kept them by message id before is gone.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("workflow_seen_events"):
        op.drop_table("workflow_seen_events")


def downgrade() -> None:
    """The table is not brought back: nothing reads it any more."""
