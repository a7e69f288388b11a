"""The orchestrator tables as they were when migrations began; a database created before
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
        "workflow_effects",
        sa.Column("effect_id", sa.String(length=256), nullable=False),
        sa.Column("workflow_id", sa.String(length=160), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("effect_id"),
    )
    create_index(op.f("ix_workflow_effects_state"), "workflow_effects", ["state"], unique=False)
    create_table(
        "workflow_instances",
        sa.Column("workflow_id", sa.String(length=160), nullable=False),
        sa.Column("workflow", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("incident_ids", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("failed_step", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("workflow_id"),
        sa.UniqueConstraint("workflow", "key", name="uq_workflow_key"),
    )
    create_index(
        op.f("ix_workflow_instances_incident_id"),
        "workflow_instances",
        ["incident_id"],
        unique=False,
    )
    create_index(
        "ix_workflow_instances_queue",
        "workflow_instances",
        ["workflow", "state", "started_at"],
        unique=False,
    )
    create_index(op.f("ix_workflow_instances_state"), "workflow_instances", ["state"], unique=False)
    create_table(
        "workflow_mutex",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    create_table(
        "workflow_proposals",
        sa.Column("proposal_id", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("proposal_id"),
    )
    create_index(
        op.f("ix_workflow_proposals_decision_id"),
        "workflow_proposals",
        ["decision_id"],
        unique=False,
    )
    create_table(
        "workflow_recent_events",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "value"),
    )
    create_index(
        op.f("ix_workflow_recent_events_seen_at"),
        "workflow_recent_events",
        ["seen_at"],
        unique=False,
    )
    create_index(
        "ix_workflow_recent_value_at", "workflow_recent_events", ["value", "seen_at"], unique=False
    )
    create_table(
        "workflow_reviews",
        sa.Column("workflow_id", sa.String(length=160), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("review", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id"),
    )
    create_index(
        op.f("ix_workflow_reviews_incident_id"), "workflow_reviews", ["incident_id"], unique=False
    )
    create_table(
        "workflow_steps",
        sa.Column("workflow_id", sa.String(length=160), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("workflow_id", "step"),
    )
    create_table(
        "workflow_waits",
        sa.Column("workflow_id", sa.String(length=160), nullable=False),
        sa.Column("step", sa.String(length=80), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", "step"),
    )
    create_index("ix_workflow_waits_event", "workflow_waits", ["event_type", "value"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_workflow_waits_event", table_name="workflow_waits")
    op.drop_table("workflow_waits")
    op.drop_table("workflow_steps")
    op.drop_index(op.f("ix_workflow_reviews_incident_id"), table_name="workflow_reviews")
    op.drop_table("workflow_reviews")
    op.drop_index("ix_workflow_recent_value_at", table_name="workflow_recent_events")
    op.drop_index(op.f("ix_workflow_recent_events_seen_at"), table_name="workflow_recent_events")
    op.drop_table("workflow_recent_events")
    op.drop_index(op.f("ix_workflow_proposals_decision_id"), table_name="workflow_proposals")
    op.drop_table("workflow_proposals")
    op.drop_table("workflow_mutex")
    op.drop_index(op.f("ix_workflow_instances_state"), table_name="workflow_instances")
    op.drop_index("ix_workflow_instances_queue", table_name="workflow_instances")
    op.drop_index(op.f("ix_workflow_instances_incident_id"), table_name="workflow_instances")
    op.drop_table("workflow_instances")
    op.drop_index(op.f("ix_workflow_effects_state"), table_name="workflow_effects")
    op.drop_table("workflow_effects")
