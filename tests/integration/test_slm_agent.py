"""The service-level agent on a real nats-server: from its group's history it forecasts
that an incident's response clock will breach, records the decision with the reasons,
proposes escalating and raising the priority; the orchestrator's sla-forecast workflow
waits for a person's approval, then raises the priority of the real incident and tells
the escalation group. The SLA clocks are published as the SLA service publishes them."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from reasonops_agent_slm.app import SlmAgentSettings
from reasonops_agent_slm.app import build_service as build_slm_agent
from reasonops_contracts import Envelope, durables, streams
from reasonops_contracts.agents import AgentDecisionRecorded, AgentProposalRecorded
from reasonops_contracts.incidents import (
    CreateIncident,
    GetIncident,
    IncidentAcknowledged,
    IncidentOpened,
    IncidentResolved,
    IncidentView,
    ResolveIncident,
)
from reasonops_contracts.slm import SlaMet, SlaPaused, SlaStarted
from reasonops_contracts.workflows import WorkflowProposalApplied
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from tests.integration.test_orchestrator_major import RecordingNotifier
from tests.support import cli, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, in working hours
GROUP = "payments-oncall"


class Notified(RecordingNotifier):
    def groups(self) -> list[str]:
        return [*super().groups(), "escalation"]


def history() -> list[Envelope]:
    """Six incidents of the group answered in 40 minutes each, last week."""
    found = []
    for n in range(6):
        opened = NOW - timedelta(days=7) + timedelta(hours=n)
        incident = f"INC09000{n:02d}"
        found += [Envelope.wrap(e, source="incidents") for e in (
            IncidentOpened(incident_id=incident, title="Payments slow", service="payments",
                           severity="error", impact=2, urgency=2, priority=3,
                           priority_reason="t", fingerprint=f"fp-{n}", opened_at=opened,
                           assignment_group=GROUP),
            IncidentAcknowledged(incident_id=incident, actor="user:bob",
                                 acknowledged_at=opened + timedelta(minutes=40)),
            IncidentResolved(incident_id=incident, actor="user:bob",
                             resolved_at=opened + timedelta(hours=2)))]
    return found


def clocks_met() -> list[Envelope]:
    found = []
    for n in range(6):
        opened = NOW - timedelta(days=7) + timedelta(hours=n)
        clock = f"CLK-{n}"
        found.append(Envelope.wrap(SlaStarted(
            clock_id=clock, incident_id=f"INC09000{n:02d}", policy="default",
            kind="response", priority=3, target_seconds=7200, started_at=opened,
            deadline=opened + timedelta(hours=2)), source="slm"))
        found.append(Envelope.wrap(SlaMet(
            clock_id=clock, incident_id=f"INC09000{n:02d}", kind="response",
            stopped_at=opened + timedelta(minutes=40), elapsed_seconds=2400,
            target_seconds=7200), source="slm"))
    return found


async def drained(nc, stream: str, durable: str) -> bool:
    info = await nc.jetstream().consumer_info(stream, durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def forecast_awaiting_approval(nc, nats_url, start_service):
    """The agent forecasts a breach of a new incident's response clock; its sla-forecast
    workflow waits for a person's approval. Returns the incident, the decision, the
    workflow's id and the notifier."""
    notifier, clock = Notified(), FrozenClock(NOW)
    await start_service(build_incidents, IncidentSettings, clock=clock)
    await start_service(partial(build_orchestrator, notifier=notifier), OrchestratorSettings,
                        clock=clock)
    await start_service(build_slm_agent, SlmAgentSettings, clock=clock, scan_seconds=0.2)
    created = await request(nc, CreateIncident(
        title="Card payments fail", service="payments", impact=2, urgency=2,
        assignment_group=GROUP, actor="user:ann"), IncidentView)
    assert created.priority == 3
    await wait_for(lambda: drained(nc, streams.INCIDENTS.name, durables.AGENT_SLM_INCIDENTS))
    started = NOW - timedelta(minutes=5)
    response, paused = (SlaStarted(
        clock_id=clock, incident_id=created.incident_id, policy="default", kind="response",
        priority=created.priority, target_seconds=1800, started_at=started,
        deadline=started + timedelta(minutes=30)) for clock in ("CLK-NEW", "CLK-PAUSED"))
    # A clock paused (waiting for the caller) before the group's history is known: it is
    # not forecast however late the group is.
    await publish_all(nc, [Envelope.wrap(e, source="slm") for e in (
        paused, SlaPaused(clock_id="CLK-PAUSED", incident_id=created.incident_id,
                          kind="response", paused_at=NOW, reason="waiting for the caller",
                          elapsed_seconds=300))])
    await wait_for(lambda: drained(nc, streams.SLM.name, durables.AGENT_SLM_CLOCKS))
    await publish_all(nc, history())
    await wait_for(lambda: drained(nc, streams.INCIDENTS.name, durables.AGENT_SLM_INCIDENTS))
    await publish_all(nc, clocks_met())
    await wait_for(lambda: drained(nc, streams.SLM.name, durables.AGENT_SLM_CLOCKS))
    await publish_all(nc, [Envelope.wrap(response, source="slm")])

    [decided] = await wait_for(lambda: stream_messages(nc, "AGENTS",
                                                       AgentDecisionRecorded.SUBJECT))
    decision = decided.decode(AgentDecisionRecorded)
    out = decision.output
    assert (decision.agent, decision.incident_id) == ("slm", created.incident_id)
    assert (out.clock_id, out.predicted_breach, out.queue_ahead) == ("CLK-NEW", True, 0)
    assert (out.minutes_left, out.minutes_needed) == (25.0, 35.0)
    # Compared with the group's incidents answered last week, all in 40 minutes.
    assert f"of 6 incidents of {GROUP} opened in working hours while 0-1 others were open " \
        "and unanswered after 5 min, 6 were answered after 30 min (50th percentile 40 min)" \
        in out.reasons
    proposals = await wait_for(lambda: stream_messages(nc, "AGENTS",
                                                       AgentProposalRecorded.SUBJECT),
                               check=lambda found: len(found) == 2)
    assert sorted(p.data["action"] for p in proposals) == ["escalate", "raise_priority"]
    await asyncio.sleep(1)  # more scans: the same clock is not decided again
    assert len(await stream_messages(nc, "AGENTS", AgentDecisionRecorded.SUBJECT)) == 1

    workflow = f"SLF-{decision.decision_id}"
    await wait_for(lambda: steps_are(nats_url, workflow, approve="waiting"), timeout=20)
    return created, workflow, notifier


