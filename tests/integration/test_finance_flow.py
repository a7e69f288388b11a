"""Finance on a real nats-server: each penalty booked once, balanced, and summarised."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.finance import (
    FinanceSummary,
    GetFinanceSummary,
    LedgerEntryList,
    LedgerEntryPosted,
    ListLedgerEntries,
)
from reasonops_contracts.slm import PenaltyAssessed
from reasonops_finance.app import FinanceSettings, build_service
from reasonops_runtime.client import request
from reasonops_runtime.jetstream import drained as consumer_drained
from tests.support import publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

NOVEMBER = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)


def penalty(penalty_id="PEN-INC0000001-response-1", amount="500.00", at=NOVEMBER,
            supplier="Acme Hosting", service="checkout", currency="EUR",
            incident_id="INC0000001") -> Envelope:
    event = PenaltyAssessed(penalty_id=penalty_id, incident_id=incident_id,
                            clock_id=penalty_id.removeprefix("PEN-"), contract_id="ACME-1",
                            supplier=supplier, service=service, priority=1, kind="response",
                            amount=Decimal(amount), currency=currency, assessed_at=at,
                            reason="test")
    return Envelope.wrap(event, source="slm", subject=incident_id)


async def drained(nc):
    """Every penalty published so far has been handled and acknowledged."""
    await consumer_drained(nc.jetstream(), "SLM", "finance")


async def test_a_penalty_is_booked_once_however_often_it_arrives(nc, start_service):
    finance = await start_service(build_service, FinanceSettings)
    first = penalty()
    # Without Nats-Msg-Id the broker stores both copies: only the inbox can tell.
    await publish_all(nc, [first, first], with_msg_id=False)
    # The same penalty in a new envelope: only the penalty id can tell.
    await publish_all(nc, [penalty()])
    await drained(nc)

    entries = (await request(nc, ListLedgerEntries(), LedgerEntryList)).items
    assert len(entries) == 1
    (entry,) = entries
    assert entry.causation_id == first.id
    assert (entry.period, entry.amount, entry.currency) == ("2026-11", Decimal("500.00"), "EUR")
    assert [(ln.account, ln.debit, ln.credit) for ln in entry.lines] == [
        ("supplier-credits-receivable:Acme Hosting", Decimal("500.00"), Decimal("0.00")),
        ("service-credit-income", Decimal("0.00"), Decimal("500.00")),
    ]
    posted = await stream_messages(nc, "FINANCE", LedgerEntryPosted.SUBJECT)
    assert len(posted) == 1
    assert posted[0].causation_id == first.id
    assert posted[0].correlation_id == first.correlation_id

    sample = finance.registry.get_sample_value
    assert sample("reasonops_messages_total", {"service": "finance", "consumer": "finance",
                                               "outcome": "duplicate"}) == 1
    assert sample("reasonops_ledger_duplicate_penalties_total") == 1


async def test_summary_totals_by_supplier_service_and_currency(nc, start_service):
    await start_service(build_service, FinanceSettings)
    await publish_all(nc, [
        penalty("PEN-1", "500.00"),
        penalty("PEN-2", "0.10"),
        penalty("PEN-3", "0.20", service="search", incident_id="INC0000002"),
        penalty("PEN-4", "80.00", supplier="Bits Ltd", currency="GBP"),
        penalty("PEN-5", "999.99", at=DECEMBER),
    ])
    november = await wait_for(
        lambda: request(nc, GetFinanceSummary(month="2026-11"), FinanceSummary),
        check=lambda s: s.entries == 4)
    assert [(ln.supplier, ln.service, ln.currency, ln.amount, ln.entries)
            for ln in november.lines] == [
        ("Acme Hosting", "checkout", "EUR", Decimal("500.10"), 2),
        ("Acme Hosting", "search", "EUR", Decimal("0.20"), 1),
        ("Bits Ltd", "checkout", "GBP", Decimal("80.00"), 1),
    ]
    assert november.totals == {"EUR": Decimal("500.30"), "GBP": Decimal("80.00")}

    december = await request(nc, GetFinanceSummary(month="2026-12"), FinanceSummary)
    assert (december.entries, december.totals) == (1, {"EUR": Decimal("999.99")})
    empty = await request(nc, GetFinanceSummary(month="2027-01"), FinanceSummary)
    assert (empty.entries, empty.lines, empty.totals) == (0, [], {})

    search = await request(nc, ListLedgerEntries(incident_id="INC0000002"), LedgerEntryList)
    assert [e.penalty_id for e in search.items] == ["PEN-3"]
    in_december = await request(nc, ListLedgerEntries(month="2026-12"), LedgerEntryList)
    assert [e.penalty_id for e in in_december.items] == ["PEN-5"]
