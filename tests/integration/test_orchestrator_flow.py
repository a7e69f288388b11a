import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_contracts import Envelope, Event, ReplyError
from reasonops_contracts.agents import AgentDecisionRecorded, TriageRequested
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_contracts.workflows import (
    GetWorkflow,
    ListWorkflowInstances,
    WorkflowCompleted,
    WorkflowInstanceList,
    WorkflowStarted,
    WorkflowStepCompleted,
    WorkflowStepSkipped,
    WorkflowView,
)
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_runtime.ports import free_port
from tests.support import owner

pytestmark = pytest.mark.nats

INCIDENT = "INC0000042"


class Recorder:
    """Every envelope seen on the agent and workflow subjects (queries are skipped)."""

    def __init__(self) -> None:
        self.seen: list[Envelope] = []

    async def record(self, msg) -> None:
        with contextlib.suppress(ValidationError):
            self.seen.append(Envelope.from_bytes(msg.data))

    def of(self, model: type[Event]) -> list[Envelope]:
        return [e for e in self.seen if e.type == model.TYPE]

    async def wait(self, model: type[Event]) -> list[Envelope]:
        async def arrived():
            return self.of(model)
        return await wait_for(arrived)


async def wait_for(predicate, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def recorder(nc) -> Recorder:
    rec = Recorder()
    await nc.subscribe("itsm.agent.>", cb=rec.record)
    await nc.subscribe("itsm.workflow.>", cb=rec.record)
    return rec


def opened(incident_id: str = INCIDENT, priority: int = 3) -> Envelope:
    """A P3 by default: a P1 also starts the major-incident workflow."""
    event = IncidentOpened(
        incident_id=incident_id, title="Replication lag on primary", service="orders-db",
        severity="critical", impact=2, urgency=2, priority=priority, priority_reason="test",
        fingerprint=f"fp-{incident_id}", labels={"alertname": "PostgresReplicationLag",
                                                 "job": "postgres", "team": "payments"},
        opened_at=datetime.now(UTC))
    return Envelope.wrap(event, source="incidents", subject=incident_id)


async def publish(nc, envelope: Envelope, subject: str) -> None:
    await nc.jetstream().publish(subject, envelope.to_bytes(), headers=envelope.headers())


async def lifecycle(nc, cause: Envelope, *events: Event) -> None:
    for event in events:
        await publish(nc, cause.caused(event, source=owner(event), subject=INCIDENT),
                      event.SUBJECT)


def step_done(nc, step: str, incident_id: str = INCIDENT):
    async def check():
        try:
            view = await request(nc, GetWorkflow(incident_id=incident_id), WorkflowView)
        except ReplyError:  # not started yet
            return None
        done = {s.step: s for s in view.steps if s.state == "completed"}
        return view if step in done else None
    return check


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request) -> dict[str, str]:
    """The orchestrator's store: its own SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return {}
    return {"database_url": request.getfixturevalue("postgres_database")()}


async def test_incident_is_triaged_tracked_and_completed(nc, start_service, database):
    rec = await recorder(nc)
    await start_service(build_triage, TriageSettings)
    await start_service(build_orchestrator, OrchestratorSettings, **database)
    cause = opened()
    await publish(nc, cause, IncidentOpened.SUBJECT)

    view = await wait_for(step_done(nc, "triage"))
    triage = next(s for s in view.steps if s.step == "triage")
    assert (view.workflow_id, view.workflow, view.version, view.state) == (
        f"WF-{INCIDENT}", "incident-response", 2, "running")
    assert triage.result["category"] == "database"
    assert triage.result["assignment_group"] == "payments"
    assert triage.result["provider"] == "rules"
    [requested] = [e.decode(TriageRequested) for e in rec.of(TriageRequested)]
    assert (requested.workflow_id, requested.incident_id) == (view.workflow_id, INCIDENT)
    [decision] = [e.decode(AgentDecisionRecorded) for e in rec.of(AgentDecisionRecorded)]
    assert decision.request_id == requested.request_id
    assert decision.output.category == "database"

    now = datetime.now(UTC)
    await lifecycle(nc, cause,
                    IncidentAcknowledged(incident_id=INCIDENT, acknowledged_at=now, actor="ann"),
                    IncidentResolved(incident_id=INCIDENT, resolved_at=now, actor="ann"),
                    IncidentClosed(incident_id=INCIDENT, closed_at=now, actor="ann"))

    [done] = await rec.wait(WorkflowCompleted)
    assert done.decode(WorkflowCompleted).outcome == "completed"
    view = await request(nc, GetWorkflow(incident_id=INCIDENT), WorkflowView)
    assert view.state == "completed"
    assert {s.step: s.state for s in view.steps} == dict.fromkeys(
        ("triage", "acknowledged", "resolved"), "completed")
    steps = [e.decode(WorkflowStepCompleted).step for e in rec.of(WorkflowStepCompleted)]
    assert sorted(steps) == ["acknowledged", "resolved", "triage"]
    # Everything the workflow produced belongs to the incident's causal chain.
    assert {e.correlation_id for e in rec.seen} == {cause.correlation_id}


async def test_workflow_resumes_after_orchestrator_restart(nc, nats_url, tmp_path,
                                                         start_service):
    rec = await recorder(nc)
    await start_service(build_triage, TriageSettings)
    # Started by hand: the fixture stops what it started, and a service stops only once.
    first = build_orchestrator(OrchestratorSettings(
        nats_url=nats_url, data_dir=tmp_path / "data", http_port=free_port(),
        fetch_timeout=0.1, outbox_poll_seconds=0.1))
    await first.start()
    try:
        cause = opened()
        await publish(nc, cause, IncidentOpened.SUBJECT)
        await wait_for(step_done(nc, "triage"))
    finally:
        await first.stop()

    await start_service(build_orchestrator, OrchestratorSettings)
    now = datetime.now(UTC)
    await lifecycle(nc, cause, IncidentResolved(incident_id=INCIDENT, resolved_at=now,
                                                actor="ann"),
                    IncidentClosed(incident_id=INCIDENT, closed_at=now, actor="ann"))

    async def completed():
        view = await request(nc, GetWorkflow(incident_id=INCIDENT), WorkflowView)
        return view if view.state == "completed" else None

    view = await wait_for(completed)
    states = {s.step: s.state for s in view.steps}
    assert states == {"triage": "completed", "acknowledged": "cancelled",
                      "resolved": "completed"}
    assert next(s for s in view.steps if s.step == "triage").result["category"] == "database"
    assert len(rec.of(WorkflowStarted)) == 1
    assert len(rec.of(TriageRequested)) == 1
    [done] = await rec.wait(WorkflowCompleted)
    assert done.decode(WorkflowCompleted).outcome == "completed"


async def test_duplicates_and_unknown_incidents_change_nothing(nc, start_service, database):
    rec = await recorder(nc)
    await start_service(build_triage, TriageSettings)
    await start_service(build_orchestrator, OrchestratorSettings, **database)
    first = opened()
    await publish(nc, first, IncidentOpened.SUBJECT)
    await publish(nc, opened(), IncidentOpened.SUBJECT)  # same incident, new message id
    stray = IncidentClosed(incident_id="INC0009999", closed_at=datetime.now(UTC), actor="x")
    await publish(nc, Envelope.wrap(stray, source="incidents"), IncidentClosed.SUBJECT)
    await wait_for(step_done(nc, "triage"))
    await asyncio.sleep(0.3)  # let any wrongly emitted message arrive
    assert len(rec.of(WorkflowStarted)) == 1
    assert len(rec.of(TriageRequested)) == 1
    assert rec.of(WorkflowCompleted) == []
    with pytest.raises(ReplyError, match="not_found"):
        await request(nc, GetWorkflow(incident_id="INC0009999"), WorkflowView)


async def test_incidents_resolved_without_acknowledgement_leave_nothing_running(
        nc, start_service, database):
    """Monitoring resolves most incidents by itself, and nobody closes them: each
    instance ends when its incident resolves, so running instances are open incidents."""
    rec = await recorder(nc)
    await start_service(build_triage, TriageSettings)
    await start_service(build_orchestrator, OrchestratorSettings, **database)
    ids = [f"INC{n:07d}" for n in range(1, 41)]
    causes = {i: opened(i) for i in ids}
    js = nc.jetstream()
    for cause in causes.values():
        await js.publish(IncidentOpened.SUBJECT, cause.to_bytes(), headers=cause.headers())
    await wait_for(lambda: _count(rec, WorkflowStepCompleted, len(ids)))
    for incident_id, cause in causes.items():  # resolved by monitoring: never acknowledged
        event = IncidentResolved(incident_id=incident_id, resolved_at=datetime.now(UTC),
                                 actor="system:monitoring")
        env = cause.caused(event, source=owner(event), subject=incident_id)
        await js.publish(event.SUBJECT, env.to_bytes(), headers=env.headers())
    await wait_for(lambda: _count(rec, WorkflowCompleted, len(ids)))
    running = await request(nc, ListWorkflowInstances(state="running", limit=1000),
                            WorkflowInstanceList)
    assert running.items == []
    done = await request(nc, GetWorkflow(incident_id=ids[-1]), WorkflowView)
    assert {s.step: s.state for s in done.steps} == {
        "triage": "completed", "acknowledged": "cancelled", "resolved": "completed"}
    skipped = [e.decode(WorkflowStepSkipped) for e in rec.of(WorkflowStepSkipped)]
    assert {(s.step, s.reason) for s in skipped} == {
        ("acknowledged", "cancelled: itsm.incident.resolved.v1")}

    # Reopened: the completed instance runs again and waits for both once more.
    first = causes[ids[0]]
    reopened = IncidentReopened(incident_id=ids[0], reopened_at=datetime.now(UTC),
                                actor="ann", reason="came back")
    await publish(nc, first.caused(reopened, source=owner(reopened), subject=ids[0]),
                  reopened.SUBJECT)

    async def running_again():
        view = await request(nc, GetWorkflow(incident_id=ids[0]), WorkflowView)
        return view if view.state == "running" else None
    view = await wait_for(running_again)
    assert {s.step: (s.state, s.attempt) for s in view.steps} == {
        "triage": ("completed", 1), "acknowledged": ("waiting", 2), "resolved": ("waiting", 2)}


async def _count(rec: Recorder, model: type[Event], expected: int) -> bool:
    return len(rec.of(model)) >= expected


async def test_a_wait_timeout_fires_its_declared_outcome(nc, start_service, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "ack-or-move-on.yaml").write_text("""
name: ack-or-move-on
version: 1
trigger: {event: IncidentOpened, key: incident_id}
steps:
  - {id: ack, kind: wait_event, event: IncidentAcknowledged, timeout: 1s, on_timeout: skip}
  - {id: said, kind: wait_event, event: IncidentAcknowledged, timeout: 1s, on_timeout: complete}
