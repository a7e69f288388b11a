"""The SLM handlers against a real SQLite store and a frozen clock, without a broker."""

from datetime import timedelta
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_contracts.slm import PenaltyAssessed, SlaBreached, SlaMet, SlaStarted
from reasonops_runtime import FrozenClock, Store
from reasonops_runtime.metrics import KitMetrics
from reasonops_runtime.store import outbox_table, timers_table
from reasonops_runtime.timers import TimerWheel
from reasonops_slm import store as slm_store
from reasonops_slm.config import SlaConfig
from reasonops_slm.domain import DEFAULT_POLICIES
from reasonops_slm.handlers import SlaClocks
from reasonops_slm.metrics import SlmMetrics
from reasonops_slm.penalties import SupplierContract
from reasonops_slm.shell import DEADLINE_TIMER
from reasonops_slm.views import sla_status

ACME = SupplierContract(contract_id="ACME-1", supplier="Acme Hosting",
                        services=frozenset({"checkout"}), currency="EUR",
                        penalties={1: Decimal("500.00")})
INC = "INC0000001"


@pytest.fixture
async def env(tmp_path):
    clock = FrozenClock()
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'slm.db'}", slm_store.metadata, clock=clock)
    await store.create_all()
    clocks = SlaClocks(config=SlaConfig(DEFAULT_POLICIES), contracts=[ACME], clock=clock,
                       metrics=SlmMetrics(CollectorRegistry()))
    wheel = TimerWheel(store, None, clock, {DEADLINE_TIMER: clocks.on_deadline},
                       KitMetrics("slm"))
    yield store, clocks, clock, wheel
    await store.close()


def opened(clock, priority=1, service="checkout"):
    event = IncidentOpened(incident_id=INC, title="checkout down", service=service,
                           severity="critical", impact=1, urgency=1, priority=priority,
                           priority_reason="test", fingerprint="fp", opened_at=clock.now())
    return Envelope.wrap(event, source="incidents", subject=INC), event


async def deliver(store, clocks, *envelopes_and_events):
    """Through the consumer's router, as one fetched batch, the way the service gets them."""
    envelopes = [e for e in envelopes_and_events if isinstance(e, Envelope)]
    async with store.transaction() as tx:
        await clocks.router()(tx, [(None, e) for e in envelopes])


async def outbox(store) -> list[Envelope]:
    async with store.read() as session:
        rows = await session.execute(select(outbox_table.c.payload)
                                     .order_by(outbox_table.c.seq))
        return [Envelope.from_bytes(r.payload) for r in rows]


def of_type(envelopes, model):
    return [(e, e.decode(model)) for e in envelopes if e.type == model.TYPE]


async def timers(store) -> dict[str, object]:
    async with store.read() as session:
        rows = await session.execute(select(timers_table))
        return {r.timer_id: r for r in rows}


async def test_opening_starts_both_clocks_and_arms_their_timers(env):
    store, clocks, clock, _ = env
    envelope, event = opened(clock)
    await deliver(store, clocks, envelope, event)
    started = of_type(await outbox(store), SlaStarted)
    assert {s.kind: s.deadline - s.started_at for _, s in started} == {
        "response": timedelta(minutes=15), "resolution": timedelta(hours=4)}
    assert all(e.causation_id == envelope.id and e.subject == INC for e, _ in started)
    armed = await timers(store)
    # Each clock's timer is due at its first at-risk threshold, half its target.
    assert {r.due_at for r in armed.values()} == {
        s.started_at + (s.deadline - s.started_at) / 2 for _, s in started}
    assert {r.causation_id for r in armed.values()} == {envelope.id}


async def test_an_incident_of_no_known_service_gets_its_clocks_too(env):
    """E.g. a PagerDuty trigger that names no service: no outage is recorded against a
    service's availability, and the opening is still handled (not dead-lettered)."""
    store, clocks, clock, _ = env
    envelope, event = opened(clock, service=None)
    await deliver(store, clocks, envelope, event)
    started = of_type(await outbox(store), SlaStarted)
    assert {s.kind for _, s in started} == {"response", "resolution"}
    async with store.read() as session:
        assert (await session.execute(select(slm_store.outages))).all() == []


async def test_the_same_opening_under_another_id_starts_nothing_more(env):
    store, clocks, clock, _ = env
    envelope, event = opened(clock)
    await deliver(store, clocks, envelope, event)
    await deliver(store, clocks, Envelope.wrap(event, source="incidents"), event)
    assert len(of_type(await outbox(store), SlaStarted)) == 2


async def test_acknowledging_in_time_meets_the_response_clock(env):
    store, clocks, clock, _ = env
    await deliver(store, clocks, *opened(clock))
    ack = IncidentAcknowledged(incident_id=INC, actor="ann",
                               acknowledged_at=clock.now() + timedelta(minutes=5))
    await deliver(store, clocks, Envelope.wrap(ack, source="incidents"), ack)
    ((_, met),) = of_type(await outbox(store), SlaMet)
    assert (met.kind, met.elapsed_seconds, met.target_seconds) == ("response", 300.0, 900)
    assert list(await timers(store)) == [f"{DEADLINE_TIMER}:{INC}-resolution-1"]


