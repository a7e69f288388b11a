"""An alert occurrence is kept once, and read by service or fingerprint around a time.

A root cause read every alert a service ever had to find those near its incident, and
a sender whose events carry no identity of their own (native events over HTTP)
re-sending a firing alert stored the same fingerprint, status and start again each
time. Repeats kept so far are removed (the first of each stays); the indexes now cover
(service, time) and (fingerprint, time).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text(
        "DELETE FROM rca_alerts WHERE id NOT IN "
        "(SELECT MIN(id) FROM rca_alerts GROUP BY fingerprint, at, status)"))
    op.drop_index("ix_rca_alerts_service", table_name="rca_alerts")
    op.drop_index("ix_rca_alerts_fingerprint", table_name="rca_alerts")
    op.create_index("ix_rca_alerts_service_at", "rca_alerts", ["service", "at"])
    op.create_index("ux_rca_alerts_occurrence", "rca_alerts", ["fingerprint", "at", "status"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ux_rca_alerts_occurrence", table_name="rca_alerts")
    op.drop_index("ix_rca_alerts_service_at", table_name="rca_alerts")
    op.create_index("ix_rca_alerts_fingerprint", "rca_alerts", ["fingerprint"])
    op.create_index("ix_rca_alerts_service", "rca_alerts", ["service"])
