"""Change management on a real nats-server with the incident service and the
orchestrator: the three change types through their approvals (the advisory board's
quorum in the orchestrator), the calendar refusing conflicts and freezes, an
implementing change silencing its services and the incident after it linked, and a
month's change metrics on a FrozenClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from reasonops_changes.app import ChangeSettings
from reasonops_changes.app import build_service as build_changes
from reasonops_contracts import Envelope, ReplyError
from reasonops_contracts.changes import (
    ApproveChange,
    ChangeList,
    ChangeMetrics,
    ChangeView,
    CompleteChange,
    GetChange,
    GetChangeMetrics,
    ListChanges,
    RequestChange,
    StartChange,
)
from reasonops_contracts.incidents import (
    IncidentList,
    IncidentOpened,
    ListIncidents,
    ListSilences,
    SilenceList,
)
from reasonops_contracts.workflows import ApproveStep, GetWorkflow, RejectStep, WorkflowView
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from tests.integration.conftest import CONFIG
from tests.support import accepted, cli, issue_token, publish_all, stream_messages, wait_for

POLICY = """
roles:
  admin: {allow: ["*"]}
  change-manager: {allow: [change.*, workflow.approve, workflow.reject]}
  responder: {allow: [incident.*, change.request]}
principals:
  user:admin: [admin]
  user:tests: [admin]
  user:carol: [change-manager]
  user:dan: [change-manager]
  user:erin: [{role: responder, teams: [discovery]}]
  service:*: [admin]
"""
CHANGES = """
templates:
  tls-certificate-rotation:
    title: Rotate the TLS certificate
    services: [checkout, auth]
    duration: 30m
    implementation_plan: Issue, deploy, reload the ingress
    backout_plan: Put the previous certificate back
freezes:
  - {name: year-end, start: 2026-12-21T00:00:00Z, end: 2027-01-04T00:00:00Z,
     services: [checkout], reason: year-end trading}
