"""Paging through thousands: 2,500 incidents and 2,500 ledger entries, each seen exactly
once by following ``next_cursor``, with the total right on every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.finance import LedgerEntryList, ListLedgerEntries
from reasonops_contracts.incidents import (
    IncidentClosed,
    IncidentList,
    IncidentOpened,
    IncidentResolved,
    ListIncidents,
)
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_runtime.client import request
from tests.support import accepted, issue_token, publish_all, wait_for

pytestmark = [pytest.mark.nats, pytest.mark.slow]

CONFIG = Path(__file__).parents[2] / "examples" / "config"
MANY = 2500


async def every_page(api: httpx.AsyncClient, path: str, key: str, **params) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = (await api.get(path, params={**params, **({"cursor": cursor} if cursor
                                                          else {})})).json()
        assert page["total"] == MANY
        seen += [item[key] for item in page["items"]]
        cursor = page.get("next_cursor")
        if cursor is None:
            return seen


async def test_2500_incidents_and_2500_ledger_entries_page_through(nc, start_service):
    await start_service(build_incidents, IncidentSettings)
    await start_service(build_finance, FinanceSettings, finance_config=CONFIG / "finance.yaml",
                        service_catalog=CONFIG / "service-catalog.yaml")
    gateway = await start_service(build_gateway, GatewaySettings,
                                  rate_limit_per_second=1000, rate_limit_burst=1000)
    await publish_all(nc, [accepted(f"many-{i}", service="checkout") for i in range(MANY)])
    # Ledger entries: incidents that opened elsewhere, were resolved an hour later and
    # closed (finance books each one's cost at its close).
    start = datetime.now(UTC) - timedelta(hours=2)
    events = []
    for i in range(MANY):
        opened = Envelope.wrap(IncidentOpened(
            incident_id=f"INC9{i:06d}", title="past outage", service="checkout",
            severity="critical", impact=1, urgency=1, priority=1, priority_reason="P1",
            fingerprint=f"past-{i}", opened_at=start), source="incidents")
        resolved = opened.caused(IncidentResolved(
            incident_id=f"INC9{i:06d}", resolved_at=start + timedelta(hours=1),
            actor="user:admin"), source="incidents")
        events += [opened, resolved, resolved.caused(IncidentClosed(
            incident_id=f"INC9{i:06d}", closed_at=start + timedelta(hours=1),
            actor="user:admin"), source="incidents")]
    await publish_all(nc, events)
    await wait_for(lambda: request(nc, ListIncidents(actor="user:admin", limit=1),
                                   IncidentList), check=lambda r: r.total == MANY, timeout=120)
    await wait_for(lambda: request(nc, ListLedgerEntries(actor="user:admin", limit=1),
                                   LedgerEntryList), check=lambda r: r.total == MANY,
                   timeout=120)
    token = await issue_token(nc, "user:admin")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.port}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as api:
        incidents = await every_page(api, "/api/incidents", "incident_id", limit=1000)
        entries = await every_page(api, "/api/finance/entries", "entry_id", limit=700)
    assert len(incidents) == len(set(incidents)) == MANY
    assert len(entries) == len(set(entries)) == MANY
