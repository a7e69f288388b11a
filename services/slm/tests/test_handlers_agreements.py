"""Retroactive start, hold reasons, priority changes and OLAs through the SLM handlers,
against a real SQLite store and a frozen clock."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentHeld,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentResumed,
)
from reasonops_contracts.slm import SlaPaused, SlaResumed
from reasonops_runtime import FrozenClock, Store
from reasonops_runtime.metrics import KitMetrics
from reasonops_runtime.timers import TimerWheel
from reasonops_slm import store as slm_store
from reasonops_slm.config import SlaConfig
from reasonops_slm.domain import PolicyBook, SlaPolicy
from reasonops_slm.handlers import SlaClocks
from reasonops_slm.metrics import SlmMetrics
from reasonops_slm.shell import DEADLINE_TIMER

from .test_handlers import outbox

INC = "INC0000001"
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BOOK = PolicyBook(
    [SlaPolicy("P1", 1, 900, 4 * 3600, retroactive=True),
     SlaPolicy("P2", 2, 1800, 8 * 3600, pause_on=frozenset({"awaiting_supplier"})),
     *(SlaPolicy(f"P{p}", p, 3600, 86400) for p in (3, 4, 5))],
    [SlaPolicy("OLA payments P1", 1, 600, 2 * 3600, service="payments")])


@pytest.fixture
async def env(tmp_path):
    clock = FrozenClock(T0)
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'slm.db'}", slm_store.metadata, clock=clock)
    await store.create_all()
    clocks = SlaClocks(config=SlaConfig(BOOK), contracts=[], clock=clock,
                       metrics=SlmMetrics(CollectorRegistry()))
    wheel = TimerWheel(store, None, clock, {DEADLINE_TIMER: clocks.on_deadline},
                       KitMetrics("slm"))
    yield store, clocks, clock, wheel
    await store.close()


async def send(store, clocks, *events):
    async with store.transaction() as tx:
        await clocks.router()(tx, [(None, Envelope.wrap(e, source="incidents", subject=INC))
                                   for e in events])


async def clocks_of(store, clocks):
    async with store.read() as session:
        return {(c.agreement, c.kind): c
                for c in await slm_store.clocks_for(session, INC, clocks.calendars)}


def opened(priority, first_alert_at=None):
    return IncidentOpened(incident_id=INC, title="down", service="checkout",
                          severity="critical", impact=1, urgency=1, priority=priority,
                          priority_reason="t", fingerprint="fp", opened_at=T0,
                          first_alert_at=first_alert_at)


async def test_retroactive_start_counts_from_the_first_alert(env):
    store, clocks, _, _ = env
    await send(store, clocks, opened(1, first_alert_at=T0 - timedelta(minutes=10)))
    found = await clocks_of(store, clocks)
    assert found[("sla", "response")].started_at == T0 - timedelta(minutes=10)
    assert found[("sla", "response")].deadline == T0 + timedelta(minutes=5)


async def test_without_retroactive_start_the_opening_counts(env):
    store, clocks, _, _ = env
    await send(store, clocks, opened(2, first_alert_at=T0 - timedelta(minutes=10)))
    assert (await clocks_of(store, clocks))[("sla", "response")].started_at == T0


async def test_only_listed_hold_reasons_pause(env):
    store, clocks, _, _ = env
    await send(store, clocks, opened(2))
    held = IncidentHeld(incident_id=INC, held_at=T0 + timedelta(minutes=5), actor="a",
                        reason="awaiting_caller", previous_state="new")
    await send(store, clocks, held)
    assert not any(c.paused for c in (await clocks_of(store, clocks)).values())
    await send(store, clocks, held.model_copy(update={"reason": "awaiting_supplier"}))
    assert all(c.paused for c in (await clocks_of(store, clocks)).values())
    await send(store, clocks, IncidentResumed(incident_id=INC, resumed_at=T0 + timedelta(hours=1),
                                              actor="a", state="new"))
    found = await clocks_of(store, clocks)
    assert found[("sla", "response")].deadline == T0 + timedelta(minutes=30 + 55)
    types = {e.type for e in await outbox(store)}
    assert {SlaPaused.TYPE, SlaResumed.TYPE} <= types


async def test_priority_change_re_measures_from_the_start_and_breaches_at_the_deadline(env):
    store, clocks, clock, wheel = env
    await send(store, clocks, opened(2))
    clock.set(T0 + timedelta(minutes=20))
    await send(store, clocks, IncidentPriorityChanged(
        incident_id=INC, priority=1, previous_priority=2, impact=1, urgency=1,
        changed_at=clock.now(), actor="m", reason="r"))
    found = await clocks_of(store, clocks)
    assert (found[("sla", "response")].priority,
            found[("sla", "response")].deadline) == (1, T0 + timedelta(minutes=15))
    await wheel.fire_due()
    found = await clocks_of(store, clocks)
    assert found[("sla", "response")].state == "breached"
    assert found[("sla", "resolution")].state == "running"


async def test_ola_runs_per_assignment_group(env):
    store, clocks, _, _ = env
    await send(store, clocks, opened(1))
    await send(store, clocks, IncidentAssigned(
        incident_id=INC, assignment_group="payments", assigned_at=T0 + timedelta(minutes=2),
        actor="t", reason="owner"))
    found = await clocks_of(store, clocks)
    ola = found[("ola", "response")]
    assert (ola.party, ola.deadline) == ("payments", T0 + timedelta(minutes=12))
    await send(store, clocks, IncidentAcknowledged(
        incident_id=INC, acknowledged_at=T0 + timedelta(minutes=8), actor="a"))
    found = await clocks_of(store, clocks)
    assert found[("ola", "response")].state == "met"
    assert found[("ola", "resolution")].state == "running"
    # Reassigned: the group's OLA stops where it stands; a group without an OLA gets none.
    await send(store, clocks, IncidentAssigned(
        incident_id=INC, assignment_group="dba", previous_group="payments",
        assigned_at=T0 + timedelta(minutes=30), actor="t", reason="db"))
    found = await clocks_of(store, clocks)
    assert found[("ola", "resolution")].state == "met"