""")
    rec = await recorder(nc)
    await start_service(build_orchestrator, OrchestratorSettings, workflows_dir=flows)
    await publish(nc, opened(), IncidentOpened.SUBJECT)

    async def finished():
        try:
            view = await request(nc, GetWorkflow(workflow_id=f"ack-or-move-on-{INCIDENT}"),
                                 WorkflowView)
        except ReplyError:  # not started yet
            return None
        return view if view.state == "completed" else None
    view = await wait_for(finished)
    steps = {s.step: s for s in view.steps}
    assert (steps["ack"].state, steps["said"].state) == ("skipped", "completed")
    assert steps["said"].result == {"timed_out": True, "after_seconds": 1.0}
    [skipped] = [e.decode(WorkflowStepSkipped) for e in rec.of(WorkflowStepSkipped)]
    assert (skipped.step, skipped.reason) == ("ack", "timed out after 1s")


async def test_a_queued_instance_sees_what_happened_while_it_waited(nc, start_service, tmp_path):
    """Under ``max_concurrent`` an instance may start after its incident resolved: it
    looks back for what it waits for, as a new instance does, and completes."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "one-at-a-time.yaml").write_text("""
name: one-at-a-time
version: 1
trigger: {event: IncidentOpened, key: incident_id}
max_concurrent: 1
steps:
  - {id: resolved, kind: wait_event, event: IncidentResolved}
