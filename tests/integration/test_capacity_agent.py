"""Capacity alerts carrying values -> a forecast decision and an urgency proposal."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from reasonops_agent_capacity.app import CapacitySettings
from reasonops_agent_capacity.app import build_service as build_capacity
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.agents import AgentDecisionRecorded, AgentProposalRecorded
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime.jetstream import drained
from tests.support import publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def grafana_disk(value: float, at: datetime) -> Envelope:
    event = EventAccepted(
        fingerprint="a3c0f1e2d3b4c5d6", status="firing", name="DiskAlmostFull",
        severity="warning", service="file-share", resource="fs-03",
        summary=f"/data on fs-03 is {value:g}% full",
        labels={"alertname": "DiskAlmostFull", "host": "fs-03", "mountpoint": "/data"},
        annotations={"values": json.dumps({"B": value, "C": 1})},
        starts_at=at, received_at=at, source_format="alertmanager")
    return Envelope.wrap(event, source="ingest", subject=event.fingerprint)


def opened() -> Envelope:
    event = IncidentOpened(incident_id="INC0000077", title="DiskAlmostFull", service="file-share",
                           resource="fs-03", severity="warning", impact=2, urgency=2,
                           priority=3, priority_reason="test", fingerprint="a3c0f1e2d3b4c5d6",
                           opened_at=T0)
    return Envelope.wrap(event, source="incidents", subject="INC0000077")


async def test_growing_disk_gets_a_forecast_and_an_urgency_proposal(nc, start_service):
    # Four points before the first forecast, however the consumer batches them.
    await start_service(build_capacity, CapacitySettings, min_points=4)
    await publish_all(nc, [opened()])
    await drained(nc.jetstream(), "INCIDENTS", "agent-capacity-incidents")
    await publish_all(nc, [grafana_disk(80 + 4 * h, T0 + timedelta(hours=h)) for h in range(4)])

    async def decided():
        found = await stream_messages(nc, "AGENTS", subjects.AGENT_DECISION)
        return [e.decode(AgentDecisionRecorded) for e in found]

    [decision] = await wait_for(decided, timeout=30)
    out = decision.output
    assert decision.agent == "capacity"
    assert decision.incident_id == "INC0000077"
    assert out.points == 4
    assert out.latest_value == 92
    assert out.slope_per_hour == pytest.approx(4.0)
    assert out.hours_to_exhaustion == pytest.approx(2.0)
    assert out.suggested_urgency == 1
    [proposal] = [e.decode(AgentProposalRecorded) for e in
                  await wait_for(lambda: stream_messages(nc, "AGENTS", subjects.AGENT_PROPOSAL))]
    assert (proposal.action, proposal.target, proposal.parameters["urgency"]) == (
        "raise_urgency", "INC0000077", "1")
    assert proposal.requires_approval


async def test_forecast_on_request_for_a_flat_series(nc, start_service):
    from reasonops_contracts.agents import CapacityRequested
    from reasonops_runtime import FrozenClock
    await start_service(build_capacity, CapacitySettings,
                        clock=FrozenClock(T0 + timedelta(hours=3)), min_points=5)
    await publish_all(nc, [grafana_disk(70.0 + (h % 2) * 0.5, T0 + timedelta(hours=h))
                           for h in range(3)])
    await drained(nc.jetstream(), "INGEST", "agent-capacity")
    series = "file-share|fs-03|DiskAlmostFull|/data"
    await publish_all(nc, [Envelope.wrap(CapacityRequested(request_id="CAP-1", series=series),
                                         source="orchestrator")])
    [envelope] = await wait_for(lambda: stream_messages(nc, "AGENTS", subjects.AGENT_DECISION))
    out = envelope.decode(AgentDecisionRecorded).output
    assert (out.series, out.points, out.suggested_urgency) == (series, 3, 3)
    assert out.hours_to_exhaustion is None or out.hours_to_exhaustion > 24
    assert await stream_messages(nc, "AGENTS", subjects.AGENT_PROPOSAL) == []


async def test_points_older_than_the_lookback_are_forgotten(nc, start_service):
    from sqlalchemy import select

    from reasonops_agent_capacity.store import points
    service = await start_service(build_capacity, CapacitySettings, lookback_hours=6)
    await publish_all(nc, [grafana_disk(50 + h / 10, T0 + timedelta(hours=h))
                           for h in range(10)])
    await drained(nc.jetstream(), "INGEST", "agent-capacity")
    async with service.store.read() as session:
        kept = sorted((await session.execute(select(points.c.at))).scalars())
    # What the last point's forecast reads: the six hours before it, nothing older.
    assert kept == [T0 + timedelta(hours=h) for h in range(3, 10)]
