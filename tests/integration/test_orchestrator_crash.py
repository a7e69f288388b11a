"""SIGKILL the orchestrator mid major-incident (triage and rca asked, not answered),
restart it: the workflow completes, no step runs twice, and the gap is on record."""

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from reasonops_agent_rca.app import RcaSettings
from reasonops_agent_rca.app import build_service as build_rca
from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_contracts import Envelope
from reasonops_contracts.agents import RcaRequested, TriageRequested
from reasonops_contracts.incidents import IncidentOpened, IncidentResolved
from reasonops_contracts.workflows import (
    PostIncidentReviewRecorded,
    WorkflowCompleted,
    WorkflowResumed,
    WorkflowStepCompleted,
    WorkflowStepStarted,
)
from reasonops_runtime.ports import free_port
from tests.support import owner, stream_messages, wait_for

pytestmark = pytest.mark.nats

INCIDENT = "INC0000077"
WORKFLOW = f"MI-{INCIDENT}"


def spawn(nats_url, data_dir, port):
    env = dict(os.environ, REASONOPS_NATS_URL=nats_url, REASONOPS_DATA_DIR=str(data_dir),
               REASONOPS_HTTP_PORT=str(port), REASONOPS_FETCH_TIMEOUT="0.1",
               REASONOPS_OUTBOX_POLL_SECONDS="0.1", REASONOPS_TIMER_POLL_SECONDS="0.05",
               REASONOPS_ACK_WAIT_SECONDS="2",
               REASONOPS_EFFECT_LEASE_SECONDS="2")
    # Logs to a file: a pipe nobody reads would block the service once full.
    with open(data_dir.parent / "orchestrator.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "reasonops_cli", "run", "orchestrator"],
                                env=env, stdout=subprocess.DEVNULL, stderr=log)


async def publish(nc, event, cause=None):
    envelope = (cause.caused(event, source=owner(event), subject=INCIDENT) if cause
                else Envelope.wrap(event, source=owner(event), subject=INCIDENT))
    await nc.jetstream().publish(event.SUBJECT, envelope.to_bytes(), headers=envelope.headers())
    return envelope


async def mine(nc, stream):
    return [e for e in await stream_messages(nc, stream) if e.data.get("workflow_id") == WORKFLOW]


def of(envelopes, model):
    return [e for e in envelopes if e.type == model.TYPE]


async def test_sigkill_mid_workflow_resumes_without_repeating_steps(nc, nats_url, tmp_path,
                                                                   start_service):
    port = free_port()
    proc = spawn(nats_url, tmp_path / "orchestrator", port)
    try:
        await wait_for(lambda: nc.jetstream().consumer_info("INCIDENTS", "orchestrator"),
                       timeout=60)
        cause = await publish(nc, IncidentOpened(
            incident_id=INCIDENT, title="Checkout 503s", service="checkout", resource="web-1",
            severity="critical", impact=1, urgency=1, priority=1, priority_reason="test",
            fingerprint="fp-crash", labels={"alertname": "HighErrorRate", "team": "web"},
            opened_at=datetime.now(UTC)))
        # The parallel branch started: both agents asked (nobody answers yet).
        await wait_for(lambda: mine(nc, "WORKFLOWS"), timeout=60,
                       check=lambda found: {"triage", "rca"} <= {
                           e.data["step"] for e in of(found, WorkflowStepStarted)})
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        # The agents answer while the orchestrator is down.
        await start_service(build_triage, TriageSettings)
        await start_service(build_rca, RcaSettings)
        proc = spawn(nats_url, tmp_path / "orchestrator", port)
        await wait_for(lambda: mine(nc, "WORKFLOWS"), timeout=60,
                       check=lambda found: {"triage", "rca"} <= {
                           e.data["step"] for e in of(found, WorkflowStepCompleted)})
        await publish(nc, IncidentResolved(incident_id=INCIDENT, resolved_at=datetime.now(UTC),
                                           actor="ann"), cause)
        events = await wait_for(lambda: mine(nc, "WORKFLOWS"), timeout=60,
                                check=lambda found: of(found, WorkflowCompleted))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    completed = [e.data["step"] for e in of(events, WorkflowStepCompleted)]
    assert sorted(completed) == ["rca", "resolved", "review", "stakeholders", "triage"]
    started = [e.data["step"] for e in of(events, WorkflowStepStarted)]
    assert sorted(started) == ["rca", "resolved", "review", "stakeholders", "triage"]
    assert len(of(events, PostIncidentReviewRecorded)) == 1
    agents = await mine(nc, "AGENTS")
    assert len(of(agents, TriageRequested)) == 1
    assert len(of(agents, RcaRequested)) == 1
    [resumed] = of(events, WorkflowResumed)
    gap = resumed.decode(WorkflowResumed)
    assert gap.incident_id == INCIDENT
    assert gap.last_progress_at < gap.resumed_at
    assert {"triage", "rca"} <= set(gap.waiting_steps)
    # The audit trail (AUDIT sources WORKFLOWS) has the gap too.
    audited = await wait_for(lambda: stream_messages(nc, "AUDIT"), check=lambda found: any(
        e.id == resumed.id for e in found), timeout=20)
    assert [e.type for e in audited if e.type == WorkflowResumed.TYPE]
