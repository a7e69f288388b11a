"""Approvals, role policy and proposals: a user's workflow from the CLI, with a workflow
loaded from REASONOPS_WORKFLOWS_DIR. The agent's answer is published as the agent would
publish it, so the test controls exactly what it proposes."""

import asyncio
import json
from datetime import UTC, datetime
from functools import partial

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.agents import (
    AgentDecisionRecorded,
    AgentProposalRecorded,
    SecurityOutput,
    SecurityReviewRequested,
)
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.workflows import (
    GetWorkflow,
    WorkflowProposalApplied,
    WorkflowProposalRefused,
    WorkflowView,
)
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime.client import request
from reasonops_runtime.policy import Policy, Verdict, Visibility
from tests.integration.test_orchestrator_major import RecordingNotifier
from tests.support import cli, stream_messages, wait_for

pytestmark = pytest.mark.nats

INCIDENT = "INC0000301"
WORKFLOW = f"contain-{INCIDENT}"
DEFINITION = """
name: contain
version: 1
trigger: {event: IncidentOpened, filter: {service: vpn}}
steps:
  - {id: review, kind: agent, agent: security, args: {source: "${trigger.labels.source}"}}
  - {id: approve, kind: approval, depends_on: [review], timeout: 1h, default: reject}
  - {id: contain, kind: apply_proposal, from: review, depends_on: [approve]}
"""


class TeamPolicy(Policy):
    """Mallory may not approve; the security agent may not propose password resets."""

    def check(self, principal, action, *, team=None, service=None):
        denied = (principal, action) in {("user:mallory", "workflow.approve"),
                                         ("agent:security", "proposal.force_password_reset")}
        return Verdict(not denied, principal, action, roles=("test",),
                       reason="not in the role" if denied else "allowed",
                       requires_approval=action.startswith("proposal."))

    def visibility(self, principal):
        return Visibility(principal, everything=True)  # every principal reads everything



async def publish(nc, envelope: Envelope) -> None:
    await nc.jetstream().publish(_subject(envelope), envelope.to_bytes(),
                                 headers=envelope.headers())


def _subject(envelope: Envelope) -> str:
    from reasonops_contracts.registry import EVENTS
    return EVENTS[envelope.type].SUBJECT


def answer(request: SecurityReviewRequested, cause: Envelope) -> list[Envelope]:
    now = datetime.now(UTC)
    decision = AgentDecisionRecorded(
        decision_id="DEC1", agent="security", request_id=request.request_id,
        incident_id=INCIDENT, provider="rules", model="rules", prompt_version="t",
        latency_ms=1, decided_at=now, output=SecurityOutput(
            pattern="brute_force", source="203.0.113.9", failures=300, accounts=40,
            window_seconds=300, severity="critical",
            recommended_actions=["block_source", "force_password_reset"], reasons=["r"],
            summary="brute force"))
    proposals = [AgentProposalRecorded(
        proposal_id=f"P{n}", decision_id="DEC1", agent="security", incident_id=INCIDENT,
        action=action, target="203.0.113.9", reason="brute force", proposed_at=now)
        for n, action in enumerate(("block_source", "force_password_reset"))]
    return [cause.caused(e, source="agent-security") for e in (decision, *proposals)]


async def test_approval_gates_proposals_and_the_policy_refuses_what_it_must(
        nc, nats_url, tmp_path, start_service):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "contain.yaml").write_text(DEFINITION)
    notifier = RecordingNotifier()
    await start_service(partial(build_orchestrator, notifier=notifier, policy=TeamPolicy()),
                        OrchestratorSettings, workflows_dir=tmp_path / "flows")
    opened = Envelope.wrap(IncidentOpened(
        incident_id=INCIDENT, title="Failed logins", service="vpn", severity="critical",
        impact=2, urgency=2, priority=3, priority_reason="t", fingerprint="fp-vpn",
        labels={"source": "203.0.113.9"}, opened_at=datetime.now(UTC)), source="incidents")
    await publish(nc, opened)
    [asked] = await wait_for(lambda: stream_messages(nc, "AGENTS",
                                                     SecurityReviewRequested.SUBJECT))
    review = asked.decode(SecurityReviewRequested)
    assert (review.source, review.incident_id) == ("203.0.113.9", INCIDENT)
    for envelope in answer(review, asked):
        await publish(nc, envelope)

    async def waiting() -> bool:
        view = await request(nc, GetWorkflow(workflow_id=WORKFLOW), WorkflowView)
        return {s.step: s.state for s in view.steps}["approve"] == "waiting"
    await wait_for(waiting, timeout=20)
    # The CLI starts slowly on a busy machine: independent commands run side by side.
    (code, out, _), (denied_code, _, err) = await asyncio.gather(
        cli(nats_url, "workflows", "list", "--json"),
        cli(nats_url, "workflows", "approve", WORKFLOW, "approve", "--actor", "mallory"))
    assert code == 0
    assert "contain" in [d["name"] for d in json.loads(out)["items"]]
    assert denied_code == 1
    assert "forbidden" in err
    code, out, err = await cli(nats_url, "workflows", "approve", WORKFLOW, "approve",
                               "--actor", "ann", "--note", "block it", "--json")
    assert code == 0, err
    assert json.loads(out)["steps"][1]["result"]["actor"] == "user:ann"

    events = await wait_for(lambda: stream_messages(nc, "WORKFLOWS"), check=lambda found: any(
        e.type == WorkflowProposalRefused.TYPE for e in found), timeout=20)
    [applied] = [e.data for e in events if e.type == WorkflowProposalApplied.TYPE]
    assert (applied["action"], applied["approved_by"]) == ("block_source", "user:ann")
    [refused] = [e.data for e in events if e.type == WorkflowProposalRefused.TYPE]
    assert refused["action"] == "force_password_reset"
    assert [g for g, _ in notifier.sent] == ["containment"]
    denied = await wait_for(lambda: stream_messages(nc, "POLICY", AccessDenied.SUBJECT),
                            check=lambda found: len(found) == 2)
    assert sorted(e.data["principal"] for e in denied) == ["agent:security", "user:mallory"]
    assert all(e.data["incident_id"] == INCIDENT for e in denied)
    code, out, _ = await cli(nats_url, "workflows", "instances", "--workflow", "contain",
                             "--state", "completed", "--json")
    assert [i["workflow_id"] for i in json.loads(out)["items"]] == [WORKFLOW]
