"""The role policy at the incidents and finance services' doors, with the example policy:
who may act on which team's incidents, agents that may only propose, every refusal on
record in the POLICY and AUDIT streams, and the CLI's ``--as``."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reasonops_contracts import Envelope, ReplyError
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.finance import ClosePeriod, PeriodView
from reasonops_contracts.incidents import (
    CreateSilence,
    GetIncident,
    IncidentList,
    IncidentView,
    ListIncidents,
    ResolveIncident,
    SilenceView,
)
from reasonops_contracts.policy import AccessDenied
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_incidents.app import IncidentSettings, build_service
from reasonops_runtime.client import request
from tests.support import accepted, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

CONFIG = Path(__file__).parents[2] / "examples" / "config"


async def _start(start_service, *, policy: Path = CONFIG / "policy.yaml",
                 catalog: Path = CONFIG / "service-catalog.yaml"):
    return await start_service(build_service, IncidentSettings, policy=policy,
                               service_catalog=catalog)


async def _opened(nc, n: int) -> list[IncidentView]:
    found = await wait_for(lambda: request(nc, ListIncidents(descending=False),
                                           IncidentList), check=lambda r: len(r.items) == n)
    return found.items


async def _denials(nc, stream: str, n: int) -> list[Envelope]:
    return await wait_for(lambda: stream_messages(nc, stream, AccessDenied.SUBJECT),
                          check=lambda found: len(found) == n)


async def test_a_user_cannot_resolve_another_teams_incident_and_the_refusal_is_on_record(
        nc, start_service):
    await _start(start_service)
    await publish_all(nc, [accepted("a")])
    [incident] = await _opened(nc, 1)
    assert (incident.service, incident.assignment_group) == ("checkout", "payments")

    with pytest.raises(ReplyError) as err:
        await request(nc, ResolveIncident(incident_id=incident.incident_id, actor="user:bob"),
                      IncidentView)
    assert err.value.detail.code == "forbidden"
    assert err.value.detail.message == (
        "user:bob may not incident.resolve INC0000001: user:bob has roles [observer, "
        "on-call@identity]; incident.resolve on team payments, service checkout is outside "
        "their scope")
    view = await request(nc, GetIncident(incident_id=incident.incident_id), IncidentView)
    assert view.state == "new"

    [denied] = await _denials(nc, "POLICY", 1)
    assert denied.subject == incident.incident_id
    assert denied.source == "incidents"
    assert {k: denied.data[k] for k in ("principal", "action", "incident_id", "team",
                                        "service", "service_name", "roles")} == {
        "principal": "user:bob", "action": "incident.resolve", "incident_id": "INC0000001",
        "team": "payments", "service": "checkout", "service_name": "incidents",
        "roles": ["observer", "on-call@identity"]}
    [audited] = await _denials(nc, "AUDIT", 1)
    assert audited.id == denied.id

    # The owning team's on-call may.
    resolved = await request(nc, ResolveIncident(incident_id=incident.incident_id,
                                                 actor="user:alice"), IncidentView)
    assert resolved.state == "resolved"


async def test_agents_may_only_propose_and_their_attempts_are_audited(nc, start_service):
    await _start(start_service)
    await publish_all(nc, [accepted("a")])
    [incident] = await _opened(nc, 1)
    reasons = {}
    for agent in ("agent:security", "agent:triage", "agent:rca"):
        with pytest.raises(ReplyError) as err:
            await request(nc, ResolveIncident(incident_id=incident.incident_id, actor=agent),
                          IncidentView)
        assert err.value.detail.code == "forbidden"
        reasons[agent] = err.value.detail.message.split(": ", 1)[1]
    assert reasons == {
        "agent:security": "agent:security has roles [security-agent]; none of them allows "
                          "incident.resolve",
        "agent:triage": "agent:triage has roles [triage-agent]; none of them allows "
                        "incident.resolve",
        "agent:rca": "agent:rca has no roles in the policy.yaml policy; denied by default"}
    denied = await _denials(nc, "AUDIT", 3)
    assert [d.data["principal"] for d in denied] == list(reasons)
    view = await request(nc, GetIncident(incident_id=incident.incident_id), IncidentView)
    assert view.state == "new"


async def test_a_triage_assignment_the_policy_refuses_is_recorded_not_applied(
        nc, start_service, tmp_path):
    (tmp_path / "policy.yaml").write_text("roles: {admin: {allow: ['*']}}\n"
                                          "principals: {user:*: [admin]}\n")
    (tmp_path / "catalog.yaml").write_text("services: [{name: search}]\n")
    await _start(start_service, policy=tmp_path / "policy.yaml",
                 catalog=tmp_path / "catalog.yaml")
    await publish_all(nc, [accepted("s", service="search")])
    [incident] = await _opened(nc, 1)
    decision = Envelope(id="dec-1", type=AgentDecisionRecorded.TYPE, source="agent-triage",
                        time=datetime.now(UTC), correlation_id="c", subject=incident.incident_id,
                        data={"decision_id": "D1", "agent": "triage", "provider": "rules",
                              "incident_id": incident.incident_id, "summary": "to discovery",
                              "output": {"assignment_group": "discovery"},
                              "decided_at": datetime.now(UTC).isoformat()})
    await publish_all(nc, [decision])
    view = await wait_for(lambda: request(nc, GetIncident(incident_id=incident.incident_id),
                                          IncidentView),
                          check=lambda v: any(e.kind == "access_denied" for e in v.timeline))
    assert view.assignment_group is None
    [entry] = [e for e in view.timeline if e.kind == "access_denied"]
    assert (entry.actor, entry.detail) == (
        "agent:triage", "assignment to discovery refused: agent:triage has no roles in the "
        "policy.yaml policy; denied by default")
    [denied] = await _denials(nc, "POLICY", 1)
    assert (denied.data["action"], denied.causation_id, denied.correlation_id) == (
        "incident.assign", "dec-1", "c")


async def test_silences_are_scoped_by_the_service_they_name(nc, start_service):
    await _start(start_service)
    ends = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(ReplyError) as err:
        await request(nc, CreateSilence(matchers=["service=checkout"], ends_at=ends,
                                        author="user:bob", reason="deploy"), SilenceView)
    assert err.value.detail.code == "forbidden"
    assert "silence.create on team payments, service checkout is outside" in \
        err.value.detail.message
    made = await request(nc, CreateSilence(matchers=["service=checkout"], ends_at=ends,
                                           author="user:alice", reason="deploy"), SilenceView)
    assert made.silence_id == "SIL0000001"


async def test_closing_a_period_needs_the_finance_role(nc, start_service):
    await start_service(build_finance, FinanceSettings, policy=CONFIG / "policy.yaml")
    with pytest.raises(ReplyError) as err:
        await request(nc, ClosePeriod(month="2026-03", actor="user:alice"), PeriodView)
    assert err.value.detail.message == (
        "user:alice may not finance.close_period 2026-03: user:alice has roles [observer, "
        "on-call@payments]; none of them allows finance.close_period")
    [denied] = await _denials(nc, "POLICY", 1)
    assert (denied.source, denied.data["target"]) == ("finance", "2026-03")
    closed = await request(nc, ClosePeriod(month="2026-03", actor="user:frank"), PeriodView)
    assert closed.closed_by == "user:frank"


async def _cli(nats_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in its own process (the service runs on this test's event loop)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reasonops_cli", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "NATS_URL": nats_url, **env})
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return subprocess.CompletedProcess(args, process.returncode or 0, out.decode(),
                                       err.decode())


async def test_the_cli_acts_as_a_principal_and_shows_a_refusal_in_one_line(
        nc, nats_url, start_service):
    await _start(start_service)
    await publish_all(nc, [accepted("a")])
    await _opened(nc, 1)
    refused = await _cli(nats_url, "--as", "user:bob", "incidents", "resolve", "INC0000001")
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: forbidden: user:bob may not incident.resolve INC0000001: user:bob has roles "
        "[observer, on-call@identity]; incident.resolve on team payments, service checkout "
        "is outside their scope\n")
    acked = await _cli(nats_url, "incidents", "ack", "INC0000001",
                       REASONOPS_ACTOR="user:alice")
    assert acked.returncode == 0, acked.stderr
    view = await request(nc, GetIncident(incident_id="INC0000001"), IncidentView)
    assert view.state == "acknowledged"
    assert [e.actor for e in view.timeline if e.kind == "state_changed"] == ["user:alice"]
    # The example policy makes the local operator, user:admin, an admin; `cli` is no one
    # special any more (a plain user name falls under user:*, an observer).
    as_cli = await _cli(nats_url, "--as", "cli", "incidents", "resolve", "INC0000001")
    assert as_cli.returncode == 1
    assert "user:cli may not incident.resolve" in as_cli.stderr
    as_admin = await _cli(nats_url, "--as", "user:admin", "incidents", "resolve", "INC0000001")
    assert as_admin.returncode == 0, as_admin.stderr

