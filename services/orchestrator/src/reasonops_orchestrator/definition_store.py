"""The definitions workflow instances run, each stored once under its digest
(``definitions.digest``): an instance names the one it started with and finishes on it,
whatever its file says later."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import JSON, Column, Integer, String, Table, select

from reasonops_runtime.store import Session, select_in
from reasonops_runtime.transaction import Transaction, conflict_insert

from .definitions import WorkflowDefinition, definition_of, dumped, known
from .tables import metadata

definitions = Table(
    "workflow_definitions", metadata,
    Column("digest", String(64), primary_key=True),
    Column("workflow", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSON, nullable=False),
)
"""Each definition an instance runs, stored once: an instance keeps running the one it
started with when its file changes (``definitions.digest`` names it)."""


async def store_definitions(session: Session, batch: Iterable[WorkflowDefinition]
                            ) -> set[str]:
    """Store the definitions not stored yet (a concurrent replica's copy is the same
    row); their digests."""
    rows = {key: {"digest": key, "workflow": d.name, "version": d.version, "definition": raw}
            for d in batch for key, raw in [dumped(d)]}
    if rows:
        await session.execute(conflict_insert(session, definitions)
                              .on_conflict_do_nothing(index_elements=["digest"]),
                              list(rows.values()))
    return set(rows)


class DefinitionBook:
    """The definitions a service has stored in its database, so that each is written
    once: what a transaction stores counts from its commit on."""

    def __init__(self) -> None:
        self.stored: set[str] = set()

    async def store(self, tx: Transaction, batch: Iterable[WorkflowDefinition]) -> None:
        fresh = [d for d in batch if dumped(d)[0] not in self.stored]
        if fresh:
            keys = await store_definitions(tx.session, fresh)
            tx.after_commit(lambda: self.stored.update(keys))


async def definitions_of(session: Session, keys: Iterable[str]) -> dict[str, WorkflowDefinition]:
    """The stored definitions ``keys``; read only those this process has not parsed."""
    wanted = set(keys)
    found = {key: d for key in wanted if (d := known(key)) is not None}
    missing = wanted - found.keys()
    if missing:
        for row in await select_in(session, select(definitions.c.digest,
                                                   definitions.c.definition),
                                   definitions.c.digest, missing):
            found[row.digest] = definition_of(row.digest, row.definition)
    return found
