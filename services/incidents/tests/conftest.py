"""Two ways to drive the incident service without a broker.

``core``: the correlation engine as plain calls, its state kept in memory between
batches: no database. ``harness``: the service's real handlers on a SQLite store, for
what is about storage, timers, restarts and the events' wiring."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from reasonops_contracts import Envelope
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.ingest import EventAccepted
from reasonops_incidents.app import load_catalog
from reasonops_incidents.incident import store
from reasonops_incidents.incident.batch import Snapshot, route
from reasonops_incidents.incident.engine import decide
from reasonops_incidents.incident.escalation import ESCALATION_TIMER, Escalations
from reasonops_incidents.incident.events import SOURCE
from reasonops_incidents.incident.handlers import AlertIntake
from reasonops_incidents.incident.rules import RuleFile, RuleSet, parse
from reasonops_incidents.metrics import IncidentMetrics
from reasonops_incidents.problem.handlers import Problems
from reasonops_incidents.silence.domain import Silence, first_match
from reasonops_incidents.silence.store import SilenceBook, insert_silence
from reasonops_incidents.store import metadata
from reasonops_runtime import FrozenClock, Store
from reasonops_runtime.delivery import Delivery
from reasonops_runtime.metrics import KitMetrics
from reasonops_runtime.timers import TimerWheel

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


def alert(fingerprint: str, status: str = "firing", *, at: datetime | float = 0,
          name: str = "HighErrorRate", severity: str = "warning", service: str = "checkout",
          resource: str | None = None, group_key: str | None = None,
          integration: str | None = None, **labels: str) -> EventAccepted:
    when = at if isinstance(at, datetime) else T0 + timedelta(seconds=at)
    return EventAccepted(fingerprint=fingerprint, status=status, name=name, severity=severity,
                         service=service, resource=resource or f"host-{fingerprint}",
                         summary=f"{name} on {resource or fingerprint}",
                         labels={"alertname": name, **labels}, received_at=when,
                         source_format="alertmanager" if group_key else "event",
                         group_key=group_key, integration=integration)


class Harness:
    def __init__(self, tmp: Path, rules: str | None = None, catalog: str | None = None,
                 clock: FrozenClock | None = None) -> None:
        self.tmp = tmp
        self.clock = clock or FrozenClock(T0)
        self.rules_path: Path | None = None
        if rules is not None:
            self.rules_path = tmp / "rules.yaml"
            self.rules_path.write_text(rules)
        self.catalog: ServiceCatalog | None = None
        if catalog is not None:
            (tmp / "catalog.yaml").write_text(catalog)
            self.catalog = load_catalog(tmp / "catalog.yaml")
        self.emitted: list[Envelope] = []
        self._open()

    def _open(self) -> None:
        self.store = Store(f"sqlite+aiosqlite:///{self.tmp / 'incidents.db'}", metadata,
                           clock=self.clock)
        self.rules = RuleFile(self.rules_path, self.clock.now)
        self.silences = SilenceBook(self.clock.now)
        self.escalations = Escalations(self.clock, self.rules, self.silences)
        kit = KitMetrics("incidents-test")
        self.intake = AlertIntake(self.clock, IncidentMetrics(kit.registry), rules=self.rules,
                                  catalog=self.catalog, silences=self.silences,
                                  escalations=self.escalations, problems=Problems())
        self.wheel = TimerWheel(self.store, None, self.clock,
                                {ESCALATION_TIMER: self._fire}, kit)

    async def _fire(self, tx: Any, timer: Any) -> None:
        await self.escalations.on_timer(tx, timer)
        self.emitted += [Envelope.from_bytes(m.payload) for m in tx.emitted]

    async def start(self) -> Harness:
        await self.store.create_all()
        return self

    async def restart(self) -> None:
        """A new process on the same database: nothing survives but what was stored."""
        await self.store.close()
        self._open()
        await self.store.create_all()

    async def close(self) -> None:
        await self.store.close()

    async def feed(self, *events: EventAccepted) -> list[Envelope]:
        """One batch; returns the envelopes it emitted."""
        batch = []
        for event in events:
            envelope = Envelope.wrap(event, source="test", id=f"m{next(_ids)}")
            batch.append((Delivery("s", b"", envelope.id, {}), (envelope, event)))
        async with self.store.transaction() as tx:
            await self.intake(tx, batch)
        out = [Envelope.from_bytes(m.payload) for m in tx.emitted]
        self.emitted += out
        return out

    async def fire_timers(self) -> int:
        return await self.wheel.fire_due()

    async def silence(self, *matchers: str, start: float = 0, end: float | None = 3600,
                      sid: str = "SIL0000001") -> None:
        async with self.store.transaction() as tx:
            await insert_silence(tx.session, _silence(*matchers, start=start, end=end,
                                                      sid=sid))
        self.silences.invalidate()

    async def incidents(self) -> list[Any]:
        async with self.store.read() as session:
            ids = [r.incident_id for r in await session.execute(
                store.select(store.incidents.c.incident_id).order_by(store.incidents.c.seq))]
            found = await store.load_incidents(session, ids)
        return [found[i] for i in ids]

    async def timeline(self, incident_id: str) -> list[Any]:
        async with self.store.read() as session:
            return await store.timeline_of(session, incident_id)

    def types(self, envelopes: list[Envelope] | None = None) -> list[str]:
        """Event types without ``itsm.incident.`` and the version: opened, problem.opened."""
        return [e.type.removeprefix("itsm.incident.").rsplit(".", 1)[0]
                for e in (self.emitted if envelopes is None else envelopes)]

    alert = staticmethod(alert)


@pytest.fixture
async def harness(tmp_path: Path):
    """Factory: ``await harness(rules=..., catalog=...)``; closed after the test."""
    made: list[Harness] = []

    async def make(rules: str | None = None, catalog: str | None = None) -> Harness:
        made.append(await Harness(tmp_path, rules, catalog).start())
        return made[-1]

    yield make
    for h in made:
        await h.close()


def _silence(*matchers: str, start: float, end: float | None, sid: str) -> Silence:
    return Silence(silence_id=sid, kind="maintenance", matchers=matchers,
                   starts_at=T0 + timedelta(seconds=start),
                   ends_at=None if end is None else T0 + timedelta(seconds=end),
                   author="alice", reason="planned", created_at=T0)


class Core:
    """The correlation engine called as a function, batch after batch, on one in-memory
    snapshot: what a database would hold between batches is the snapshot's objects."""

    def __init__(self, rules: str | None = None, catalog: str | None = None) -> None:
        self.clock = FrozenClock(T0)
        self.rules: RuleSet = (parse(rules, "rules.yaml") if rules is not None
                               else RuleFile(None).current())
        self.catalog = (ServiceCatalog.model_validate(yaml.safe_load(catalog))
                        if catalog is not None else None)
        self.snapshot = Snapshot(last_number=0)
        self.silences: list[Silence] = []
        self.entries: list[dict[str, Any]] = []
        self.emitted: list[Envelope] = []

    def match(self, fields: dict[str, str], at: datetime) -> Silence | None:
        return first_match(self.silences, fields, at)

    def feed(self, *events: EventAccepted) -> list[Envelope]:
        """One batch; returns the envelopes it would publish."""
        arrivals = [route(self.rules, Envelope.wrap(e, source="test", id=f"m{next(_ids)}"), e)
                    for e in events]
        decisions = decide(self.snapshot, arrivals, self.rules, self.catalog, self,
                           self.clock.now())
        self.entries += decisions.timeline.entries
        out = [p.cause.caused(p.event, source=SOURCE, subject=p.incident.incident_id)
               for p in decisions.events]
        self.emitted += out
        return out

    def silence(self, *matchers: str, start: float = 0, end: float | None = 3600,
                sid: str = "SIL0000001") -> None:
        self.silences.append(_silence(*matchers, start=start, end=end, sid=sid))

    def incidents(self) -> list[Any]:
        return sorted(self.snapshot.incidents.values(), key=lambda i: i.incident_id)

    def timeline(self, incident_id: str) -> list[Any]:
        return [SimpleNamespace(**e) for e in self.entries if e["incident_id"] == incident_id]

    types = Harness.types
    alert = staticmethod(alert)


@pytest.fixture
def core():
    """Factory: ``core(rules=..., catalog=...)``."""
    return Core
