"""Each incident's load: its group's incidents open when it opened (or came to the
group), which the response forecast compares on.

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
    with op.batch_alter_table("slm_agent_incidents") as table:
        table.add_column(sa.Column("load", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slm_agent_incidents") as table:
        table.drop_column("load")