async def test_a_passed_deadline_breaches_and_costs_the_supplier(env):
    store, clocks, clock, wheel = env
    envelope, event = opened(clock)
    await deliver(store, clocks, envelope, event)
    clock.advance(timedelta(minutes=16))
    assert await wheel.fire_due() == 1
    sent = await outbox(store)
    ((breach_env, breach),) = of_type(sent, SlaBreached)
    ((penalty_env, penalty),) = of_type(sent, PenaltyAssessed)
    assert breach.kind == "response"
    assert breach_env.correlation_id == envelope.correlation_id
    assert breach_env.causation_id == envelope.id
    assert penalty_env.causation_id == breach_env.id
    assert (penalty.amount, penalty.currency) == (Decimal("500.00"), "EUR")
    assert penalty.penalty_id == f"PEN-{INC}-response-1"
    assert await wheel.fire_due() == 0


async def test_acknowledging_late_before_the_timer_fired_is_a_breach(env):
    store, clocks, clock, _ = env
    await deliver(store, clocks, *opened(clock))
    ack = IncidentAcknowledged(incident_id=INC, actor="ann",
                               acknowledged_at=clock.now() + timedelta(minutes=20))
    await deliver(store, clocks, Envelope.wrap(ack, source="incidents"), ack)
    sent = await outbox(store)
    assert [b.kind for _, b in of_type(sent, SlaBreached)] == ["response"]
    assert len(of_type(sent, PenaltyAssessed)) == 1
    assert not of_type(sent, SlaMet)


async def test_resolving_unacknowledged_stops_both_clocks(env):
    store, clocks, clock, _ = env
    await deliver(store, clocks, *opened(clock))
    done = IncidentResolved(incident_id=INC, actor="ann",
                            resolved_at=clock.now() + timedelta(minutes=10))
    await deliver(store, clocks, Envelope.wrap(done, source="incidents"), done)
    assert {m.kind for _, m in of_type(await outbox(store), SlaMet)} == {"response",
                                                                        "resolution"}
    assert await timers(store) == {}


async def test_reopening_starts_a_new_resolution_clock_from_the_reopen_time(env):
    store, clocks, clock, _ = env
    await deliver(store, clocks, *opened(clock))
    done = IncidentResolved(incident_id=INC, actor="a", resolved_at=clock.advance(600))
    await deliver(store, clocks, Envelope.wrap(done, source="incidents"), done)
    again = IncidentReopened(incident_id=INC, actor="a", reason="x", reopened_at=clock.advance(60))
    for _ in range(2):  # the second delivery is recognised
        await deliver(store, clocks, Envelope.wrap(again, source="incidents"), again)
    new = [s for _, s in of_type(await outbox(store), SlaStarted) if s.started_at == clock.now()]
    assert [(s.clock_id, s.deadline - s.started_at) for s in new] == [
        (f"{INC}-resolution-2", timedelta(hours=4))]


async def test_closing_cancels_what_still_runs(env):
    store, clocks, clock, _ = env
    await deliver(store, clocks, *opened(clock))
    closed = IncidentClosed(incident_id=INC, actor="a", closed_at=clock.advance(60))
    await deliver(store, clocks, Envelope.wrap(closed, source="incidents"), closed)
    async with store.read() as session:
        found = await slm_store.clocks_for(session, INC, {})
    assert {c.state for c in found} == {"cancelled"}
    assert await timers(store) == {}


async def test_status_shows_clocks_and_penalties(env):
    store, clocks, clock, wheel = env
    await deliver(store, clocks, *opened(clock))
    clock.advance(timedelta(minutes=30))
    await wheel.fire_due()
    async with store.read() as session:
        status = sla_status(INC, await slm_store.clocks_for(session, INC, {}),
                            await slm_store.penalties_for(session, INC), clock.now())
    views = {c.kind: c for c in status.clocks}
    assert views["response"].state == "breached"
    assert views["response"].percent_consumed == 200.0
    assert views["resolution"].state == "running"
    assert views["resolution"].remaining_seconds == 3.5 * 3600
    assert [p.amount for p in status.penalties] == [Decimal("500.00")]


async def test_a_run_of_openings_in_one_batch_starts_each_incident_once(env):
    store, clocks, clock, _ = env
    batch = []
    for n in (1, 2, 3):
        event = IncidentOpened(incident_id=f"INC000000{n}", title="down", service="checkout",
                               severity="critical", impact=1, urgency=1, priority=1,
                               priority_reason="test", fingerprint=f"fp{n}",
                               opened_at=clock.now())
        batch.append(Envelope.wrap(event, source="incidents", subject=event.incident_id))
    batch.append(Envelope.wrap(batch[0].decode(IncidentOpened), source="incidents"))
    ack = IncidentAcknowledged(incident_id="INC0000002", actor="ann",
                               acknowledged_at=clock.now() + timedelta(minutes=1))
    batch.append(Envelope.wrap(ack, source="incidents"))
    await deliver(store, clocks, *batch)
    started = of_type(await outbox(store), SlaStarted)
    assert sorted(s.incident_id for _, s in started) == [
        "INC0000001", "INC0000001", "INC0000002", "INC0000002", "INC0000003", "INC0000003"]
    met = of_type(await outbox(store), SlaMet)
    assert [(m.incident_id, m.kind) for _, m in met] == [("INC0000002", "response")]
    assert len(await timers(store)) == 5  # six armed, the acknowledged response disarmed
