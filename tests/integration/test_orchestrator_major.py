"""Major incident end to end: real incidents, slm, finance, triage and rca services; the
orchestrator with a recording notifier (webhook delivery is tested with the notifier)."""

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from reasonops_agent_rca.app import RcaSettings
from reasonops_agent_rca.app import build_service as build_rca
from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_contracts import ReplyError, durables
from reasonops_contracts.agents import RcaRequested, TriageRequested
from reasonops_contracts.finance import GetIncidentCost, IncidentCostView
from reasonops_contracts.incidents import (
    IncidentList,
    IncidentView,
    ListIncidents,
    ResolveIncident,
)
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.reviews import GetPostIncidentReview, PostIncidentReviewView
from reasonops_contracts.slm import GetSlaStatus, SlaStatus
from reasonops_contracts.workflows import (
    ApproveStep,
    GetWorkflow,
    ListWorkflowDefinitions,
    PostIncidentReviewRecorded,
    WorkflowDefinitionList,
    WorkflowNotificationDelivered,
    WorkflowStepStarted,
    WorkflowView,
)
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_orchestrator.notify import Delivery, Notification, Notifier
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import accepted, cli, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

POLICY = """
roles:
  admin: {allow: ["*"]}
  observer: {allow: []}
principals:
  user:tests: [admin]
  user:olga:
    - {role: observer, teams: [payments]}
  user:sam:
    - {role: observer, services: [search]}
  service:*: [admin]
  agent:*: [admin]
"""