""")
    await start_service(build_orchestrator, OrchestratorSettings, workflows_dir=flows)
    first, second = opened("INC0000001"), opened("INC0000002")
    for cause in (first, second):
        await publish(nc, cause, IncidentOpened.SUBJECT)

    def state_of(incident_id: str, wanted: str):
        async def check():
            try:
                view = await request(nc, GetWorkflow(workflow_id=f"one-at-a-time-{incident_id}"),
                                     WorkflowView)
            except ReplyError:
                return None
            return view if view.state == wanted else None
        return check

    await wait_for(state_of("INC0000002", "queued"))
    for cause, incident_id in ((second, "INC0000002"), (first, "INC0000001")):
        event = IncidentResolved(incident_id=incident_id, resolved_at=datetime.now(UTC),
                                 actor="system:monitoring")
        await publish(nc, cause.caused(event, source=owner(event), subject=incident_id),
                      event.SUBJECT)
        await asyncio.sleep(0.3)
    await wait_for(state_of("INC0000001", "completed"))
    view = await wait_for(state_of("INC0000002", "completed"))
    assert [(s.step, s.state) for s in view.steps] == [("resolved", "completed")]


async def test_a_queued_instance_sees_what_happened_however_long_it_waited(
        nc, start_service, tmp_path, database):
    """An instance queued longer than the look-back (a storm of P1s behind a limit of 50
    major incidents, say) still finds its incident resolved when it starts, instead of
    waiting for a resolution that came while it queued."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "one-at-a-time.yaml").write_text("""
