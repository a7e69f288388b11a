"""The root-cause agent briefs an incident once two agents have spoken about it: one
decision combining every view, each with its evidence, referencing the decisions."""

from datetime import UTC, datetime, timedelta

import pytest

from reasonops_agent_rca.app import RcaSettings
from reasonops_agent_rca.app import build_service as build_rca
from reasonops_contracts import Envelope, new_id, subjects
from reasonops_contracts.agents import (
    AgentDecisionRecorded,
    SecurityOutput,
    TriageOutput,
)
from reasonops_contracts.forecasts import SlmOutput
from reasonops_contracts.incidents import IncidentAcknowledged, IncidentOpened
from reasonops_runtime.jetstream import drained
from tests.support import owner, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

T = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
ADDRESS = "203.0.113.77"


def wrap(event) -> Envelope:
    return Envelope.wrap(event, source=owner(event))


def decided(agent, output, incident_id="INC0000001", minutes=1) -> AgentDecisionRecorded:
    return AgentDecisionRecorded(
        decision_id=new_id(), agent=agent, request_id=new_id(), incident_id=incident_id,
        provider="rules", model="rules", prompt_version=f"{agent}-rules", latency_ms=1,
        output=output, summary=f"{agent}: {output.summary}",
        decided_at=T + timedelta(minutes=minutes))


TRIAGE = TriageOutput(category="network", assignment_group="network-ops",
                      suggested_impact=2, suggested_urgency=2, suggested_priority=3,
                      confidence=0.8, reasons=["alert name SSHLoginFailures"],
                      summary="network for network-ops")
SECURITY = SecurityOutput(pattern="brute_force", source=ADDRESS, failures=60, accounts=1,
                          window_seconds=300, severity="critical",
                          recommended_actions=["block_source"], reasons=["60 failures"],
                          summary=f"brute force from {ADDRESS}")
SLM = SlmOutput(clock_id="clk-1", incident_id="INC0000001", kind="response", priority=3,
                deadline=T + timedelta(minutes=60), predicted_breach=True, minutes_left=40,
                minutes_needed=70, progress_percent=33, assignment_group="network-ops",
                queue_ahead=3, working_hours=True, recommended_actions=["escalate"],
                reasons=["network-ops answers in 70 min"], summary="response will breach")


async def briefings(nc) -> list[AgentDecisionRecorded]:
    found = await stream_messages(nc, "AGENTS", subjects.AGENT_DECISION)
    return [d for d in (e.decode(AgentDecisionRecorded) for e in found)
            if d.agent == "briefing"]


async def test_the_views_of_every_agent_in_one_decision(nc, start_service, database_url):
    """On SQLite and PostgreSQL (the security finding is found by the incident's
    ``source_ip`` label, read out of its JSON labels)."""
    await start_service(build_rca, RcaSettings, database_url=database_url)
    opened = IncidentOpened(
        incident_id="INC0000001", title=f"SSH login failures from {ADDRESS}",
        service="bastion", severity="critical", impact=2, urgency=2, priority=3,
        priority_reason="t", fingerprint="fp-ssh",
        labels={"alertname": "SSHLoginFailures", "source_ip": ADDRESS}, opened_at=T)
    security = decided("security", SECURITY, incident_id=None, minutes=0)
    await publish_all(nc, [wrap(opened), wrap(security)])
    await drained(nc.jetstream(), "INCIDENTS", "agent-rca-incidents")
    assert await briefings(nc) == []  # one view (security's) is not a briefing yet

    triage = decided("triage", TRIAGE)
    await publish_all(nc, [wrap(triage)])
    [first] = await wait_for(lambda: briefings(nc), timeout=30)
    assert first.incident_id == "INC0000001"
    assert first.output.references == [triage.decision_id, security.decision_id]
    assert "security sees an attack; triage filed it as network" in first.output.concerns
    assert first.output.suggested_priority == 1
    assert first.output.missing == ["rca", "slm"]

    slm = decided("slm", SLM, minutes=2)
    await publish_all(nc, [wrap(slm), wrap(triage)])  # triage's again is not new

    async def with_slm():
        return [b for b in await briefings(nc) if slm.decision_id in b.output.references]
    await wait_for(with_slm, timeout=30)
    await publish_all(nc, [wrap(IncidentAcknowledged(
        incident_id="INC0000001", acknowledged_at=T + timedelta(minutes=3), actor="bob"))])

    async def combined():
        found = await briefings(nc)
        return [b for b in found if len(b.output.views) == 4]
    [every] = await wait_for(combined, timeout=30)
    out = every.output
    rca = next(v for v in out.views if v.agent == "rca")
    assert [v.agent for v in out.views] == ["triage", "rca", "slm", "security"]
    assert out.references == [triage.decision_id, rca.decision_id, slm.decision_id,
                              security.decision_id]
    assert out.missing == []
    assert "the response clock is forecast to breach" in out.summary
    assert "escalate to the group's next level" in out.next_steps
    assert every.summary.startswith("Briefing (rules; triage, rca, slm, security)")
    await drained(nc.jetstream(), "AGENTS", "agent-rca-requests")
    assert len(await briefings(nc)) == 3  # security+triage, +slm, +rca: none twice


