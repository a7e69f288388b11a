"""SLM and finance together, in real time: second-scale SLAs breach, penalties are booked."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.finance import FinanceSummary, GetFinanceSummary, LedgerEntryPosted
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.slm import PenaltyAssessed, SlaBreached
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "config"


def opened(incident_id, service) -> Envelope:
    event = IncidentOpened(incident_id=incident_id, title=f"{service} down", service=service,
                           severity="critical", impact=1, urgency=1, priority=1,
                           priority_reason="test", fingerprint=f"fp-{incident_id}",
                           opened_at=datetime.now(UTC))
    return Envelope.wrap(event, source="incidents", subject=incident_id)


async def test_breaches_on_a_covered_service_are_booked_in_the_ledger(nc, start_service):
    await start_service(build_slm, SlmSettings,
                        sla_policies=EXAMPLES / "sla-policies-fast.yaml",
                        supplier_contracts=EXAMPLES / "supplier-contracts.yaml")
    await start_service(build_finance, FinanceSettings)
    # P1 on the fast policies: response 2s, resolution 3s; only checkout is under contract.
    await publish_all(nc, [opened("INC0000001", "checkout"), opened("INC0000002", "search")])

    breaches = await wait_for(lambda: stream_messages(nc, "SLM", SlaBreached.SUBJECT),
                              check=lambda found: len(found) == 4, timeout=20)
    by_incident = sorted((e.subject, e.decode(SlaBreached).kind) for e in breaches)
    assert by_incident == [("INC0000001", "resolution"), ("INC0000001", "response"),
                           ("INC0000002", "resolution"), ("INC0000002", "response")]
    penalties = [e.decode(PenaltyAssessed)
                 for e in await stream_messages(nc, "SLM", PenaltyAssessed.SUBJECT)]
    assert {(p.incident_id, p.kind, p.amount) for p in penalties} == {
        ("INC0000001", "response", Decimal("500.00")),
        ("INC0000001", "resolution", Decimal("500.00"))}

    month = penalties[0].assessed_at.strftime("%Y-%m")
    summary = await wait_for(lambda: request(nc, GetFinanceSummary(month=month), FinanceSummary),
                             check=lambda s: s.entries == 2)
    assert summary.totals == {"EUR": Decimal("1000.00")}
    assert [(ln.supplier, ln.service) for ln in summary.lines] == [("Acme Hosting", "checkout")]
    posted = await stream_messages(nc, "FINANCE", LedgerEntryPosted.SUBJECT)
    assert {e.decode(LedgerEntryPosted).penalty_id for e in posted} == {
        p.penalty_id for p in penalties}
