"""Schema migrations: each set of tables (the kit's, a service's, a library's) carries its
own Alembic revisions and its own version table, and a database is brought to the head of
every set it holds before anything reads or writes it.

A set names itself in its ``MetaData``'s ``info`` (see ``schema``): ``{"schema": "incidents",
"migrations": "reasonops_incidents:revisions"}``; that package directory holds the
revision scripts. No ``alembic.ini`` and no ``env.py``: the runner below is the
environment, so a service image needs nothing beside its wheels.

A database created before migrations existed (by ``create_all``) has tables and no version
table: every set's first revision creates only what is missing (``create_table`` and
``create_index`` below), so such a database is adopted at the first revision and then
upgraded like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import op
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import SchemaItem

log = logging.getLogger(__name__)

HEAD = "head"


def schema(name: str, migrations: str) -> dict[str, str]:
    """The ``info`` of a ``MetaData`` whose tables ``migrations`` (``package:dir``) keep."""
    return {"schema": name, "migrations": migrations}


@dataclass(frozen=True)
class SchemaSet:
    """One set of tables with its revisions and the table recording its revision."""

    name: str
    metadata: MetaData
    scripts: ScriptDirectory

    @classmethod
    def of(cls, metadata: MetaData) -> SchemaSet:
        try:
            name, location = metadata.info["schema"], metadata.info["migrations"]
        except KeyError:
            tables = ", ".join(sorted(metadata.tables)) or "no tables"
            raise ValueError(f"a MetaData ({tables}) has no migrations: give it "
                             "info=schema(name, 'package:dir')") from None
        package, _, directory = location.partition(":")
        path = Path(str(resources.files(package).joinpath(directory)))
        return cls(name, metadata, ScriptDirectory(str(path), version_locations=[str(path)]))

    @property
    def version_table(self) -> str:
        return f"schema_version_{self.name.replace('-', '_')}"

    @property
    def head(self) -> str | None:
        return self.scripts.get_current_head()

    def current(self, conn: Connection) -> str | None:
        context = MigrationContext.configure(conn, opts={"version_table": self.version_table})
        return context.get_current_revision()

    def stamp_head(self, conn: Connection) -> None:
        """Record this set as at its head (its tables were just created from the code)."""
        context = MigrationContext.configure(conn, opts={"version_table": self.version_table})
        context.stamp(self.scripts, HEAD)

    def migrate(self, conn: Connection, target: str = HEAD) -> tuple[str | None, str | None]:
        """Run the revisions between this database's and ``target``, up or down (back to an
        earlier release's schema); (before, after)."""
        current = self.current(conn)
        earlier = current is not None and target != current and target in {
            s.revision for s in self.scripts.iterate_revisions(current, "base")}
        return self._run(conn, target, upgrading=not earlier)

    def _run(self, conn: Connection, target: str,
             upgrading: bool) -> tuple[str | None, str | None]:
        before = self.current(conn)

        def steps(revision: Any, _context: Any) -> Any:
            if upgrading:
                return self.scripts._upgrade_revs(target, revision)
            return self.scripts._downgrade_revs(target, revision)

        context = MigrationContext.configure(conn, opts={
            "version_table": self.version_table, "script": self.scripts, "fn": steps,
            "target_metadata": self.metadata, "transactional_ddl": True,
            # SQLite cannot ALTER most things; batch operations copy the table instead.
            "render_as_batch": True})
        with Operations.context(context):
            context.run_migrations()
        after = self.current(conn)
        if before != after:
            log.info("schema migrated", extra={"schema": self.name, "from": before,
                                               "to": after})
        return before, after


def sets_of(metadata: Sequence[MetaData]) -> list[SchemaSet]:
    return [SchemaSet.of(md) for md in metadata]


def migrate(conn: Connection, metadata: Sequence[MetaData],
            target: str = HEAD) -> dict[str, tuple[str | None, str | None]]:
    """Bring every set in ``metadata`` to ``target`` (a revision only makes sense with one
    set); what each was and now is."""
    return {s.name: s.migrate(conn, target) for s in sets_of(metadata)}


def status(conn: Connection, metadata: Sequence[MetaData]) -> dict[str, tuple[str | None,
                                                                         str | None]]:
    """(current, head) per set."""
    return {s.name: (s.current(conn), s.head) for s in sets_of(metadata)}


# -- operations for first revisions: create only what is missing --------------------------

def create_table(name: str, *items: SchemaItem, **kw: Any) -> None:
    """``op.create_table`` unless the table exists; then add the nullable columns it lacks
    (what ``create_all`` could not do to a database it had created before)."""
    bind = op.get_bind()
    if not inspect(bind).has_table(name):
        op.create_table(name, *items, **kw)
        return
    present = {c["name"] for c in inspect(bind).get_columns(name)}
    for column in items:
        if isinstance(column, Column) and column.name not in present:
            if not column.nullable:
                raise RuntimeError(f"table {name} lacks the required column {column.name}; "
                                   "it was not created by a ReasonOps release")
            kind = column.type.compile(dialect=bind.dialect)
            bind.execute(text(f"ALTER TABLE {name} ADD COLUMN {column.name} {kind}"))


def create_index(name: str, table: str, columns: list[str], **kw: Any) -> None:
    """``op.create_index`` unless an index of that name exists on the table."""
    present = {ix["name"] for ix in inspect(op.get_bind()).get_indexes(table)}
    if name not in present:
        op.create_index(name, table, columns, **kw)
