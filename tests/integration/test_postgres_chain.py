"""The alert-to-ledger chain with every service on its own PostgreSQL database."""

from decimal import Decimal
from pathlib import Path

import pytest

from reasonops_contracts.finance import FinanceSummary, GetFinanceSummary
from reasonops_contracts.incidents import IncidentList, IncidentView, ListIncidents, ResolveIncident
from reasonops_contracts.slm import GetSlaStatus, SlaStatus
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import accepted, publish_all, wait_for

pytestmark = [pytest.mark.nats, pytest.mark.postgres]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "config"


async def test_alert_to_ledger_on_postgres(nc, start_service, postgres_database):
    await start_service(build_incidents, IncidentSettings, database_url=postgres_database())
    await start_service(build_slm, SlmSettings, database_url=postgres_database(),
                        sla_policies=EXAMPLES / "sla-policies-fast.yaml",
                        supplier_contracts=EXAMPLES / "supplier-contracts.yaml")
    await start_service(build_finance, FinanceSettings, database_url=postgres_database())

    firing = [accepted("fp-1"), accepted("fp-1"), accepted("fp-2", severity="warning")]
    await publish_all(nc, firing)
    await publish_all(nc, firing, with_msg_id=False)  # redelivered: no effect
    found = await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                           check=lambda r: len(r.items) == 2)
    by_fp = {i.fingerprint: i for i in found.items}
    assert (by_fp["fp-1"].alert_count, by_fp["fp-1"].priority) == (2, 1)

    # P1 on the fast policies: both clocks breach within 3 s, 500.00 EUR each.
    status = await wait_for(lambda: request(nc, GetSlaStatus(incident_id="INC0000001"), SlaStatus),
                            check=lambda s: len(s.penalties) == 2, timeout=20)
    assert {c.state for c in status.clocks} == {"breached"}
    month = status.penalties[0].assessed_at.strftime("%Y-%m")
    summary = await wait_for(lambda: request(nc, GetFinanceSummary(month=month), FinanceSummary),
                             check=lambda s: s.entries == 2)
    assert summary.totals == {"EUR": Decimal("1000.00")}

    view = await request(nc, ResolveIncident(incident_id="INC0000002", note="fixed"),
                         IncidentView)
    assert view.resolved_at is not None
    assert view.resolved_at.tzinfo is not None
