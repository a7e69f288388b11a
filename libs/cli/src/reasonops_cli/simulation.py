"""What-if replay: a history of monitoring events through the real incident, SLM and
finance services on a simulated clock.

The services are the installed ones, found through the ``reasonops.services`` entry
points and built with ``build_service(None, clock=...)`` from environment settings, so
this module imports none of them. They run in this process against an embedded
nats-server in a throwaway directory; one ``FrozenClock`` is their time. The history
is replayed in steps: the clock is set to the start of a step, the timers due by then
fire (the simulation fires them itself, in every service, until none is due: no timer
races the step's events), the step's events are published, and the next step waits
until every consumer has caught up. Times inside a step are therefore rounded down to
the step (``step_seconds``); steps without events are skipped, so a timer due between
two events fires when the clock reaches the second.

A firing alert for a fingerprint that is already firing only raises its incident's
alert count; such repeats are counted and not replayed, which keeps a storm-heavy
history fast without changing a clock, a breach or a penalty.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reasonops_contracts import Envelope, durables, streams
from reasonops_contracts.finance import FinanceSummary, GetFinanceSummary
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    CloseIncident,
    IncidentOpened,
    IncidentView,
    ResolveIncident,
)
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.slm import GetSlaReport, MonthAssessed, SlaReport
from reasonops_runtime import FrozenClock
from reasonops_runtime.broker import connect
from reasonops_runtime.claims import Signer, attach
from reasonops_runtime.client import request
from reasonops_runtime.jetstream import consumer_filters, drained
from reasonops_runtime.ports import free_port
from reasonops_runtime.timers import TimerWheel

from .credentials import OPERATOR, ensure_identities, registry_file, seed_file
from .history import HistoryError, HistoryEvent, steps, without_repeats
from .natsd import EmbeddedNats
from .run import installed_services

SERVICES = ("incidents", "slm", "finance")
INGEST, INCIDENTS, SLM = streams.INGEST.name, streams.INCIDENTS.name, streams.SLM.name
CONSUMERS = ((INGEST, durables.INCIDENTS_ALERTS), (INCIDENTS, durables.SLM_INCIDENTS),
             (INCIDENTS, durables.FINANCE_INCIDENTS), (SLM, durables.FINANCE_SLM))
PACED = CONSUMERS[:2]
"""What must have caught up before the clock moves on: the services that read the clock
for what they record (incidents) or fire timers against it (SLM). Finance books with the
events' own times and may lag behind until the end."""
COMMANDS = {"acknowledge": AcknowledgeIncident, "resolve": ResolveIncident,
            "close": CloseIncident}


@dataclass
class SimulationResult:
    events: int
    steps: int
    months: list[str]
    repeats: int = 0
    reports: dict[str, SlaReport] = field(default_factory=dict)
    summaries: dict[str, FinanceSummary] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"events": self.events, "steps": self.steps, "months": self.months,
                "repeats_not_replayed": self.repeats,
                "sla": {m: r.model_dump(mode="json") for m, r in self.reports.items()},
                "finance": {m: s.model_dump(mode="json") for m, s in self.summaries.items()}}


def _months(first: datetime, last: datetime) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = year + month // 12, month % 12 + 1
    return months


