"""The AUDIT stream on a real nats-server: sourcing, retention and the trail read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reasonops_client.trail import collect_trail
from reasonops_contracts import Envelope
from reasonops_contracts.agents import AgentProposalRecorded
from reasonops_contracts.finance import LedgerEntryPosted, PostingLine
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.slm import PenaltyAssessed
from reasonops_contracts.streams import AUDIT, DAY, DOMAIN_STREAMS
from reasonops_contracts.workflows import WorkflowStarted
from reasonops_runtime.jetstream import ensure_streams
from tests.support import accepted, cli, publish_all, wait_for

pytestmark = pytest.mark.nats
NOW = datetime.now(UTC)


def chain(incident: str = "INC0000001") -> list[Envelope]:
    """One envelope per sourced domain stream, each caused by the one before."""
    alert = accepted(f"fp-{incident}")
    opened = alert.caused(IncidentOpened(
        incident_id=incident, title="checkout 5xx", severity="critical", impact=1, urgency=1,
        priority=1, priority_reason="critical", fingerprint=f"fp-{incident}", opened_at=NOW),
        source="incidents", subject=incident)
    started = opened.caused(WorkflowStarted(
        workflow_id=f"WF-{incident}", workflow="major-incident", version=1,
        incident_id=incident, started_at=NOW), source="orchestrator", subject=f"WF-{incident}")
    proposal = started.caused(AgentProposalRecorded(
        proposal_id="P1", decision_id="D1", agent="security", incident_id=incident,
        action="block_source", target="203.0.113.9", reason="brute force", proposed_at=NOW),
        source="agent-security", subject=incident)
    denied = proposal.caused(AccessDenied(
        principal="agent:security", action="proposal.block_source", roles=["security-agent"],
        reason="needs approval", incident_id=incident, service_name="orchestrator",
        denied_at=NOW), source="orchestrator", subject=incident)
    penalty = denied.caused(PenaltyAssessed(
        penalty_id="PEN1", incident_id=incident, clock_id="c1", contract_id="ACME",
        supplier="Acme Hosting", service="checkout", priority=1, kind="response",
        amount=Decimal("500"), currency="EUR", assessed_at=NOW, reason="P1 breach"),
        source="slm", subject=incident)
    posted = penalty.caused(LedgerEntryPosted(
        entry_id="E1", posted_at=NOW, period=NOW.strftime("%Y-%m"), penalty_id="PEN1",
        service="checkout", amount=Decimal("500"), currency="EUR", causation_id=penalty.id,
        lines=[PostingLine(account="credits", debit=Decimal("500"))]),
        source="finance", subject="E1")
    envelopes = [alert, opened, started, proposal, denied, penalty, posted]
    return [env.model_copy(update={"time": NOW + timedelta(seconds=i)})
            for i, env in enumerate(envelopes)]


async def test_audit_sources_every_domain_stream_and_the_trail_reads_the_chain(nc) -> None:
    await ensure_streams(nc.jetstream())
    envelopes = chain()
    await publish_all(nc, [*envelopes, *chain("INC0000002")])

    trail = await wait_for(lambda: collect_trail(nc, "INC0000001", timeout=1.0),
                           check=lambda found: len(found) == len(envelopes))

    assert [e.id for e in trail] == [env.id for env in envelopes]
    assert [e.actor for e in trail] == ["ingest", "incidents", "orchestrator", "agent:security",
                                        "agent:security", "slm", "finance"]
    assert trail[-1].summary.startswith("ledger penalty 500")
    assert await collect_trail(nc, "INC0000404", timeout=1.0) == []


async def test_audit_retention_is_configurable_and_updates_the_existing_stream(nc) -> None:
    js = nc.jetstream()
    await ensure_streams(js)
    assert (await js.stream_info(AUDIT.name)).config.max_age == 365 * DAY

    await ensure_streams(js, audit_retention_days=30)

    assert (await js.stream_info(AUDIT.name)).config.max_age == 30 * DAY
    for spec in DOMAIN_STREAMS:  # only the audit copy changes
        assert (await js.stream_info(spec.name)).config.max_age == spec.max_age_seconds



async def test_audit_trail_command_prints_exports_and_refuses_unknown(nats_url, nc) -> None:
    await ensure_streams(nc.jetstream())
    envelopes = chain()
    await publish_all(nc, envelopes)
    await wait_for(lambda: collect_trail(nc, "INC0000001", timeout=1.0),
                   check=lambda found: len(found) == len(envelopes))

    code, out, _ = await cli(nats_url, "audit", "trail", "INC0000001", "--json")
    assert code == 0
    exported = json.loads(out)
    assert [e["type"] for e in exported] == [env.type for env in envelopes]
    assert exported[1]["data"]["fingerprint"] == "fp-INC0000001"

    code, out, _ = await cli(nats_url, "audit", "trail", "INC0000001")
    assert code == 0
    assert "penalty 500 EUR from Acme Hosting" in out
    assert "agent:security" in out

    code, _, err = await cli(nats_url, "audit", "trail", "INC0000404")
    assert code == 1
    assert "no audit records for INC0000404" in err
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    code, _, err = await cli(nats_url, "audit", "trail", "INC0000001", "--since", later,
                             "--timeout", "0.5")
    assert code == 1  # nothing stored after that time