class RecordingNotifier(Notifier):
    """Accepts every notification at one target per group and remembers it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Notification]] = []

    def groups(self) -> list[str]:
        return ["stakeholders", "supplier-managers", "containment"]

    async def send(self, group: str, notification: Notification) -> list[Delivery]:
        self.sent.append((group, notification))
        return [Delivery(target=f"{group}-hook", group=group, ok=True, attempts=1, status=200,
                         error="", at=datetime.now(UTC))]

    async def aclose(self) -> None:
        """No HTTP client to close."""


async def incident(nc) -> IncidentView | None:
    found = await request(nc, ListIncidents(), IncidentList)
    return found.items[0] if found.items else None


async def test_major_incident_runs_triage_and_rca_notifies_and_reviews(nc, start_service,
                                                                        tmp_path, nats_url):
    notifier = RecordingNotifier()
    for build, settings in ((build_incidents, IncidentSettings), (build_slm, SlmSettings),
                            (build_finance, FinanceSettings), (build_triage, TriageSettings),
                            (build_rca, RcaSettings)):
        await start_service(build, settings)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    await start_service(partial(build_orchestrator, notifier=notifier), OrchestratorSettings,
                        policy=policy)
    definitions = await request(nc, ListWorkflowDefinitions(), WorkflowDefinitionList)
    assert "major-incident" in [d.name for d in definitions.items]

    await publish_all(nc, [accepted("fp-major", severity="critical", team="payments")])
    opened = await wait_for(lambda: incident(nc), timeout=20)
    assert opened.priority == 1  # a critical alert: P1, a major incident at once

    def major():
        return request(nc, GetWorkflow(incident_id=opened.incident_id,
                                       workflow="major-incident"), WorkflowView)

    async def steps_done(*names):
        try:
            view = await major()
        except ReplyError:
            return None
        done = {s.step for s in view.steps if s.state == "completed"}
        return view if set(names) <= done else None

    view = await wait_for(lambda: steps_done("triage", "rca"), timeout=30)
    assert view.workflow_id == f"MI-{opened.incident_id}"
    await wait_for(lambda: notifier.sent, timeout=10)
    await request(nc, ResolveIncident(incident_id=opened.incident_id, actor="ann",
                                      note="rolled back"), IncidentView)
    view = await wait_for(lambda: steps_done("stakeholders", "resolved", "review"), timeout=30)
    assert view.state == "completed"

    events = await stream_messages(nc, "WORKFLOWS")
    mine = [e for e in events if e.data.get("workflow_id") == view.workflow_id]
    started = [e.data["step"] for e in mine if e.type == WorkflowStepStarted.TYPE]
    # triage, rca, stakeholders and resolved start together; review after the join.
    assert started[:4] == ["triage", "rca", "stakeholders", "resolved"]
    assert started[4:] == ["review"]
    [delivered] = [e.data for e in mine if e.type == WorkflowNotificationDelivered.TYPE]
    assert (delivered["group"], delivered["ok"], delivered["incident_id"]) == (
        "stakeholders", True, opened.incident_id)
    [review] = [e.data["review"] for e in mine if e.type == PostIncidentReviewRecorded.TYPE]
    assert set(review["decisions"]) == {"triage", "rca"}
    assert {"opened", "major_declared", "state_changed"} <= {t["kind"] for t in review["timeline"]}
    assert review["sla"], "the SLA clocks of the incident"
    assert len(review["cost"]) == 1  # the incident's own, reckoned when it resolved
    assert review["cost_detail"].startswith("downtime ")

    # The review is read back, by incident or by instance, as it was recorded.
    kept = await request(nc, GetPostIncidentReview(incident_id=opened.incident_id),
                         PostIncidentReviewView)
    assert (kept.workflow_id, kept.incident_id) == (view.workflow_id, opened.incident_id)
    assert (kept.title, set(kept.decisions)) == (review["title"], {"triage", "rca"})
    assert [t.kind for t in kept.timeline] == [t["kind"] for t in review["timeline"]]
    assert [c.model_dump() for c in kept.sla] == review["sla"]
    assert (kept.cost, kept.missing) == (review["cost"], review["missing"])
    assert kept.missing == []
    assert await request(nc, GetPostIncidentReview(workflow_id=view.workflow_id),
                         PostIncidentReviewView) == kept
    # by whoever reads the incident's team, and nobody else; refusals on record
    assert await request(nc, GetPostIncidentReview(incident_id=opened.incident_id,
                                                   actor="user:olga"),
                         PostIncidentReviewView) == kept
    with pytest.raises(ReplyError) as refused:
        await request(nc, GetPostIncidentReview(incident_id=opened.incident_id,
                                                actor="user:sam"), PostIncidentReviewView)
    assert refused.value.detail.code == "forbidden"
    assert "outside the scope of its roles" in refused.value.detail.message
    denials = await wait_for(lambda: stream_messages(nc, "POLICY", AccessDenied.SUBJECT))
    assert [(d.data["principal"], d.data["action"], d.data["incident_id"]) for d in denials] \
        == [("user:sam", "read", opened.incident_id)]  # (mallory's below)
    with pytest.raises(ReplyError) as nobody:  # no role: nothing said, known or not
        await request(nc, GetPostIncidentReview(incident_id="INC9999999",
                                                actor="user:mallory"), PostIncidentReviewView)
    assert nobody.value.detail.code == "forbidden"
    with pytest.raises(ReplyError) as unknown:
        await request(nc, GetPostIncidentReview(incident_id="INC9999999"),
                      PostIncidentReviewView)
    assert (unknown.value.detail.code, unknown.value.detail.field) == ("not_found",
                                                                       "incident_id")
    with pytest.raises(ReplyError) as neither:
        await request(nc, GetPostIncidentReview(), PostIncidentReviewView)
    assert neither.value.detail.field == "incident_id"
    # and from the CLI
    code, out, err = await cli(nats_url, "workflows", "review", opened.incident_id)
    assert code == 0, err
    assert out.startswith(f"Post-incident review of {opened.incident_id} ({view.workflow_id})")
    for shown in (kept.title, "  triage: ", "  rca: ", "major_declared", "Cost: ",
                  "  downtime "):
        assert shown in out
    code, out, _ = await cli(nats_url, "workflows", "review", view.workflow_id, "--json")
    assert (code, PostIncidentReviewView.model_validate_json(out)) == (0, kept)
    code, _, err = await cli(nats_url, "workflows", "review", "INC9999999")
    assert code != 0
    assert "no post-incident review of INC9999999" in err
    agents = await stream_messages(nc, "AGENTS")
    assert len([e for e in agents if e.type == TriageRequested.TYPE
                and e.data.get("workflow_id") == view.workflow_id]) == 1
    assert len([e for e in agents if e.type == RcaRequested.TYPE
                and e.data.get("workflow_id") == view.workflow_id]) == 1


@pytest.mark.parametrize(("wait", "late"), [(10.0, 2.0), (0.3, 60.0)])
async def test_the_review_waits_for_slm_and_finance_to_handle_the_resolution(
        nc, start_service, wait, late):
    """SLM and finance follow the incident's events in their own time (a backlog, a
    background batch): here the broker holds their consumers back for ``late`` seconds
    when it resolves. The review asks again until they have handled it, for up to
    ``wait`` seconds, then keeps what they said with a note."""
    for build, settings in ((build_incidents, IncidentSettings), (build_slm, SlmSettings),
                            (build_finance, FinanceSettings), (build_triage, TriageSettings),
                            (build_rca, RcaSettings)):
        await start_service(build, settings)
    await start_service(partial(build_orchestrator, notifier=RecordingNotifier()),
                        OrchestratorSettings, review_wait_seconds=wait)
    await publish_all(nc, [accepted("fp-late", severity="critical", team="payments")])
    opened = await wait_for(lambda: incident(nc), timeout=20)
    incident_id = opened.incident_id

    async def clocks() -> list[str]:
        status = await request(nc, GetSlaStatus(incident_id=incident_id), SlaStatus)
        return [c.state for c in status.clocks]

    async def steps_done(*names: str) -> bool:
        try:
            view = await request(nc, GetWorkflow(incident_id=incident_id,
                                                 workflow="major-incident"), WorkflowView)
        except ReplyError:
            return False
        return set(names) <= {s.step for s in view.steps if s.state == "completed"}

    await wait_for(lambda: steps_done("triage", "rca"), timeout=30)
    assert "running" in await wait_for(clocks, timeout=10)
    until = (datetime.now(UTC) + timedelta(seconds=late)).isoformat().replace("+00:00", "Z")
    for durable in (durables.SLM_INCIDENTS, durables.FINANCE_INCIDENTS):
        await nc.jetstream().pause_consumer("INCIDENTS", durable, until)
    await request(nc, ResolveIncident(incident_id=incident_id, actor="ann",
                                      note="rolled back"), IncidentView)
    await wait_for(lambda: steps_done("review"), timeout=30)
    [review] = [e.data["review"] for e in await stream_messages(nc, "WORKFLOWS")
                if e.type == PostIncidentReviewRecorded.TYPE]
    if late < wait:  # they caught up within the wait: the review is as they see it now
        assert review["missing"] == []
        assert "running" not in [c["state"] for c in review["sla"]]
        assert [c["state"] for c in review["sla"]] == await clocks()
        cost = await request(nc, GetIncidentCost(incident_id=incident_id), IncidentCostView)
        assert cost.resolved
        assert (review["cost"], review["cost_detail"]) == ({cost.currency: str(cost.total)},
                                                           cost.memo)
        return
    assert "running" in [c["state"] for c in review["sla"]]
    assert review["missing"] == [
        f"{name}: {owner} had not handled the resolution after 0.3s; as it answered then"
        for name, owner in (("sla", "slm"), ("cost", "finance"))]
    for durable in (durables.SLM_INCIDENTS, durables.FINANCE_INCIDENTS):
        await nc.jetstream().resume_consumer("INCIDENTS", durable)
    assert "running" not in await wait_for(
        clocks, check=lambda states: "running" not in states, timeout=10)


async def test_approving_a_step_that_is_not_waiting_is_refused(nc, start_service):
    await start_service(partial(build_orchestrator, notifier=RecordingNotifier()),
                        OrchestratorSettings)
    with pytest.raises(ReplyError, match="not_found"):
        await request(nc, ApproveStep(workflow_id="MI-INC0000001", step="approve"), WorkflowView)