class Simulation:
    def __init__(self, *, sla: Path, contracts: Path, finance: Path | None = None,
                 catalog: Path | None = None, step_seconds: int = 60) -> None:
        self.files = {"REASONOPS_SLA_POLICIES": sla, "REASONOPS_SUPPLIER_CONTRACTS": contracts,
                      "REASONOPS_FINANCE_CONFIG": finance, "REASONOPS_SERVICE_CATALOG": catalog}
        self.step = timedelta(seconds=step_seconds)
        self.incidents: dict[str, str] = {}
        self.assessed: set[str] = set()
        self.wheels: list[TimerWheel] = []
        self.filters: dict[tuple[str, str], list[str]] = {}
        """Each consumer's subjects, asked once: a settle then asks only for the last
        message of each, all at once."""

    async def run(self, events: list[HistoryEvent]) -> SimulationResult:
        if not events:
            raise HistoryError("the history has no events")
        months = _months(events[0].at, events[-1].at)
        # Nothing of a simulation needs to survive it: keep it in memory where we can.
        scratch = _scratch()
        with tempfile.TemporaryDirectory(prefix="reasonops-simulate-", dir=scratch) as tmp:
            nats = EmbeddedNats(Path(tmp) / "jetstream", port=free_port(), monitor_port=None)
            nats.start()
            try:
                return await self._run(events, months, nats.url, Path(tmp))
            finally:
                nats.stop()

    async def _run(self, events: list[HistoryEvent], months: list[str], url: str,
                   data: Path) -> SimulationResult:
        clock = FrozenClock(events[0].at)
        ensure_identities(data)  # its own stack, its own identities
        async with AsyncExitStack() as stack:
            services = []
            for name in SERVICES:
                service = self._build(name, url, data, clock)
                await service.start()
                stack.push_async_callback(service.stop)
                services.append(service)
            self.wheels = [s.timers for s in services if s.timers is not None]
            nc = await connect(url, "reasonops-simulate")
            attach(nc, Signer.from_file(OPERATOR, seed_file(data, OPERATOR)))
            stack.push_async_callback(nc.drain)
            await nc.subscribe(IncidentOpened.SUBJECT, cb=self._on_opened)
            await nc.subscribe(MonthAssessed.SUBJECT, cb=self._on_assessed)
            replayed, repeats = without_repeats(events)
            count = 0
            for count, (start, group) in enumerate(steps(replayed, self.step), start=1):  # noqa: B007
                clock.set(start)
                await self._fire_timers(nc)
                await self._replay(nc, group)
                await self._settle(nc, PACED)
            clock.set(_after(months[-1]))
            await self._fire_timers(nc)
            await self._wait_assessed(nc, months)
            result = SimulationResult(events=len(events), steps=count, months=months,
                                      repeats=repeats)
            for month in months:
                result.reports[month] = await request(nc, GetSlaReport(month=month), SlaReport,
                                                      timeout=60)
                result.summaries[month] = await request(
                    nc, GetFinanceSummary(month=month), FinanceSummary, timeout=60)
            return result

    def _build(self, name: str, url: str, data: Path, clock: FrozenClock) -> Any:
        env = {"REASONOPS_NATS_URL": url, "REASONOPS_DATA_DIR": str(data),
               "REASONOPS_HTTP_PORT": str(free_port()), "REASONOPS_FETCH_TIMEOUT": "1",
               # The simulation fires the timers itself, when it moves the clock.
               "REASONOPS_TIMER_POLL_SECONDS": "86400", "REASONOPS_OUTBOX_POLL_SECONDS": "1",
               "REASONOPS_BATCH_SIZE": "1000",
               # Each step waits for incidents and SLM (PACED): no batch of theirs may wait.
               **({"REASONOPS_BACKGROUND_BATCH_SECONDS": "0"} if name != "finance" else {}),
               "REASONOPS_IDENTITY_KEY": str(seed_file(data, name)),
               "REASONOPS_IDENTITIES": str(registry_file(data)),
               # A replayed history acts as the past did: no role policy of today's.
               "REASONOPS_POLICY": "",
               **{k: str(v) if v else "" for k, v in self.files.items()}}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            return installed_services()[name].load()(None, clock=clock)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    async def _on_opened(self, msg: Any) -> None:
        event = Envelope.from_bytes(msg.data).decode(IncidentOpened)
        self.incidents[event.fingerprint] = event.incident_id

    async def _on_assessed(self, msg: Any) -> None:
        self.assessed.add(Envelope.from_bytes(msg.data).decode(MonthAssessed).month)

    async def _replay(self, nc: Any, group: list[HistoryEvent]) -> None:
        js = nc.jetstream()
        alerts = [Envelope.wrap(e.alert, source="ingest") for e in group if e.alert]
        await asyncio.gather(*(js.publish(EventAccepted.SUBJECT, env.to_bytes(),
                                          headers=env.headers()) for env in alerts))
        actions = [e for e in group if e.action]
        if not actions:
            return
        if alerts:  # the incidents they act on reflect this step's alerts first
            await self._settle(nc, PACED[:1])
        # An incident's actions in their order; different incidents' at once.
        by_incident: dict[str, list[HistoryEvent]] = {}
        for event in actions:
            incident_id = self.incidents.get(event.fingerprint or "")
            if incident_id is not None:
                by_incident.setdefault(incident_id, []).append(event)
        await asyncio.gather(*(self._act(nc, incident_id, events)
                               for incident_id, events in by_incident.items()))

    async def _act(self, nc: Any, incident_id: str, events: list[HistoryEvent]) -> None:
        for event in events:
            command = COMMANDS[event.action or ""](incident_id=incident_id, actor="history")
            try:
                await request(nc, command, IncidentView, timeout=30)
            except Exception:
                continue  # not allowed in its state now (say, closed twice): as it was

    async def _fire_timers(self, nc: Any) -> None:
        """Fire every timer due at the clock's time, in each service, until none is left
        (a timer may arm another one already due), with what they emitted handled."""
        while True:
            fired = 0
            for wheel in self.wheels:  # the services arm every timer in this process
                fired += await wheel.look() if wheel.due() else 0
            if not fired:
                return
            await self._settle(nc, PACED)

    async def _settle(self, nc: Any, consumers: tuple[tuple[str, str], ...] = CONSUMERS
                      ) -> None:
        """Wait until ``consumers`` have handled everything published to them, in order, so
        each one's target includes what the one before it emitted (see ``drained``)."""
        js = nc.jetstream()
        for stream, consumer in consumers:
            filters = self.filters.get((stream, consumer))
            if filters is None:
                filters = self.filters[(stream, consumer)] = await consumer_filters(
                    js, stream, consumer)
            await drained(js, stream, consumer, timeout=600, filters=filters)

    async def _wait_assessed(self, nc: Any, months: list[str]) -> None:
        for _ in range(30_000):
            if set(months) <= self.assessed:
                break
            await asyncio.sleep(0.01)
        await self._settle(nc)


def _scratch() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _after(month: str) -> datetime:
    year, number = (int(x) for x in month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1, 0, 0, 1, tzinfo=UTC)