async def steps_are(nats_url: str, workflow: str, **states: str) -> bool:
    code, out, _ = await cli(nats_url, "workflows", "show", workflow, "--json")
    found = {s["step"]: s["state"] for s in json.loads(out)["steps"]} if code == 0 else {}
    return all(found.get(step) == state for step, state in states.items())


async def test_a_forecast_breach_is_decided_approved_and_acted_on(nc, nats_url, start_service):
    created, workflow, notifier = await forecast_awaiting_approval(nc, nats_url, start_service)
    code, _, err = await cli(nats_url, "workflows", "approve", workflow, "approve",
                             "--actor", "ann", "--note", "go")
    assert code == 0, err
    applied = await wait_for(
        lambda: stream_messages(nc, "WORKFLOWS", WorkflowProposalApplied.SUBJECT),
        check=lambda found: len(found) == 2, timeout=20)
    assert sorted(e.data["action"] for e in applied) == ["escalate", "raise_priority"]
    now = await request(nc, GetIncident(incident_id=created.incident_id), IncidentView)
    assert (now.impact, now.urgency, now.priority) == (2, 1, 2)
    [(_group, notice)] = [(g, n) for g, n in notifier.sent if g == "escalation"]
    assert created.incident_id in notice.title
    assert notice.fields["clock_id"] == "CLK-NEW"


async def test_once_the_incident_resolves_no_approval_is_asked(nc, nats_url, start_service):
    """The forecast's workflow ends when its incident resolves: the approval is cancelled,
    nothing is applied, nothing keeps running."""
    created, workflow, _ = await forecast_awaiting_approval(nc, nats_url, start_service)
    await request(nc, ResolveIncident(incident_id=created.incident_id, actor="user:ann",
                                      note="fixed before anyone approved"), IncidentView)
    await wait_for(lambda: steps_are(nats_url, workflow, approve="cancelled", act="skipped"),
                   timeout=20)
    code, out, _ = await cli(nats_url, "workflows", "show", workflow, "--json")
    assert code == 0
    assert json.loads(out)["state"] == "completed"
    assert await stream_messages(nc, "WORKFLOWS", WorkflowProposalApplied.SUBJECT) == []
    now = await request(nc, GetIncident(incident_id=created.incident_id), IncidentView)
    assert now.priority == created.priority