name: one-at-a-time
version: 1
trigger: {event: IncidentOpened, key: incident_id}
max_concurrent: 1
steps:
  - {id: resolved, kind: wait_event, event: IncidentResolved}
""")
    clock = FrozenClock(datetime.now(UTC))
    await start_service(build_orchestrator, OrchestratorSettings, clock=clock,
                        workflows_dir=flows, **database)
    first, second = opened("INC0000001"), opened("INC0000002")
    for cause in (first, second):
        await publish(nc, cause, IncidentOpened.SUBJECT)

    async def state(incident_id: str) -> str | None:
        with contextlib.suppress(ReplyError):
            return (await request(nc, GetWorkflow(workflow_id=f"one-at-a-time-{incident_id}"),
                                  WorkflowView)).state
        return None

    async def resolve(cause: Envelope, incident_id: str) -> None:
        event = IncidentResolved(incident_id=incident_id, resolved_at=clock.now(),
                                 actor="system:monitoring")
        await publish(nc, cause.caused(event, source=owner(event), subject=incident_id),
                      event.SUBJECT)

    await wait_for(lambda: _is(state("INC0000002"), "queued"))
    await resolve(second, "INC0000002")
    await wait_for(lambda: _drained(nc, "INCIDENTS", "orchestrator"))
    clock.advance(timedelta(minutes=30))  # far past the ten minutes looked back
    await resolve(first, "INC0000001")
    await wait_for(lambda: _is(state("INC0000001"), "completed"))
    await wait_for(lambda: _is(state("INC0000002"), "completed"))


async def _is(found, wanted: str) -> bool:
    return await found == wanted


async def _drained(nc, stream: str, durable: str) -> bool:
    info = await nc.jetstream().consumer_info(stream, durable)
    return not info.num_pending and not info.num_ack_pending
