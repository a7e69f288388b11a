"""Each instance names the definition it runs by digest, and each definition is stored
once, instead of every instance row carrying a copy (about 2 KB each).

Revision ID: 0004
Revises: 0003
"""

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHUNK = 500

instances = sa.table("workflow_instances", sa.column("workflow_id", sa.String),
                     sa.column("definition", sa.JSON),
                     sa.column("definition_digest", sa.String))
definitions = sa.table("workflow_definitions", sa.column("digest", sa.String),
                       sa.column("workflow", sa.String), sa.column("version", sa.Integer),
                       sa.column("definition", sa.JSON))


def _digest(raw: dict[str, Any]) -> str:
    # As the orchestrator names a definition (definitions.digest) when this was written.
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def upgrade() -> None:
    op.create_table(
        "workflow_definitions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("workflow", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("workflow_instances") as table:
        table.add_column(sa.Column("definition_digest", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    stored: set[str] = set()
    named: list[dict[str, str]] = []
    for row in conn.execute(sa.select(instances.c.workflow_id, instances.c.definition)):
        key = _digest(row.definition)
        if key not in stored:
            stored.add(key)
            conn.execute(sa.insert(definitions), [{
                "digest": key, "workflow": row.definition["name"],
                "version": row.definition["version"], "definition": row.definition}])
        named.append({"b_id": row.workflow_id, "b_digest": key})
    for start in range(0, len(named), CHUNK):
        conn.execute(sa.update(instances)
                     .where(instances.c.workflow_id == sa.bindparam("b_id"))
                     .values(definition_digest=sa.bindparam("b_digest")),
                     named[start:start + CHUNK])
    with op.batch_alter_table("workflow_instances") as table:
        table.alter_column("definition_digest", existing_type=sa.String(length=64),
                           nullable=False)
        table.drop_column("definition")


def downgrade() -> None:
    with op.batch_alter_table("workflow_instances") as table:
        table.add_column(sa.Column("definition", sa.JSON(), nullable=True))
    conn = op.get_bind()
    for row in conn.execute(sa.select(definitions.c.digest, definitions.c.definition)):
        conn.execute(sa.update(instances).where(instances.c.definition_digest == row.digest)
                     .values(definition=row.definition))
    with op.batch_alter_table("workflow_instances") as table:
        table.alter_column("definition", existing_type=sa.JSON(), nullable=False)
        table.drop_column("definition_digest")
    op.drop_table("workflow_definitions")
