"""The finance tables as they were when migrations began; a database created before
then is adopted: only what it lacks is created.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from reasonops_runtime.migrations import create_index, create_table

MONEY = sa.Numeric(20, 4).with_variant(sa.String(32), "sqlite")  # exact on SQLite as text

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "finance_incidents",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    create_table(
        "ledger_entries",
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=192), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("penalty_id", sa.String(length=160), nullable=True),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("supplier", sa.String(length=256), nullable=True),
        sa.Column("service", sa.String(length=256), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("original_period", sa.String(length=7), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("causation_id", sa.String(length=64), nullable=False),
        sa.Column("causation_type", sa.String(length=128), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id"),
        sa.UniqueConstraint("source_key"),
    )
    create_index(
        op.f("ix_ledger_entries_incident_id"), "ledger_entries", ["incident_id"], unique=False
    )
    create_index(op.f("ix_ledger_entries_kind"), "ledger_entries", ["kind"], unique=False)
    create_index(op.f("ix_ledger_entries_period"), "ledger_entries", ["period"], unique=False)
    create_table(
        "ledger_periods",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    create_table(
        "ledger_lines",
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=300), nullable=False),
        sa.Column("debit", MONEY, nullable=False),
        sa.Column("credit", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.entry_id"],
        ),
        sa.PrimaryKeyConstraint("entry_id", "line_no"),
    )
    create_index(op.f("ix_ledger_lines_account"), "ledger_lines", ["account"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_lines_account"), table_name="ledger_lines")
    op.drop_table("ledger_lines")
    op.drop_table("ledger_periods")
    op.drop_index(op.f("ix_ledger_entries_period"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_kind"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_incident_id"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("finance_incidents")
