"""The incidents tables as they were when migrations began; a database created before
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
        "alerts",
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("group_key", sa.String(length=512), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("silenced_by", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("resource", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    create_index("ix_alerts_incident", "alerts", ["incident_id"], unique=False)
    create_index(op.f("ix_alerts_silenced_by"), "alerts", ["silenced_by"], unique=False)
    create_table(
        "correlation_groups",
        sa.Column("group_key", sa.String(length=512), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("group_key"),
    )
    create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    create_table(
        "incidents",
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("resource", sa.String(length=512), nullable=True),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("priority_reason", sa.String(length=512), nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("first_alert_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("group_key", sa.String(length=512), nullable=True),
        sa.Column("assignment_group", sa.String(length=128), nullable=True),
        sa.Column("assignment_source", sa.String(length=16), nullable=True),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("firing_alerts", sa.Integer(), nullable=False),
        sa.Column("last_alert_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fingerprint", sa.String(length=128), nullable=True),
        sa.Column("probable_cause", sa.JSON(), nullable=True),
        sa.Column("problem_id", sa.String(length=32), nullable=True),
        sa.Column("held_from", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
        sa.UniqueConstraint("seq"),
    )
    create_index(
        op.f("ix_incidents_assignment_group"), "incidents", ["assignment_group"], unique=False
    )
    create_index("ix_incidents_group_opened", "incidents", ["group_key", "opened_at"], unique=False)
    create_index("ix_incidents_opened", "incidents", ["opened_at"], unique=False)
    create_index("ix_incidents_priority", "incidents", ["priority"], unique=False)
    create_index(op.f("ix_incidents_problem_id"), "incidents", ["problem_id"], unique=False)
    create_index(op.f("ix_incidents_service"), "incidents", ["service"], unique=False)
    create_index("ix_incidents_service_state", "incidents", ["service", "state"], unique=False)
    create_index(op.f("ix_incidents_state"), "incidents", ["state"], unique=False)
    create_table(
        "problems",
        sa.Column("problem_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("group_key", sa.String(length=512), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("workaround", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("problem_id"),
        sa.UniqueConstraint("seq"),
    )
    create_index("ix_problems_group_state", "problems", ["group_key", "state"], unique=False)
    create_table(
        "silences",
        sa.Column("silence_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("schedule", sa.JSON(), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("silence_id"),
    )
    create_table(
        "timeline",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    create_index("ix_timeline_incident", "timeline", ["incident_id", "entry_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_timeline_incident", table_name="timeline")
    op.drop_table("timeline")
    op.drop_table("silences")
    op.drop_index("ix_problems_group_state", table_name="problems")
    op.drop_table("problems")
    op.drop_index(op.f("ix_incidents_state"), table_name="incidents")
    op.drop_index("ix_incidents_service_state", table_name="incidents")
    op.drop_index(op.f("ix_incidents_service"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_problem_id"), table_name="incidents")
    op.drop_index("ix_incidents_priority", table_name="incidents")
    op.drop_index("ix_incidents_opened", table_name="incidents")
    op.drop_index("ix_incidents_group_opened", table_name="incidents")
    op.drop_index(op.f("ix_incidents_assignment_group"), table_name="incidents")
    op.drop_table("incidents")
    op.drop_table("counters")
    op.drop_table("correlation_groups")
    op.drop_index(op.f("ix_alerts_silenced_by"), table_name="alerts")
    op.drop_index("ix_alerts_incident", table_name="alerts")
    op.drop_table("alerts")
