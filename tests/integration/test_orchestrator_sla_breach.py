"""SLA breach -> penalty -> ledger entry -> supplier managers told, with real slm and
finance on second-scale SLAs."""

from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.workflows import (
    ListWorkflowInstances,
    WorkflowInstanceList,
)
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.integration.test_orchestrator_major import RecordingNotifier
from tests.support import publish_all, wait_for

pytestmark = pytest.mark.nats

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "config"


async def test_each_breach_is_followed_to_the_ledger_and_told(nc, start_service, database_url):
    """On SQLite and on PostgreSQL (where concurrent handlers lock the instance row)."""
    notifier = RecordingNotifier()
    await start_service(build_slm, SlmSettings,
                        sla_policies=EXAMPLES / "sla-policies-fast.yaml",
                        supplier_contracts=EXAMPLES / "supplier-contracts.yaml")
    await start_service(build_finance, FinanceSettings)
    await start_service(partial(build_orchestrator, notifier=notifier), OrchestratorSettings,
                        database_url=database_url)
    # P1 on the fast policies: response 2s, resolution 3s; checkout is under contract.
    await publish_all(nc, [Envelope.wrap(IncidentOpened(
        incident_id="INC0000001", title="checkout down", service="checkout",
        severity="critical", impact=1, urgency=1, priority=1, priority_reason="test",
        fingerprint="fp-1", opened_at=datetime.now(UTC)), source="incidents")])

    found = await wait_for(lambda: request(nc, ListWorkflowInstances(
        workflow="sla-breach", state="completed"), WorkflowInstanceList),
        check=lambda found: len(found.items) == 2, timeout=30)
    assert sorted(i.workflow_id for i in found.items) == [
        "SLA-INC0000001-resolution-1", "SLA-INC0000001-response-1"]
    for instance in found.items:
        steps = {s.step: s for s in instance.steps}
        assert steps["ledger"].result["penalty_id"] == steps["penalty"].result["penalty_id"]
        assert steps["notify"].result["delivered"] == ["supplier-managers-hook"]
    told = [n for group, n in notifier.sent if group == "supplier-managers"]
    assert [n.title for n in told] == ["SLA breach on INC0000001: Acme Hosting penalty"] * 2
    assert all(n.text.startswith("500.00 EUR") for n in told), [n.text for n in told]
    assert all("ledger entry" in n.text for n in told)