async def test_a_finding_on_the_address_from_days_before_is_not_a_view(nc, start_service):
    await start_service(build_rca, RcaSettings)
    old = decided("security", SECURITY, incident_id=None, minutes=-3 * 24 * 60)
    opened = IncidentOpened(
        incident_id="INC0000002", title=f"SSH login failures from {ADDRESS}",
        service="bastion", severity="warning", impact=3, urgency=3, priority=4,
        priority_reason="t", fingerprint="fp-ssh-2",
        labels={"alertname": "SSHLoginFailures", "source_ip": ADDRESS}, opened_at=T)
    await publish_all(nc, [wrap(old), wrap(opened)])
    await drained(nc.jetstream(), "INCIDENTS", "agent-rca-incidents")
    await publish_all(nc, [wrap(decided("triage", TRIAGE, incident_id="INC0000002"))])
    # A control after it: an incident with two fresh views, briefed once the queue has
    # had the first one's turn.
    await publish_all(nc, [wrap(opened.model_copy(update={
        "incident_id": "INC0000003", "fingerprint": "fp-3", "labels": {}}))])
    await drained(nc.jetstream(), "INCIDENTS", "agent-rca-incidents")
    await publish_all(nc, [wrap(decided("triage", TRIAGE, incident_id="INC0000003")),
                           wrap(decided("slm", SLM, incident_id="INC0000003"))])
    [control] = await wait_for(lambda: briefings(nc), timeout=30)
    assert control.incident_id == "INC0000003"  # INC0000002 has triage's view alone


async def test_the_api_cli_and_console_show_the_briefing_to_who_may_read_it(
        gateway_stack, nc, nats_url, start_service, browser):
    """On the incident's page, ``GET /api/incidents/{id}/briefing`` and ``reasonops
    agents briefing``; someone who may not read the incident is refused it."""
    import httpx

    from tests.integration.test_console import logged_in, screenshots
    from tests.support import cli

    await start_service(build_rca, RcaSettings)
    url, ids = gateway_stack["url"], gateway_stack["ids"]
    checkout, search = ids["checkout"], ids["search"]
    slm = SLM.model_copy(update={"incident_id": checkout, "assignment_group": "payments"})
    await publish_all(nc, [wrap(decided("triage", TRIAGE, incident_id=checkout)),
                           wrap(decided("slm", slm, incident_id=checkout, minutes=2)),
                           wrap(decided("triage", TRIAGE, incident_id=search))])

    async def get(incident_id: str, who: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=url) as client:
            return await client.get(f"/api/incidents/{incident_id}/briefing", headers={
                "Authorization": f"Bearer {gateway_stack[who]}"})

    found = await wait_for(lambda: get(checkout, "admin"),
                           check=lambda r: r.status_code == 200, timeout=30)
    body = found.json()
    assert (body["agent"], body["incident_id"]) == ("briefing", checkout)
    assert [v["agent"] for v in body["output"]["views"]] == ["triage", "slm"]
    refused = await get(search, "admin")
    assert refused.status_code == 404  # one view: no briefing
    assert "no briefing yet" in refused.json()["detail"]
    assert (await get(search, "olga")).status_code in (403, 404)  # not her team's
    async with httpx.AsyncClient(base_url=url) as client:
        async def listed(incident_id: str, who: str) -> list[str]:
            answer = await client.get("/api/agents/decisions", params={
                "incident_id": incident_id}, headers={
                "Authorization": f"Bearer {gateway_stack[who]}"})
            assert answer.status_code == 200, answer.text
            return [d["agent"] for d in answer.json()["decisions"]]
        assert sorted(await listed(checkout, "admin")) == ["briefing", "slm", "triage"]
        assert await listed(search, "olga") == []  # not hers to read
        assert await listed("INC9999999", "admin") == []  # no such incident

    code, out, err = await cli(nats_url, "agents", "briefing", checkout)
    assert code == 0, err
    assert "the response clock is forecast to breach" in out
    assert "slm (rules, decision " in out
    assert "No view yet from: rca, security" in out
    code, _, err = await cli(nats_url, "agents", "briefing", search)
    assert code != 0
    assert "no briefing yet" in err

    page = await logged_in(browser, url, gateway_stack["admin"])
    await page.goto(f"{url}/incidents/{checkout}")
    summary = await page.text_content("[data-testid=briefing-summary]") or ""
    assert summary.startswith(f"{checkout} (P")
    await page.click("[data-testid=view-slm] summary")
    assert "queued before it in payments" in (
        await page.text_content("[data-testid=view-slm]") or "")
    await screenshots(page, "briefing")
