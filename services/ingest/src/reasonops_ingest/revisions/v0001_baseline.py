"""The ingest tables as they were when migrations began; a database created before
then is adopted: only what it lacks is created.

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
        "ingest_heartbeats",
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("integration", "name"),
    )
    create_table(
        "ingest_integrations",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("previous_key_hash", sa.String(length=64), nullable=True),
        sa.Column("previous_key_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("default_service", sa.String(length=256), nullable=True),
        sa.Column("default_team", sa.String(length=256), nullable=True),
        sa.Column("label_mapping", sa.JSON(), nullable=False),
        sa.Column("static_labels", sa.JSON(), nullable=False),
        sa.Column("rate_limit_per_second", sa.Float(), nullable=True),
        sa.Column("burst", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("key_hash"),
    )
    create_index(
        op.f("ix_ingest_integrations_previous_key_hash"),
        "ingest_integrations",
        ["previous_key_hash"],
        unique=False,
    )
    create_table(
        "ingest_pagerduty_alerts",
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_request", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("integration", "dedup_key"),
    )


def downgrade() -> None:
    op.drop_table("ingest_pagerduty_alerts")
    op.drop_index(
        op.f("ix_ingest_integrations_previous_key_hash"), table_name="ingest_integrations"
    )
    op.drop_table("ingest_integrations")
    op.drop_table("ingest_heartbeats")
