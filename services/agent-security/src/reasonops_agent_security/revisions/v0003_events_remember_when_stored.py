"""Security events remember when they were stored.

An event was forgotten once it was two hours older than the newest event of a batch.
One event whose time was far ahead of the others (the agent's own alert coming back
while logs were replayed, a sender with a wrong clock) then forgot every other event
at once, and an attack under way was no longer seen. Now an event is forgotten only
once it is old both by its own time and by when it was stored; rows stored before this
revision have no such time and are forgotten by their own time, as before.

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
    with op.batch_alter_table("security_events") as table:
        table.add_column(sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_events") as table:
        table.drop_column("stored_at")
