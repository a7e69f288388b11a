"""Fixtures of the integration tests that need the gateway and the services behind it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reasonops_contracts import durables, streams
from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_runtime.jetstream import drained
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import accepted, issue_token, publish_all, wait_for

CONFIG = Path(__file__).parents[2] / "examples" / "config"
POLICY = """
roles:
  admin: {allow: ["*"]}
  responder: {allow: ["incident.*"]}
  observer: {allow: []}
principals:
  user:admin: [admin]
  user:olga:
    - {role: observer, teams: [payments]}
    - {role: responder, teams: [payments]}
  service:*: [admin]
  user:tests: [admin]  # the CLI's identity in the tests
"""


@pytest.fixture
async def gateway_stack(nc, start_service, tmp_path):
    """Incidents, SLM, finance and the gateway under a policy with an admin and an
    observer-responder of team payments (olga); one incident on checkout (payments) and
    one on search (discovery), opened ten minutes ago; a token for each person."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    shared = {"policy": policy, "service_catalog": CONFIG / "service-catalog.yaml"}
    # Opened ten minutes ago: an incident closed now has a downtime cost to book.
    clock = FrozenClock(datetime.now(UTC) - timedelta(minutes=10))
    await start_service(build_incidents, IncidentSettings, clock=clock, **shared)
    await start_service(build_slm, SlmSettings, clock=clock,
                        supplier_contracts=CONFIG / "supplier-contracts.yaml", **shared)
    await start_service(build_finance, FinanceSettings, finance_config=CONFIG / "finance.yaml",
                        clock=clock, **shared)
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                  rate_limit_per_second=1000, **shared)
    await publish_all(nc, [accepted("c", service="checkout"), accepted("s", service="search")])
    found = await wait_for(lambda: request(nc, ListIncidents(actor="user:admin"), IncidentList),
                           check=lambda r: r.total == 2)
    for durable in (durables.SLM_INCIDENTS, durables.FINANCE_INCIDENTS):  # in the background
        await drained(nc.jetstream(), streams.INCIDENTS.name, durable)
    clock.set(datetime.now(UTC))
    return {"url": f"http://127.0.0.1:{gateway.port}",
            "ids": {i.service: i.incident_id for i in found.items},
            "admin": await issue_token(nc, "user:admin"),
            "olga": await issue_token(nc, "user:olga")}


@pytest.fixture
async def gateway_engine(gateway_stack, start_service, tmp_path):
    """The stack of ``gateway_stack`` plus ingest, the orchestrator, on call (the
    example schedules), change management (the example change file) and the ServiceNow
    sync (no instance: it answers how it stands): every operation of the API has a
    service to answer it."""
    from reasonops_changes.app import ChangeSettings
    from reasonops_changes.app import build_service as build_changes
    from reasonops_ingest.app import IngestSettings
    from reasonops_ingest.app import build_service as build_ingest
    from reasonops_oncall.app import OnCallSettings
    from reasonops_oncall.app import build_service as build_oncall
    from reasonops_orchestrator.app import OrchestratorSettings
    from reasonops_orchestrator.app import build_service as build_orchestrator
    from reasonops_servicenow.app import SyncSettings
    from reasonops_servicenow.app import build_service as build_sync

    await start_service(build_ingest, IngestSettings)
    await start_service(build_orchestrator, OrchestratorSettings)
    await start_service(build_oncall, OnCallSettings, oncall=CONFIG / "oncall.yaml")
    await start_service(build_changes, ChangeSettings, changes=CONFIG / "changes.yaml",
                        service_catalog=CONFIG / "service-catalog.yaml",
                        policy=tmp_path / "policy.yaml")
    await start_service(build_sync, SyncSettings, policy=tmp_path / "policy.yaml")
    return gateway_stack


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (the console's tests)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--no-sandbox"])
        yield found
        await found.close()
