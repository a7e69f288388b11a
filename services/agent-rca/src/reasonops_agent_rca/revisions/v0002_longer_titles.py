"""An incident's title may be as long as an alert's summary (1,024 characters,
``reasonops_contracts.limits``); 512 refused the longer ones on PostgreSQL.

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
    with op.batch_alter_table("rca_incidents") as table:
        table.alter_column("title", type_=sa.String(length=1024),
                           existing_type=sa.String(length=512), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("rca_incidents") as table:
        table.alter_column("title", type_=sa.String(length=512),
                           existing_type=sa.String(length=1024), existing_nullable=False)
