"""SLM on a real nats-server: clocks start, stop, breach, and survive a restart."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentAcknowledged, IncidentOpened
from reasonops_contracts.slm import (
    GetSlaStatus,
    PenaltyAssessed,
    SlaBreached,
    SlaMet,
    SlaStarted,
    SlaStatus,
)
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_runtime.ports import free_port
from reasonops_slm.app import SlmSettings, build_service
from tests.support import publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

CONTRACTS = Path(__file__).resolve().parents[2] / "examples" / "config" / "supplier-contracts.yaml"


def opened(incident_id, at, priority=1, service="checkout") -> Envelope:
    event = IncidentOpened(incident_id=incident_id, title=f"{service} down", service=service,
                           severity="critical", impact=1, urgency=1, priority=priority,
                           priority_reason="test", fingerprint=f"fp-{incident_id}", opened_at=at)
    return Envelope.wrap(event, source="incidents", subject=incident_id)


def acknowledged(incident_id, at) -> Envelope:
    event = IncidentAcknowledged(incident_id=incident_id, acknowledged_at=at, actor="ann")
    return Envelope.wrap(event, source="incidents", subject=incident_id)


async def slm_events(nc, model):
    return [(e, e.decode(model)) for e in await stream_messages(nc, "SLM", model.SUBJECT)]


def count(n):
    return lambda found: len(found) == n


async def test_opening_starts_clocks_and_acknowledging_meets_the_response(nc, start_service):
    clock = FrozenClock()
    await start_service(build_service, SlmSettings, clock=clock)
    opening = opened("INC0000001", clock.now(), priority=2)
    await publish_all(nc, [opening])
    started = await wait_for(lambda: slm_events(nc, SlaStarted), check=count(2))
    assert {s.kind: s.target_seconds for _, s in started} == {"response": 1800,
                                                              "resolution": 8 * 3600}
    assert all(e.causation_id == opening.id and e.correlation_id == opening.correlation_id
               for e, _ in started)

    await publish_all(nc, [acknowledged("INC0000001", clock.now() + timedelta(minutes=10))])
    ((_, met),) = await wait_for(lambda: slm_events(nc, SlaMet), check=count(1))
    assert (met.kind, met.elapsed_seconds) == ("response", 600.0)

    clock.advance(timedelta(hours=2))
    status = await request(nc, GetSlaStatus(incident_id="INC0000001"), SlaStatus)
    views = {c.kind: c for c in status.clocks}
    assert views["response"].state == "met"
    assert views["resolution"].state == "running"
    assert views["resolution"].percent_consumed == 25.0
    assert views["resolution"].remaining_seconds == 6 * 3600
    assert status.penalties == []


async def test_status_of_an_unknown_incident_has_no_clocks(nc, start_service):
    await start_service(build_service, SlmSettings)
    status = await request(nc, GetSlaStatus(incident_id="INC0009999"), SlaStatus)
    assert status.clocks == []


async def test_a_passed_deadline_breaches_and_costs_the_supplier(nc, start_service):
    clock = FrozenClock()
    slm = await start_service(build_service, SlmSettings, clock=clock,
                              supplier_contracts=CONTRACTS)
    opening = opened("INC0000002", clock.now())
    await publish_all(nc, [opening])
    await wait_for(lambda: slm_events(nc, SlaStarted), check=count(2))

    clock.advance(timedelta(minutes=16))
    await slm.timers.fire_due()  # the background wheel may get there first: fires once either way
    ((breach_env, breach),) = await wait_for(lambda: slm_events(nc, SlaBreached), check=count(1))
    ((penalty_env, penalty),) = await wait_for(lambda: slm_events(nc, PenaltyAssessed),
                                               check=count(1))
    assert (breach.kind, breach.priority, breach.service) == ("response", 1, "checkout")
    assert breach_env.correlation_id == opening.correlation_id
    assert breach_env.causation_id == opening.id
    assert penalty_env.causation_id == breach_env.id
    assert (penalty.supplier, penalty.amount, penalty.currency) == ("Acme Hosting",
                                                                    Decimal("500.00"), "EUR")
    assert await slm.timers.fire_due() == 0
    assert len(await slm_events(nc, SlaBreached)) == 1


async def test_a_deadline_that_passed_while_down_fires_on_restart(nc, nats_url, tmp_path,
                                                                 start_service):
    clock = FrozenClock()
    # Started by hand (same data dir as the fixture's) because this one is stopped mid-test.
    first = build_service(SlmSettings(nats_url=nats_url, data_dir=tmp_path / "data",
                                      http_port=free_port(), fetch_timeout=0.1,
                                      supplier_contracts=CONTRACTS), clock=clock)
    await first.start()
    await publish_all(nc, [opened("INC0000003", clock.now())])
    await wait_for(lambda: slm_events(nc, SlaStarted), check=count(2))
    await first.stop()

    clock.advance(timedelta(hours=5))  # both deadlines pass while nobody watches
    assert await slm_events(nc, SlaBreached) == []
    await start_service(build_service, SlmSettings, clock=clock, supplier_contracts=CONTRACTS)
    breaches = await wait_for(lambda: slm_events(nc, SlaBreached), check=count(2))
    assert {b.kind for _, b in breaches} == {"response", "resolution"}
    await wait_for(lambda: slm_events(nc, PenaltyAssessed), check=count(2))
    status = await request(nc, GetSlaStatus(incident_id="INC0000003"), SlaStatus)
    assert {c.state for c in status.clocks} == {"breached"}
    assert sorted(p.kind for p in status.penalties) == ["resolution", "response"]
