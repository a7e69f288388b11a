"""The incident service's database: one ``MetaData`` for the tables of its three
subdomains (``incident/store.py``, ``problem/store.py``, ``silence/store.py``), and the
numbers they hand out (INC, PRB, SIL), kept in one table."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update

from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session

metadata = MetaData(info=schema("incidents", "reasonops_incidents:revisions"))

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)


INCIDENT_NUMBER = "incident"
"""The counter incident numbers (INC...) come from."""


class Numbers:
    """Hands out sequence numbers (INC, PRB, SIL) inside one transaction; ``save`` stores
    the high-water marks."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._loaded: dict[str, int] = {}
        self._value: dict[str, int] = {}

    async def load(self, name: str) -> int:
        """The last number handed out (0 before the first)."""
        if name not in self._loaded:
            current = (await self.session.execute(  # locked: replicas number in turn
                select(counters.c.value).where(counters.c.name == name).with_for_update())
            ).scalar_one_or_none()
            self._loaded[name] = -1 if current is None else current
            self._value[name] = current or 0
        return self._value[name]

    def advance(self, name: str, value: int) -> None:
        """Numbers up to ``value`` were handed out (``load`` first)."""
        self._value[name] = max(self._value[name], value)

    async def next(self, name: str = INCIDENT_NUMBER) -> int:
        self._value[name] = await self.load(name) + 1
        return self._value[name]

    async def save(self) -> None:
        for name, value in self._value.items():
            loaded = self._loaded[name]
            if value == loaded:
                continue
            if loaded == -1:
                await self.session.execute(insert(counters).values(name=name, value=value))
            else:
                await self.session.execute(update(counters).where(counters.c.name == name)
                                           .values(value=value))
            self._loaded[name] = value
