"""Replays a 30-minute outage (tests/data/outage.jsonl: 211 alerts, 12 hosts, 3 services,
payments-db failing first) through the incident service on a real nats-server, with a
test clock, and checks the exact incidents, groupings, probable cause and escalations."""

import json
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    CreateSilence,
    GetIncident,
    GetSilence,
    IncidentEscalated,
    IncidentList,
    IncidentMajorDeclared,
    IncidentView,
    ListIncidents,
    SilenceView,
)
from reasonops_contracts.ingest import EventAccepted
from reasonops_incidents.app import IncidentSettings, build_service
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_runtime.jetstream import drained
from reasonops_runtime.store import timers_table
from tests.support import publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _fixture() -> list[tuple[int, Envelope]]:
    found = []
    for line in (DATA / "outage.jsonl").read_text().splitlines():
        row = json.loads(line)
        event = EventAccepted(
            fingerprint=row["fingerprint"], status=row["status"], name=row["name"],
            severity=row["severity"], service=row["service"], resource=row["resource"],
            summary=row["summary"], labels=row["labels"],
            received_at=T0 + timedelta(seconds=row["at"]), source_format="alertmanager")
        found.append((row["at"], Envelope.wrap(event, source="ingest")))
    return found


async def _settled(nc, service) -> None:
    """Every published alert handled and no timer due at the test clock's time."""
    js = nc.jetstream()
    await drained(js, "INGEST", "incidents")

    async def idle():
        async with service.store.read() as session:
            due = (await session.execute(select(func.count()).select_from(timers_table).where(
                timers_table.c.due_at <= service.clock.now()))).scalar()
        return due == 0
    await wait_for(idle, timeout=30)


async def test_outage_replay(nc, start_service):
    clock = FrozenClock(T0)
    service = await start_service(
        build_service, IncidentSettings, clock=clock,
        correlation_rules=DATA / "outage-rules.yaml",
        service_catalog=DATA / "outage-catalog.yaml")
    silence = await request(nc, CreateSilence(
        kind="maintenance", matchers=["service=search", "resource=search-4"],
        ends_at=T0 + timedelta(minutes=30), author="alice", reason="re-indexing"), SilenceView)

    alerts = _fixture()
    assert len(alerts) == 211
    for at, step in groupby(alerts, key=lambda a: a[0]):
        if at >= 700 and clock.now() < T0 + timedelta(seconds=700):
            clock.set(T0 + timedelta(seconds=700))
            await _settled(nc, service)
            await request(nc, AcknowledgeIncident(incident_id="INC0000002", actor="bob"),
                          IncidentView)
        clock.set(T0 + timedelta(seconds=at))
        await publish_all(nc, [envelope for _, envelope in step])
        await _settled(nc, service)
    clock.set(T0 + timedelta(minutes=60))
    await _settled(nc, service)

    found = await request(nc, ListIncidents(descending=False), IncidentList)
    summary = [(i.incident_id, i.rule, i.group_key, i.state, f"P{i.priority}", i.alert_count,
                i.assignment_group, i.major, i.escalation_level) for i in found.items]
    assert summary == [
        ("INC0000001", "payments-db", "payments-db:service=payments-db", "resolved", "P2",
         19 + 19 + 12, "dba", False, 2),
        ("INC0000002", "checkout", "checkout:service=checkout,alertname=HighErrorRate",
         "resolved", "P1", 109, "payments", True, 2),
        ("INC0000003", "search", "search:service=search,alertname=DiskUsageHigh", "resolved",
         "P3", 7, "discovery", False, 1),
        ("INC0000004", "search", "search:service=search,alertname=NodeCPUHigh", "resolved",
         "P3", 2, "discovery", False, 1),
    ]
    db, checkout, disk, cpu = found.items
    assert db.opened_at == T0 + timedelta(seconds=60)
    assert checkout.opened_at == T0 + timedelta(seconds=160)  # web-3: the third resource
    assert checkout.resource is None
    assert checkout.probable_cause is not None
    assert (checkout.probable_cause.service, checkout.probable_cause.incident_id) == (
        "payments-db", "INC0000001")
    assert checkout.acknowledged_at == T0 + timedelta(seconds=700)
    assert checkout.resolved_at == T0 + timedelta(seconds=1360)  # web-6, the last one
    assert db.resolved_at == T0 + timedelta(seconds=1210)

    escalations = [(e.subject, e.data["level"], e.data["target"], e.data["escalated_at"])
                   for e in await stream_messages(nc, "INCIDENTS", IncidentEscalated.SUBJECT)]
    assert escalations == [
        ("INC0000002", 2, "payments-l2", "2026-11-20T09:07:40Z"),  # opened 09:02:40 + 5m
        ("INC0000001", 2, "dba-l2", "2026-11-20T09:11:00Z"),  # opened 09:01:00 + 10m
    ]
    majors = await stream_messages(nc, "INCIDENTS", IncidentMajorDeclared.SUBJECT)
    assert [m.subject for m in majors] == ["INC0000002"]

    # the flapping disk check: resolved, reopened, resolved, then its churn ignored
    disk_view = await request(nc, GetIncident(incident_id=disk.incident_id), IncidentView)
    kinds = [e.kind for e in disk_view.timeline]
    assert kinds.count("flapping") == 1
    assert [e.detail.split(":")[0] for e in disk_view.timeline if e.kind == "state_changed"] \
        == ["new -> resolved", "resolved -> new", "new -> resolved"]
    assert cpu.firing_alerts == 0

    view = await request(nc, GetIncident(incident_id="INC0000002"), IncidentView)
    kinds = [e.kind for e in view.timeline if e.kind != "alert_joined"]
    assert kinds == ["probable_cause", "opened", "assigned", "major_declared", "escalated",
                     "state_changed", "state_changed"]
    assert [e.detail for e in view.timeline if e.kind == "alert_joined"][:3] == [
        "alert HighErrorRate (error) on web-4 joined",
        "alert HighErrorRate (error) on web-5 joined",
        "alert HighErrorRate (error) on web-6 joined"]
    assert next(e for e in view.timeline if e.kind == "state_changed").actor == "user:bob"

    # search-4 under maintenance: recorded and visible, no incident, nobody paged
    held = await request(nc, GetSilence(silence_id=silence.silence_id), SilenceView)
    assert held.matched_alerts == 15
    assert [a.resource for a in held.alerts] == ["search-4"]
    assert all(i.service != "search" or i.resource != "search-4" for i in found.items)
    samples = {group: service.registry.get_sample_value(
        "reasonops_incident_escalations_total", {"assignment_group": group})
        for group in ("dba", "payments")}
    assert samples == {"dba": 1.0, "payments": 1.0}
    assert service.registry.get_sample_value("reasonops_incident_alerts_total",
                                             {"outcome": "silenced"}) == 15
