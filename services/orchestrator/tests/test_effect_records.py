"""Effects that finish together are recorded in one transaction; if it fails, each is
recorded alone, and nothing the failed transaction did is left. On SQLite and
PostgreSQL, with a real store."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentOpened
from reasonops_orchestrator import effect_store, store
from reasonops_orchestrator.catalog import Catalog
from reasonops_orchestrator.domain import Outcome
from reasonops_orchestrator.handlers import Orchestrator
from reasonops_orchestrator.notify import Notifier
from reasonops_orchestrator.runner import EffectRunner
from reasonops_orchestrator.shell import Shell
from reasonops_orchestrator.validation import parse
from reasonops_orchestrator.workset import Workset
from reasonops_runtime import FrozenClock, Service
from reasonops_runtime.settings import ServiceSettings
from reasonops_runtime.store import outbox_table

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
FLOW = """
name: tell
version: 1
trigger: {event: IncidentOpened, key: incident_id}
steps:
  - {id: tell, kind: notify, group: team, title: "${trigger.incident_id}", text: opened}
"""
INCIDENTS = [f"INC{n:07d}" for n in range(1, 11)]


class Recording(EffectRunner):
    """Counts the transactions results are recorded in; fails the first record of the
    effects of ``failing`` (a database refusing it, say)."""

    def __init__(self, *args: Any, failing: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failing = failing
        self.groups: list[int] = []
        self.alone: list[str] = []

    async def _record_together(self, group: list[Any]) -> Any:
        self.groups.append(len(group))
        return await super()._record_together(group)

    async def _record_alone(self, row: Any, outcome: Outcome, parent: str | None) -> Any:
        self.alone.append(row.workflow_id)
        return await super()._record_alone(row, outcome, parent)

    async def _record(self, ws: Workset, row: Any, outcome: Outcome) -> None:
        await super()._record(ws, row, outcome)
        if row.workflow_id == self.failing:
            self.failing = None
            raise RuntimeError("refused")


async def owed(url: str, clock: FrozenClock, **kwargs: Any) -> Recording:
    """A runner over a store where each of ``INCIDENTS`` started an instance owing one
    notification (to a group with no targets: it succeeds at once)."""
    service = Service("orchestrator", ServiceSettings(database_url=url),
                      metadata=(store.metadata,), clock=clock)
    await service.store.create_all()
    catalog = Catalog()
    catalog.add(parse(FLOW, "tell.yaml"), "tell.yaml")
    shell = Shell(clock)
    orchestrator = Orchestrator(catalog, clock, shell)
    async with service.store.transaction() as tx:
        envelopes = [Envelope.wrap(IncidentOpened(
            incident_id=i, title="Disk full", severity="warning", impact=3, urgency=3,
            priority=4, priority_reason="t", fingerprint=f"fp-{i}", opened_at=T0),
            source="incidents", subject=i) for i in INCIDENTS]
        await orchestrator.on_events(tx, [(e, e.decode(IncidentOpened)) for e in envelopes])
    async with service.store.transaction() as tx:  # only what the records emit counts
        await tx.session.execute(outbox_table.delete())
    return Recording(service, shell, Notifier(), policy=None,  # type: ignore[arg-type]
                     **kwargs)


async def run_owed(runner: EffectRunner) -> None:
    await runner.top_up()
    assert len(runner.running) == len(INCIDENTS)
    await asyncio.wait_for(asyncio.gather(*runner.running.values()), 30)


async def outcome(runner: EffectRunner) -> tuple[dict[str, str], set[str], list[str]]:
    """Each instance's state, the effects' states, and the subjects of the events left
    to publish (one per message)."""
    async with runner.service.store.read() as session:
        states = {i.incident_id or "": i.state for i in await store.find(session)}
        effects = set((await session.execute(select(effect_store.effects.c.state))).scalars())
        emitted = [json.loads(row.payload)["type"] for row in
                   (await session.execute(select(outbox_table))).all()]
    return states, effects, sorted(emitted)


async def test_effects_finished_together_share_a_record(database_url):
    runner = await owed(database_url, FrozenClock(T0))
    try:
        await run_owed(runner)
        states, effects, emitted = await outcome(runner)
        assert states == dict.fromkeys(INCIDENTS, "completed")
        assert effects == {"done"}
        assert runner.groups == [len(INCIDENTS)]  # all finished before the first record
        assert runner.alone == []
        assert emitted.count("itsm.workflow.instance.completed.v1") == len(INCIDENTS)
    finally:
        await runner.service.store.close()


async def test_a_failing_record_rolls_back_its_group_and_each_is_recorded_alone(
        database_url):
    runner = await owed(database_url, FrozenClock(T0), failing=f"tell-{INCIDENTS[3]}")
    try:
        await run_owed(runner)
        states, effects, emitted = await outcome(runner)
        assert states == dict.fromkeys(INCIDENTS, "completed")
        assert effects == {"done"}
        assert f"tell-{INCIDENTS[3]}" in runner.alone  # its group fell back to records alone
        # The rolled-back group left nothing: each step and instance recorded once.
        assert emitted.count("itsm.workflow.instance.completed.v1") == len(INCIDENTS)
        assert emitted.count("itsm.workflow.step.completed.v1") == len(INCIDENTS)
    finally:
        await runner.service.store.close()
