"""The post-incident review a major incident's workflow records when it resolves, read
back through the API and on the incident's page, by whoever may read the incident.
(The query itself, its refusals and the CLI: ``test_orchestrator_major``.)"""

from decimal import Decimal

import httpx
import pytest

from reasonops_agent_rca.app import RcaSettings
from reasonops_agent_rca.app import build_service as build_rca
from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from tests.integration.test_console import logged_in, screenshots
from tests.support import wait_for

pytestmark = pytest.mark.nats


async def test_the_api_and_console_show_the_review_to_who_may_read_the_incident(
        gateway_stack, start_service, tmp_path, browser):
    policy = tmp_path / "policy.yaml"  # gateway_stack's: olga reads team payments
    for build, settings in ((build_triage, TriageSettings), (build_rca, RcaSettings),
                            (build_orchestrator, OrchestratorSettings)):
        await start_service(build, settings, policy=policy)
    url, ids = gateway_stack["url"], gateway_stack["ids"]
    checkout, search = ids["checkout"], ids["search"]

    async def get(path: str, who: str = "admin") -> httpx.Response:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            return await client.get(path, headers={
                "Authorization": f"Bearer {gateway_stack[who]}"})

    async def agents_done() -> bool:
        found = await get(f"/api/incidents/{checkout}/workflow?name=major-incident")
        done = {s["step"] for s in found.json().get("steps", []) if s["state"] == "completed"}
        return found.status_code == 200 and {"triage", "rca"} <= done

    await wait_for(agents_done, timeout=30)
    before = await get(f"/api/incidents/{checkout}/review")
    assert before.status_code == 404  # not resolved yet
    assert "one is recorded when a major incident resolves" in before.json()["detail"]
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        resolved = await client.post(f"/api/incidents/{checkout}/resolve", json={
            "note": "rolled back the release"}, headers={
            "Authorization": f"Bearer {gateway_stack['admin']}"})
    assert resolved.status_code == 200, resolved.text

    found = await wait_for(lambda: get(f"/api/incidents/{checkout}/review"),
                           check=lambda r: r.status_code == 200, timeout=30)
    review = found.json()
    assert (review["incident_id"], review["workflow_id"]) == (checkout, f"MI-{checkout}")
    assert set(review["decisions"]) == {"triage", "rca"}
    assert {"opened", "major_declared", "state_changed"} <= {
        t["kind"] for t in review["timeline"]}
    assert {c["kind"] for c in review["sla"]} >= {"response", "resolution"}
    # Ten minutes of a tier-1 outage and its responders, reckoned when it resolved (the
    # entry is booked when it closes).
    assert Decimal(review["cost"]["EUR"]) > 0
    assert review["cost_detail"].startswith("downtime 10.")
    same = await get(f"/api/workflows/instances/MI-{checkout}/review", "olga")
    assert same.json() == review  # olga reads team payments
    other = await get(f"/api/incidents/{search}/review", "olga")
    assert other.status_code in (403, 404)  # search is not hers to read

    page = await logged_in(browser, url, gateway_stack["admin"])
    await page.goto(f"{url}/incidents/{checkout}")
    section = page.locator("[data-testid=review]")
    text = await section.text_content() or ""
    assert "Post-incident review" in text
    assert "rolled back the release" in text  # the timeline's resolution
    for clock in ("response", "resolution"):
        assert await section.locator(f"[data-testid=review-clock-{clock}]").count() == 1
    await screenshots(page, "review")
