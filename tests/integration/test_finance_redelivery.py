"""Redelivered and duplicated events never post twice: the ledger after forced redelivery
equals the ledger before, entry for entry and account for account."""

from collections import defaultdict
from decimal import Decimal

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.finance import (
    FinanceSummary,
    GetFinanceSummary,
    LedgerEntryList,
    ListLedgerEntries,
)
from reasonops_contracts.slm import PenaltyAssessed
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from tests.integration.test_slm_finance_month import files, run_month, settled, t
from tests.support import publish_all, stream_messages

pytestmark = pytest.mark.nats
__all__ = ["files"]  # the fixture, imported for this module's tests


async def ledger(nc):
    entries = (await request(nc, ListLedgerEntries(limit=1000), LedgerEntryList)).items
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for e in entries:
        for line in e.lines:
            balances[(line.account, e.currency)] += line.debit - line.credit
    summaries = [await request(nc, GetFinanceSummary(month=m), FinanceSummary)
                 for m in ("2026-03", "2026-04")]
    return sorted(e.entry_id for e in entries), dict(balances), summaries


def rewrapped(envelope: Envelope, model) -> Envelope:
    """The same event in a new envelope (a new message id), as a buggy sender would."""
    return Envelope.wrap(envelope.decode(model), source=envelope.source,
                         subject=envelope.subject)


async def test_forced_redelivery_and_duplicates_leave_the_ledger_unchanged(
        nc, start_service, files):
    clock = FrozenClock(t(1, 0))
    slm, finance, published = await run_month(nc, start_service, files, clock)
    before = await ledger(nc)
    ids, balances, (march, _) = before
    assert len(ids) == 9 + 4
    assert sum(balances.values()) == 0  # every entry balanced
    assert balances[("supplier-credits-receivable:Acme", "EUR")] == Decimal("4500.00")
    assert balances[("service-credit-income", "EUR")] == Decimal("-4500.00")
    assert balances[("accrued-incident-costs", "EUR")] == Decimal("-54966.66")
    assert march.totals == {"EUR": Decimal("4500.00")}

    from reasonops_contracts.registry import EVENTS

    # 1. The same messages again (same ids, no broker de-duplication): the inboxes.
    await publish_all(nc, published, with_msg_id=False)
    penalties = await stream_messages(nc, "SLM", PenaltyAssessed.SUBJECT)
    await publish_all(nc, penalties, with_msg_id=False)
    # 2. The same events under new ids: the services' own keys (incident, penalty, cost).
    await publish_all(nc, [rewrapped(e, EVENTS[e.type]) for e in published])
    await publish_all(nc, [rewrapped(e, PenaltyAssessed) for e in penalties])
    await settled(nc, slm, clock)
    # 3. Finance loses its consumers and replays both streams from the start.
    await finance.stop()
    js = nc.jetstream()
    await js.delete_consumer("SLM", "finance")
    await js.delete_consumer("INCIDENTS", "finance-incidents")
    await start_service(build_finance, FinanceSettings, clock=clock,
                        finance_config=files["finance"], service_catalog=files["catalog"])
    await settled(nc, slm, clock)

    assert await ledger(nc) == before