link_window: 2h
"""
ADMIN = "user:admin"


@pytest.fixture
def stack(start_service, tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "changes.yaml").write_text(CHANGES)
    shared = {"policy": tmp_path / "policy.yaml",
              "service_catalog": CONFIG / "service-catalog.yaml"}

    async def start(clock=None, *, orchestrator: bool = True, gateway: bool = False):
        await start_service(build_incidents, IncidentSettings, clock=clock, **shared)
        if orchestrator:
            await start_service(build_orchestrator, OrchestratorSettings, clock=clock,
                                policy=tmp_path / "policy.yaml")
        changes = await start_service(build_changes, ChangeSettings, clock=clock,
                                      changes=tmp_path / "changes.yaml", **shared)
        if gateway:
            return await start_service(build_gateway, GatewaySettings, **shared)
        return changes
    return start


def normal(title: str, services: list[str], start: datetime, hours: float = 1,
           **more) -> RequestChange:
    return RequestChange(type="normal", title=title, services=services, planned_start=start,
                         planned_end=start + timedelta(hours=hours), impact=2,
                         implementation_plan="roll out with the canary first",
                         backout_plan="roll back the deployment", actor=ADMIN, **more)


async def ask(nc, message, model):
    return await request(nc, message, model)


async def waiting(nc, workflow_id: str, step: str) -> WorkflowView:
    return await wait_for(lambda: request(nc, GetWorkflow(workflow_id=workflow_id,
                                                          actor=ADMIN), WorkflowView),
                          check=lambda w: any(s.step == step and s.state == "waiting"
                                              for s in w.steps), timeout=20)


async def test_the_three_change_types_go_through_their_approvals(nc, stack):
    await stack()
    soon = datetime.now(UTC) + timedelta(hours=1)
    # Standard: a pre-approved template, approved as requested.
    standard = await ask(nc, RequestChange(type="standard", template="tls-certificate-rotation",
                                           services=["auth"], planned_start=soon, actor=ADMIN),
                         ChangeView)
    assert (standard.state, standard.approved_by) == (
        "approved", ["template:tls-certificate-rotation"])
    assert (standard.risk, standard.planned_end) == ("low", soon + timedelta(minutes=30))

    # Normal: the advisory board's workflow needs two different people.
    normal_one = await ask(nc, normal("Upgrade the search cluster", ["search"], soon),
                           ChangeView)
    assert (normal_one.state, normal_one.risk) == ("requested", "medium")
    cab = f"CAB-{normal_one.change_id}"
    await waiting(nc, cab, "cab")
    await ask(nc, ApproveStep(workflow_id=cab, step="cab", actor="user:carol"), WorkflowView)
    with pytest.raises(ReplyError, match="approved step cab already"):
        await ask(nc, ApproveStep(workflow_id=cab, step="cab", actor="user:carol"),
                  WorkflowView)
    assert (await ask(nc, GetChange(change_id=normal_one.change_id, actor=ADMIN),
                      ChangeView)).state == "requested"
    await ask(nc, ApproveStep(workflow_id=cab, step="cab", actor="user:dan"), WorkflowView)
    approved = await wait_for(lambda: ask(nc, GetChange(change_id=normal_one.change_id,
                                                        actor=ADMIN), ChangeView),
                              check=lambda c: c.state == "approved", timeout=20)
    assert approved.approved_by == ["user:carol", "user:dan"]

    # One rejection decides.
    normal_two = await ask(nc, normal("Change the search analyser", ["search"],
                                      soon + timedelta(hours=2)), ChangeView)
    cab = f"CAB-{normal_two.change_id}"
    await waiting(nc, cab, "cab")
    await ask(nc, ApproveStep(workflow_id=cab, step="cab", actor="user:carol"), WorkflowView)
    await ask(nc, RejectStep(workflow_id=cab, step="cab", actor="user:dan",
                             note="no load test"), WorkflowView)
    rejected = await wait_for(lambda: ask(nc, GetChange(change_id=normal_two.change_id,
                                                        actor=ADMIN), ChangeView),
                              check=lambda c: c.state == "rejected", timeout=20)
    assert rejected.decision == "no load test"

    # Emergency: approved at once, started at once, reviewed after it is done.
    emergency = await ask(nc, RequestChange(
        type="emergency", title="Hotfix the login loop", services=["auth"], impact=1,
        planned_start=datetime.now(UTC), planned_end=datetime.now(UTC) + timedelta(minutes=30),
        implementation_plan="deploy 2.3.1", actor=ADMIN), ChangeView)
    assert (emergency.state, emergency.review_due, emergency.risk) == ("approved", True,
                                                                       "high")
    assert "no back-out plan" in emergency.risk_reason
    await ask(nc, StartChange(change_id=emergency.change_id, actor=ADMIN), ChangeView)
    await ask(nc, CompleteChange(change_id=emergency.change_id, outcome="successful",
                                 actor=ADMIN), ChangeView)
    review = f"ECR-{emergency.change_id}"
    await waiting(nc, review, "review")
    await ask(nc, ApproveStep(workflow_id=review, step="review", actor="user:carol",
                              note="justified: login was down"), WorkflowView)
    reviewed = await wait_for(lambda: ask(nc, GetChange(change_id=emergency.change_id,
                                                        actor=ADMIN), ChangeView),
                              check=lambda c: not c.review_due, timeout=20)
    assert reviewed.reviewed_by == "user:carol"
    types = [e.type for e in await wait_for(lambda: stream_messages(nc, "CHANGES"), check=(
        lambda found: any(e.type == "itsm.change.reviewed.v1" for e in found)))]
    assert types.count("itsm.change.reviewed.v1") == 1


async def test_a_conflict_and_a_freeze_are_refused_with_the_reason(nc, stack):
    await stack(orchestrator=False)
    soon = datetime.now(UTC) + timedelta(days=1)
    first = await ask(nc, normal("Resize the checkout pods", ["checkout"], soon, hours=2),
                      ChangeView)
    with pytest.raises(ReplyError) as conflict:
        await ask(nc, normal("Patch the checkout OS", ["checkout", "auth"],
                             soon + timedelta(hours=1)), ChangeView)
    assert conflict.value.detail.code == "illegal_transition"
    assert conflict.value.detail.message.startswith(
        f"conflict: {first.change_id} (Resize the checkout pods) changes checkout from ")
    # Another service in the same window is no conflict.
    await ask(nc, normal("Patch the search OS", ["search"], soon), ChangeView)
    frozen = datetime(2026, 12, 28, 10, tzinfo=UTC)
    with pytest.raises(ReplyError, match=r"freeze: year-end covers checkout from 2026-12-21"
                                         r" 00:00 UTC to 2027-01-04 00:00 UTC \(year-end "
                                         r"trading\)"):
        await ask(nc, normal("New checkout flow", ["checkout"], frozen), ChangeView)
    # An emergency may go into a freeze; a service the freeze does not cover may too.
    await ask(nc, normal("Search synonyms", ["search"], frozen), ChangeView)
    emergency = await ask(nc, RequestChange(
        type="emergency", title="Card processor failover", services=["checkout"],
        planned_start=frozen, planned_end=frozen + timedelta(hours=1),
        implementation_plan="switch processor", backout_plan="switch back", actor=ADMIN),
        ChangeView)
    assert emergency.state == "approved"
    backwards = RequestChange.model_construct(**{  # past the client's own check
        **normal("Backwards", ["search"], soon).model_dump(),
        "planned_end": soon - timedelta(hours=1)})
    with pytest.raises(ReplyError, match="planned_end: must be after planned_start"):
        await ask(nc, backwards, ChangeView)
    with pytest.raises(ReplyError, match="services: nowhere not in the service catalog"):
        await ask(nc, normal("Unknown", ["nowhere"], soon + timedelta(days=3)), ChangeView)
    # Nothing refused was kept.
    listed = await ask(nc, ListChanges(actor=ADMIN), ChangeList)
    assert len(listed.items) == 4


async def test_an_implementing_change_silences_its_services_and_links_the_next_incident(
        nc, nats_url, stack):
    gateway = await stack(orchestrator=False, gateway=True)
    now = datetime.now(UTC)
    change = await ask(nc, RequestChange(type="standard", template="tls-certificate-rotation",
                                         services=["checkout"], planned_start=now,
                                         actor=ADMIN), ChangeView)
    started = await ask(nc, StartChange(change_id=change.change_id, actor=ADMIN), ChangeView)
    assert started.state == "implementing"
    assert len(started.silence_ids) == 1
    await publish_all(nc, [accepted("during-change-1", service="checkout")])
    silenced = await wait_for(lambda: ask(nc, ListSilences(actor=ADMIN), SilenceList),
                              check=lambda s: s.items and s.items[0].matched_alerts == 1)
    assert silenced.items[0].kind == "maintenance"
    assert silenced.items[0].reason.startswith(change.change_id)
    assert (await ask(nc, ListIncidents(actor=ADMIN), IncidentList)).total == 0

    done = await ask(nc, CompleteChange(change_id=change.change_id, outcome="successful",
                                        actor=ADMIN), ChangeView)
    assert done.state == "completed"
    await wait_for(lambda: ask(nc, ListSilences(actor=ADMIN), SilenceList),
                   check=lambda s: not s.items)  # the window ended with the change
    await publish_all(nc, [accepted("after-change-1", service="checkout")])
    [incident] = (await wait_for(lambda: ask(nc, ListIncidents(actor=ADMIN), IncidentList),
                                 check=lambda r: r.total == 1)).items
    linked = await wait_for(lambda: ask(nc, GetChange(change_id=change.change_id,
                                                      actor=ADMIN), ChangeView),
                            check=lambda c: c.incidents)
    assert linked.incidents[0].incident_id == incident.incident_id
    assert "0 min after" in linked.incidents[0].reason
    of_incident = await ask(nc, ListChanges(incident_id=incident.incident_id, actor=ADMIN),
                            ChangeList)
    assert [c.change_id for c in of_incident.items] == [change.change_id]

    # The same through the API and the CLI; erin (discovery) does not see checkout's.
    token = await issue_token(nc, ADMIN)
    erin = await issue_token(nc, "user:erin")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.port}",
                                 timeout=10) as api:
        shown = await api.get(f"/api/changes/{change.change_id}",
                              headers={"Authorization": f"Bearer {token}"})
        assert shown.json()["incidents"][0]["incident_id"] == incident.incident_id
        hidden = await api.get(f"/api/changes/{change.change_id}",
                               headers={"Authorization": f"Bearer {erin}"})
        assert hidden.status_code == 404
        refused = await api.post("/api/changes", headers={"Authorization": f"Bearer {erin}"},
                                 json={"type": "normal", "title": "x", "services": ["checkout"],
                                       "planned_start": "2030-01-01T00:00:00Z",
                                       "planned_end": "2030-01-01T01:00:00Z",
                                       "implementation_plan": "y"})
        assert refused.status_code == 403
        bad = await api.post("/api/changes", headers={"Authorization": f"Bearer {token}"},
                             json={"type": "normal", "services": ["search"],
                                   "planned_start": "2030-01-01T00:00:00Z"})
        assert bad.status_code == 422
        assert "title" in bad.json()["detail"]

    # The same through the SDK: read, list, the calendar, a request refused by field.
    from reasonops_sdk import AsyncReasonOpsClient
    from reasonops_sdk.errors import ApiError

    async with AsyncReasonOpsClient(f"http://127.0.0.1:{gateway.port}", token) as sdk:
        assert (await sdk.get_change(change.change_id)).state == "completed"
        listed = await sdk.list_changes(service="checkout", states=["completed"])
        assert change.change_id in [c.change_id for c in listed.items]
        assert (await sdk.list_changes(incident_id=incident.incident_id)).items
        await sdk.change_calendar(service="checkout")
        with pytest.raises(ApiError) as refused_by_sdk:
            await sdk.request_change("normal", datetime(2030, 1, 1, tzinfo=UTC),
                                     services=["search"])
        assert refused_by_sdk.value.status == 422
        assert "title" in refused_by_sdk.value.problem.detail
        urgent = await sdk.request_change(
            "emergency", datetime.now(UTC), title="Patch the payment gateway",
            services=["search"], planned_end=datetime.now(UTC) + timedelta(hours=1),
            implementation_plan="apply the vendor hotfix")
        assert urgent.state == "approved"
        assert (await sdk.start_change(urgent.change_id, "on it")).state == "implementing"
        finished = await sdk.complete_change(urgent.change_id, "successful")
        assert finished.state == "completed"
    code, out, err = await cli(nats_url, "changes", "show", change.change_id)
    assert code == 0, err
    assert f"incident {incident.incident_id}: opened on checkout" in out
    code, out, err = await cli(nats_url, "changes", "request", "normal", "--start",
                               "2030-01-01T00:00:00")
    assert code == 1
    assert "title: required for a normal change" in err


async def test_the_change_metrics_of_a_month_on_a_frozen_clock(nc, stack):
    clock = FrozenClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    await stack(clock, orchestrator=False)

    async def run(kind: str, title: str, service: str, outcome: str, *,
                  incident_after: timedelta | None = None) -> str:
        at = clock.now()
        made = await ask(nc, RequestChange(
            type=kind, title=title, services=[service], planned_start=at,
            planned_end=at + timedelta(hours=1), implementation_plan="do it",
            backout_plan="undo it", actor=ADMIN) if kind != "standard" else RequestChange(
            type="standard", template="tls-certificate-rotation", services=[service],
            planned_start=at, actor=ADMIN), ChangeView)
        if kind == "normal":  # no orchestrator here: the board's decision by hand
            await ask(nc, ApproveChange(change_id=made.change_id, approvers=["user:carol",
                                                                              "user:dan"]),
                      ChangeView)
        await ask(nc, StartChange(change_id=made.change_id, actor=ADMIN), ChangeView)
        clock.advance(timedelta(minutes=20))
        await ask(nc, CompleteChange(change_id=made.change_id, outcome=outcome, actor=ADMIN),
                  ChangeView)
        if incident_after is not None:
            opened = IncidentOpened(
                incident_id=f"INC{9000000 + len(title):07d}", title="after " + title,
                service=service, severity="critical", impact=2, urgency=2, priority=3,
                priority_reason="test", fingerprint=title, opened_at=clock.now()
                + incident_after)
            await publish_all(nc, [Envelope.wrap(opened, source="incidents",
                                                 subject=opened.incident_id)])
        clock.advance(timedelta(days=2))
        return made.change_id

    first = await run("standard", "Certificate", "checkout", "successful",
                      incident_after=timedelta(minutes=30))
    await run("normal", "Search upgrade", "search", "successful")
    await run("emergency", "Login hotfix", "auth", "failed",
              incident_after=timedelta(minutes=10))
    await run("normal", "Search analyser", "search", "successful",
              incident_after=timedelta(hours=3))  # too long after: not linked
    clock.set(datetime(2026, 12, 1, 9, tzinfo=UTC))
    await run("normal", "December change", "search", "failed")
    await wait_for(lambda: ask(nc, GetChange(change_id=first, actor=ADMIN), ChangeView),
                   check=lambda c: c.incidents)
    found = await wait_for(lambda: ask(nc, GetChangeMetrics(month="2026-11", actor=ADMIN),
                                       ChangeMetrics),
                           check=lambda m: m.caused_incidents == 2)
    assert (found.completed, found.successful, found.success_rate) == (4, 3, 0.75)
    assert (found.emergency, found.emergency_ratio) == (1, 0.25)
    assert (found.changes_with_incidents, found.change_caused_incident_rate) == (2, 0.5)
    december = await ask(nc, GetChangeMetrics(month="2026-12", actor=ADMIN), ChangeMetrics)
    assert (december.completed, december.success_rate) == (1, 0.0)
