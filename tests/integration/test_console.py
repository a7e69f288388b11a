"""The web console in a real Chromium (Debian's, driven by Playwright) against the real
gateway, services and nats-server: log in, watch an alert appear without a reload,
acknowledge and resolve it from the keyboard; a read-only person sees no action and is
refused a crafted one; the finance page follows a penalty as it is booked; the agents
page changes a chain and the next decision follows it. Every page is drawn in both
themes into ``docs/screenshots`` and checked by axe-core."""

from __future__ import annotations

import base64
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.agents import AgentDecisionRecorded, TriageRequested
from reasonops_contracts.incidents import (
    CloseIncident,
    GetIncident,
    IncidentList,
    IncidentView,
    ListIncidents,
    ListProblems,
    ProblemList,
    ResolveIncident,
)
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings
from reasonops_ingest.app import build_service as build_ingest
from reasonops_llm import LlmSettings
from reasonops_llm.fakes import FakeLlmServer
from reasonops_oncall.app import OnCallSettings
from reasonops_oncall.app import build_service as build_oncall
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.integration.test_gateway_oidc import Issuer
from tests.support import (
    accepted,
    issue_token,
    post_to_ingest,
    publish_all,
    stream_messages,
    wait_for,
)

pytestmark = pytest.mark.nats

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "config"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

ALERT = {
    "version": "4", "status": "firing", "receiver": "reasonops",
    "alerts": [{
        "status": "firing", "fingerprint": "c0ns01e000000001",
        "labels": {"alertname": "PaymentsLatency", "service": "checkout",
                   "severity": "critical", "pod": "checkout-7"},
        "annotations": {"summary": "p99 above 2 s"},
        "startsAt": "2026-12-05T09:00:00Z",
    }],
}


CSP_WATCH = """document.addEventListener("securitypolicyviolation", e =>
  (window.__csp = window.__csp || []).push(e.violatedDirective + " " + e.blockedURI));"""


async def logged_in(browser: Any, url: str, token: str) -> Any:
    context = await browser.new_context()
    await context.add_init_script(CSP_WATCH)  # what the pages' CSP blocks is a bug
    page = await context.new_page()
    await page.goto(f"{url}/incidents")
    assert "/login" in page.url  # no session: the login page, coming back after
    await screenshots(page, "login")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{url}/incidents")
    return page


async def screenshots(page: Any, name: str) -> None:
    """The page as it is, light and dark, for the documentation; in each theme, axe-core
    finds no serious or critical accessibility violation (WCAG 2.2 AA rules included)."""
    from axe_playwright_python.async_playwright import Axe

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert await page.evaluate("() => window.__csp || []") == [], name
    for theme in ("light", "dark"):
        await page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
        await page.screenshot(path=SCREENSHOTS / f"{name}-{theme}.png", full_page=True)
        found = await Axe().run(page, options={"runOnly": {
            "type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa",
                                      "best-practice"]}})
        bad = [(v["id"], v["impact"], len(v["nodes"])) for v in found.response["violations"]
               if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name} ({theme}): {bad}"
    await page.evaluate("document.documentElement.dataset.theme = 'auto'")


async def test_an_alert_appears_live_and_is_handled_from_the_keyboard(
        gateway_stack, start_service, browser, tmp_path):
    url = gateway_stack["url"]
    ingest = await start_service(build_ingest, IngestSettings,
                                 default_integration_key_file=tmp_path / "ingest.key")
    page = await logged_in(browser, url, gateway_stack["admin"])
    rows = page.locator("tr[data-incident]")
    assert await rows.count() == 2
    await screenshots(page, "incidents")
    await page.wait_for_function("() => document.getElementById('offline').hidden")

    response = await post_to_ingest(f"http://127.0.0.1:{ingest.port}", "/v1/alertmanager",
                                    ALERT, key_file=tmp_path / "ingest.key")
    assert response.status_code == 202
    await page.wait_for_function(
        "() => document.querySelectorAll('tr[data-incident]').length === 3", timeout=15_000)
    newest = await rows.first.get_attribute("data-incident")
    assert newest not in gateway_stack["ids"].values()

    await page.click(f"tr[data-incident='{newest}'] a")
    await page.wait_for_url(f"{url}/incidents/{newest}")
    assert await page.text_content("[data-testid=state]") == "new"
    await page.keyboard.press("a")
    await page.wait_for_url(f"{url}/incidents/{newest}?done=acknowledge")
    assert await page.text_content("[data-testid=state]") == "acknowledged"
    assert not await page.locator("button[data-action=acknowledge]").count()
    # SLM stops the response clock on the acknowledgement; the page follows by itself.
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=clock-response] .clock-state')"
        "?.textContent.trim() === 'met'", timeout=15_000)
    await page.keyboard.press("c")  # a blank comment: the service's error, next to it
    await page.keyboard.type("   ")
    await page.keyboard.press("Enter")
    error = page.locator("form[action$='/comment'] [data-testid=form-error]")
    assert "note" in (await error.text_content() or "")
    assert await page.get_attribute("form[action$='/comment'] input[name=note]",
                                    "aria-invalid") == "true"
    await page.keyboard.press("Escape")
    # The same form posted twice (a double click, a retried post) is applied once.
    form = page.locator("form[action$='/comment']")
    fields = {name: await form.locator(f"input[name={name}]").get_attribute("value") or ""
              for name in ("csrf", "nonce")}
    for _ in range(2):
        posted = await page.request.post(f"{url}/incidents/{newest}/comment",
                                         form={**fields, "note": "called the customer"},
                                         max_redirects=0)
        assert posted.status == 303
    await page.goto(f"{url}/incidents/{newest}")
    assert (await page.text_content("ol.timeline") or "").count("called the customer") == 1
    await page.locator("body").focus()
    await page.keyboard.press("r")  # focuses the resolve form's note
    await page.keyboard.type("rolled back the release")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{url}/incidents/{newest}?done=resolve")
    assert await page.text_content("[data-testid=state]") == "resolved"
    assert "rolled back the release" in await page.text_content("ol.timeline")
    await screenshots(page, "incident")
    await page.goto(f"{url}/")
    assert await page.text_content("[data-testid=open-incidents]") == "2"
    await screenshots(page, "overview")
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    for path, name in (("/incidents", "incidents-phone"), (f"/incidents/{newest}",
                                                           "incident-phone")):
        await page.goto(f"{url}{path}")
        await screenshots(page, name)
        assert await page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth + 1"), name


async def test_the_service_desk_opens_an_incident_from_the_list(gateway_stack, nc, browser):
    """A call to the service desk: the form on the list opens an incident whose priority
    follows from impact and urgency, and lands on its page; the service's refusal is
    shown next to the field it names, and nothing is opened."""
    url = gateway_stack["url"]
    page = await logged_in(browser, url, gateway_stack["admin"])
    await page.click("[data-testid=open-incident] summary")
    await page.fill("form[action='/incidents'] input[name=title]", "   ")
    await page.click("button[data-action=open]")
    error = page.locator("form[action='/incidents'] [data-testid=form-error]")
    assert "title" in (await error.text_content() or "")
    assert await page.get_attribute("form[action='/incidents'] input[name=title]",
                                    "aria-invalid") == "true"
    await page.fill("form[action='/incidents'] input[name=title]",
                    "Card payments declined at the shop counter")
    await page.fill("form[action='/incidents'] input[name=service]", "checkout")
    await page.select_option("select[name=impact]", "1")
    await page.select_option("select[name=urgency]", "2")
    await page.fill("input[name=caller]", "Rui, shop 12")
    await page.fill("textarea[name=description]", "Every card since 10:05 is declined.")
    await screenshots(page, "open-incident")
    await page.click("button[data-action=open]")
    await page.wait_for_url(f"{url}/incidents/INC*?done=open")
    incident_id = page.url.rsplit("/", 1)[1].split("?", 1)[0]
    opened = await request(nc, GetIncident(incident_id=incident_id, actor="user:admin"),
                           IncidentView)
    assert (opened.priority, opened.service, opened.labels["caller"]) == (
        2, "checkout", "Rui, shop 12")
    assert opened.labels["source"] == "service-desk"
    assert await page.text_content("[data-testid=state]") == "new"
    listed = await request(nc, ListIncidents(actor="user:admin"), IncidentList)
    assert listed.total == 3  # the two of the stack and this one: the refused one is not


async def test_a_read_only_person_sees_no_action_and_a_crafted_one_is_refused(
        gateway_stack, nc, browser):
    url = gateway_stack["url"]
    observer = await issue_token(nc, "user:olga", roles=["observer"])
    page = await logged_in(browser, url, observer)
    incident_id = gateway_stack["ids"]["checkout"]  # olga's team's: she may read it
    await page.goto(f"{url}/incidents/{incident_id}")
    assert await page.text_content("[data-testid=state]") == "new"
    assert not await page.locator("form.action").count()
    await page.goto(f"{url}/incidents")
    assert not await page.locator("[data-testid=open-incident]").count()
    await page.goto(f"{url}/incidents/{incident_id}")
    csrf = await page.get_attribute("input[name=csrf]", "value")  # the logout form's
    refused = await page.request.post(f"{url}/incidents/{incident_id}/acknowledge",
                                      form={"csrf": csrf or "", "nonce": "crafted"})
    assert refused.status == 403
    forged = await page.request.post(f"{url}/incidents/{incident_id}/acknowledge",
                                     form={"csrf": "guessed", "nonce": "crafted-2"})
    assert forged.status == 403
    await page.goto(f"{url}/incidents/{incident_id}")
    assert await page.text_content("[data-testid=state]") == "new"  # nothing changed


async def test_the_finance_page_follows_a_penalty_as_it_is_booked(
        nc, start_service, browser, tmp_path):
    """Second-scale SLAs: a P1 on checkout (under Acme's contract) breaches while the
    finance page is open; its penalties appear without a reload, and each entry says why
    it was booked."""
    ingest = await start_service(build_ingest, IngestSettings,
                                 default_integration_key_file=tmp_path / "ingest.key")
    await start_service(build_incidents, IncidentSettings)
    await start_service(build_slm, SlmSettings,
                        sla_policies=CONFIG / "sla-policies-fast.yaml",
                        supplier_contracts=CONFIG / "supplier-contracts.yaml")
    await start_service(build_finance, FinanceSettings, finance_config=CONFIG / "finance.yaml")
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                  rate_limit_per_second=1000)
    url = f"http://127.0.0.1:{gateway.port}"
    page = await logged_in(browser, url, await issue_token(nc, "user:admin"))
    await page.goto(f"{url}/finance")
    assert await page.locator("[data-testid=penalties-none]").count() == 1
    await page.wait_for_function("() => document.getElementById('offline').hidden")

    response = await post_to_ingest(f"http://127.0.0.1:{ingest.port}", "/v1/alertmanager",
                                    ALERT, key_file=tmp_path / "ingest.key")
    assert response.status_code == 202
    # Response (2 s) and resolution (3 s) both breach: two penalties of 500 EUR.
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=penalties-EUR]')"
        "?.textContent.trim() === '1,000.00'", timeout=30_000)
    await screenshots(page, "finance")
    await page.click("tr[data-entry] a:text('why')")
    assert "penalty" in (await page.text_content("[data-testid=origin]") or "").lower()
    await screenshots(page, "entry")
    download = await page.request.get(f"{url}/finance.csv")
    assert download.ok
    assert "penalties by supplier,Acme Hosting,EUR,1000" in (await download.text())

    await page.goto(f"{url}/suppliers")
    acme = page.locator("tr[data-contract=ACME-HOSTING-2026]")
    assert (await acme.locator("[data-testid=status]").text_content()) == "penalties"
    assert "1,000.00 EUR" in (await acme.text_content() or "")
    await screenshots(page, "suppliers")
    await page.goto(f"{url}/service-levels")
    checkout = page.locator("tr[data-service=checkout]")
    assert await checkout.locator("svg.trend polyline").count() == 1
    assert "2" in (await checkout.locator("td").last.text_content() or "")  # 2 breaches
    # Nobody acknowledged or resolved it: both clocks are breached now, and say by how much.
    assert await page.text_content("[data-testid=breached-count]") == "2 breached"
    overdue = page.locator("#clocks tbody tr.bad")
    assert await overdue.count() == 2
    assert "overdue" in (await overdue.first.text_content() or "")
    assert "overdue 0 s" not in (await overdue.first.text_content() or "")
    p1 = page.locator("[data-testid=definitions] tr", has_text="P1 demo")
    assert "2 s" in (await p1.text_content() or "")
    await screenshots(page, "service-levels")
    await page.goto(f"{url}/")
    assert await page.text_content("[data-testid=breached-now]") == "2"
    await page.click("[data-testid=breached-now]")
    await page.wait_for_url(f"{url}/service-levels#clocks")


ANSWER = {"category": "storage", "assignment_group": "storage-operations",
          "suggested_impact": 2, "suggested_urgency": 2, "suggested_priority": 3,
          "confidence": 0.9, "reasons": ["disk"], "summary": "Disk fills up."}


def triage_requested(incident: str) -> Envelope:
    return Envelope.wrap(TriageRequested(
        request_id=f"REQ-{incident}", workflow_id=f"WF-{incident}", incident_id=incident,
        title="Disk almost full", service="billing", severity="warning", priority=3,
        labels={"alertname": "NodeFilesystemSpaceFillingUp"}),
        source="orchestrator", subject=incident)


async def decided(nc: Any, incident: str) -> AgentDecisionRecorded:
    found = await wait_for(lambda: stream_messages(nc, "AGENTS", subjects.AGENT_DECISION),
                           check=lambda all_: [e for e in all_ if e.subject == incident])
    return next(e for e in found if e.subject == incident).decode(AgentDecisionRecorded)


async def test_the_agents_page_changes_the_chain_and_the_next_decision_follows(
        nc, start_service, browser):
    server = await FakeLlmServer(ANSWER, models=("llama3.1",)).start()
    try:
        llm = LlmSettings(ollama_url=server.url, timeout_seconds=10, retries=0)
        await start_service(partial(build_triage, llm=llm), TriageSettings)
        gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                      rate_limit_per_second=1000)
        url = f"http://127.0.0.1:{gateway.port}"
        await publish_all(nc, [triage_requested("INC0000001")])
        assert (await decided(nc, "INC0000001")).provider == "rules"

        page = await logged_in(browser, url, await issue_token(nc, "user:admin"))
        await page.goto(f"{url}/agents")
        assert (await page.text_content("tr[data-agent=triage] .chain") or "").strip() == "rules"
        await page.select_option("select[name=agent]", "triage")
        await page.select_option("select[name=provider]", "ollama")
        await page.fill("input[name=model]", "llama3.1")
        await page.click("form[action='/agents/configure'] button")
        await page.wait_for_url(f"{url}/agents?done=configure")
        for _ in range(50):  # the agent picks the chain up from the bucket
            chain = (await page.text_content("tr[data-agent=triage] .chain") or "").strip()
            if chain == "ollama:llama3.1 -> rules":
                break
            await page.wait_for_timeout(200)
            await page.reload()
        assert chain == "ollama:llama3.1 -> rules"

        await publish_all(nc, [triage_requested("INC0000002")])
        assert (await decided(nc, "INC0000002")).provider == "ollama"
        await page.reload()
        newest = page.locator("tr[data-decision]").first
        assert "INC0000002" in (await newest.text_content() or "")
        assert (await newest.locator(".provider").text_content() or "").startswith("ollama")
        await newest.locator("details summary").click()
        asked = await newest.locator("dl.inputs").text_content() or ""
        assert "Disk almost full" in asked
        assert "alertname=NodeFilesystemSpaceFillingUp" in asked
        assert "ollama (fake-model): ok" in (await newest.locator("ol").text_content() or "")
        ollama = page.locator("tr[data-figures=ollama] td")
        assert [await ollama.nth(i).text_content() for i in range(3)] == ["1", "0", "0.0%"]
        rules = page.locator("tr[data-figures=rules] td")
        assert await rules.first.text_content() == "1"  # the first decision, before

        await page.fill("input[name=description]", "disk almost full on db-1")
        await page.select_option("select[name=severity]", "high")
        await page.click("form[action='/agents/run'] button")
        result = await page.text_content("[data-testid=run-result]") or ""
        assert "By ollama" in result
        assert "Nothing was applied" in result
        await screenshots(page, "agents")
    finally:
        await server.stop()


GATE = """
name: vpn-gate
version: 1
description: A person approves before anything else happens on the VPN
trigger: {event: IncidentOpened, filter: {service: vpn}}
steps:
  - {id: approve, kind: approval, timeout: 1h, default: reject}
"""


async def test_the_workflows_page_lists_a_waiting_approval_and_grants_it(
        nc, start_service, browser, tmp_path):
    definitions = tmp_path / "workflows"
    definitions.mkdir()
    (definitions / "vpn-gate.yaml").write_text(GATE)
    await start_service(build_incidents, IncidentSettings)
    await start_service(build_orchestrator, OrchestratorSettings, workflows_dir=definitions)
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                  rate_limit_per_second=1000)
    url = f"http://127.0.0.1:{gateway.port}"
    page = await logged_in(browser, url, await issue_token(nc, "user:admin"))
    await page.goto(f"{url}/workflows")
    await page.wait_for_function("() => document.getElementById('offline').hidden")
    await publish_all(nc, [accepted("vpn1", service="vpn")])
    waiting = page.locator("tr[data-approval]")
    await waiting.first.wait_for(timeout=15_000)  # appears live
    assert (await waiting.first.get_attribute("data-approval") or "").endswith(":approve")
    await screenshots(page, "workflows")
    await waiting.first.locator("th a").click()
    assert (await page.text_content("[data-testid=workflow-state]")) == "running"
    assert (await page.text_content("li[data-step=approve] .step-state")) == "waiting"
    await page.fill("form:has(button[data-action=approve-approve]) input[name=note]",
                    "change window agreed")
    await page.click("button[data-action=approve-approve]")
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=workflow-state]')"
        "?.textContent.trim() === 'completed'", timeout=15_000)
    assert (await page.text_content("li[data-step=approve] .step-state")) == "completed"
    await screenshots(page, "workflow")


async def test_the_admin_page_issues_a_key_once_silences_and_revokes(
        gateway_stack, start_service, browser):
    await start_service(build_ingest, IngestSettings)
    url = gateway_stack["url"]
    page = await logged_in(browser, url, gateway_stack["admin"])
    await page.goto(f"{url}/admin")
    await page.fill("form[action='/admin/integrations'] input[name=name]", "grafana-eu")
    await page.click("form[action='/admin/integrations'] button")
    key = await page.text_content("[data-testid=issued-key]") or ""
    assert len(key) > 20
    assert await page.locator("tr[data-integration=grafana-eu]").count() == 1
    await page.goto(f"{url}/admin")
    assert await page.locator("[data-testid=issued-key]").count() == 0  # shown once
    assert key not in await page.content()

    await page.fill("textarea[name=matchers]", "service=checkout")
    await page.fill("input[name=reason]", "database upgrade")
    await page.click("form[action='/admin/silences'] button")
    await page.wait_for_url(f"{url}/admin?done=silence+created")
    silence = page.locator("tr[data-silence]").first
    assert "database upgrade" in (await silence.text_content() or "")
    await screenshots(page, "admin")  # before a token is shown: no secret in a picture

    await page.fill("form[action='/admin/tokens'] input[name=name]", "olga-laptop")
    await page.fill("form[action='/admin/tokens'] input[name=principal]", "user:olga")
    await page.fill("form[action='/admin/tokens'] input[name=roles]", "observer")
    await page.click("form[action='/admin/tokens'] button")
    token = await page.text_content("[data-testid=issued-token]") or ""
    assert token.startswith("ro_")
    row = page.locator("tr[data-token]", has_text="olga-laptop")
    await row.locator("button").click()
    await page.wait_for_url(f"{url}/admin?done=token+revoked")
    other = await (await browser.new_context()).new_page()
    await other.goto(f"{url}/login")
    await other.fill("#token", token)
    await other.click("button[type=submit]")
    assert "unknown API token" in (await other.text_content("#token-error") or "") or \
        "revoked" in (await other.text_content("#token-error") or "")


async def test_the_security_page_shows_a_detection_and_its_proposals_waiting(
        nc, start_service, browser, tmp_path):
    """The containment workflow of the orchestrator's approval test: the security agent
    (its answer published as it would publish it) detects a brute force and proposes to
    block the source, which waits for a person."""
    from datetime import UTC, datetime

    from reasonops_contracts.agents import SecurityReviewRequested
    from reasonops_contracts.incidents import IncidentOpened
    from tests.integration.test_orchestrator_approvals import (
        DEFINITION,
        INCIDENT,
        WORKFLOW,
        answer,
        publish,
    )

    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "contain.yaml").write_text(DEFINITION)
    await start_service(build_orchestrator, OrchestratorSettings,
                        workflows_dir=tmp_path / "flows")
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                  rate_limit_per_second=1000)
    await publish(nc, Envelope.wrap(IncidentOpened(
        incident_id=INCIDENT, title="Failed logins", service="vpn", severity="critical",
        impact=2, urgency=2, priority=3, priority_reason="t", fingerprint="fp-vpn",
        labels={"source": "203.0.113.9"}, opened_at=datetime.now(UTC)), source="incidents"))
    [asked] = await wait_for(lambda: stream_messages(nc, "AGENTS",
                                                     SecurityReviewRequested.SUBJECT))
    for envelope in answer(asked.decode(SecurityReviewRequested), asked):
        await publish(nc, envelope)

    url = f"http://127.0.0.1:{gateway.port}"
    page = await logged_in(browser, url, await issue_token(nc, "user:admin"))
    for _ in range(50):  # until the orchestrator has the step waiting
        await page.goto(f"{url}/security")
        if await page.text_content("[data-testid=waiting]") == "1":
            break
        await page.wait_for_timeout(200)
    assert await page.text_content("[data-testid=waiting]") == "1"
    assert await page.get_attribute("tr[data-approval]", "data-approval") == \
        f"{WORKFLOW}:approve"
    detection = await page.text_content("tr[data-decision]") or ""
    assert "brute force" in detection
    assert "203.0.113.9" in detection
    assert "block source" in detection
    await screenshots(page, "security")


class SignOn(Issuer):
    """The OIDC test's issuer as a browser meets it: besides discovery and keys, an
    authorization endpoint that signs Ana in at once (sending the browser back with a
    code), and a token endpoint that gives tokens only to the code verifier of that
    code's challenge."""

    def __init__(self) -> None:
        from starlette.routing import Route

        self.codes: dict[str, dict[str, str]] = {}
        super().__init__((Route("/authorize", self.authorize),
                          Route("/token", self.exchange, methods=["POST"])))

    async def discovery(self, _: Any) -> Any:
        from starlette.responses import JSONResponse
        return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/keys",
                             "authorization_endpoint": f"{self.url}/authorize",
                             "token_endpoint": f"{self.url}/token"})

    async def authorize(self, request: Any) -> Any:
        import secrets
        from urllib.parse import urlencode

        from starlette.responses import RedirectResponse
        q = request.query_params
        assert (q["response_type"], q["client_id"], q["code_challenge_method"]) == (
            "code", "reasonops-console", "S256")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": q["code_challenge"], "nonce": q["nonce"],
                            "redirect_uri": q["redirect_uri"]}
        return RedirectResponse(f"{q['redirect_uri']}?" + urlencode(
            {"code": code, "state": q["state"]}), status_code=302)

    async def exchange(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        from reasonops_gateway.console.sso import challenge_of
        form = await request.form()
        found = self.codes.pop(str(form["code"]), None)
        if found is None or challenge_of(str(form["code_verifier"])) != found["challenge"] \
                or form["redirect_uri"] != found["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        person = {"sub": "ana-1", "email": "ana@example.com"}
        return JSONResponse({"token_type": "Bearer", "expires_in": 300,
                             "access_token": self.token(**person),
                             "id_token": self.token(**person, aud="reasonops-console",
                                                    nonce=found["nonce"])})


async def test_single_sign_on_with_pkce_logs_the_person_in(
        nc, start_service, browser, tmp_path):
    issuer = SignOn()
    issuer.server.bind()
    await issuer.server.start()
    try:
        policy = tmp_path / "policy.yaml"
        policy.write_text("roles:\n  admin: {allow: ['*']}\nprincipals:\n"
                          "  user:ana@example.com: [admin]\n  service:*: [admin]\n")
        await start_service(build_incidents, IncidentSettings, policy=policy)
        gateway = await start_service(build_gateway, GatewaySettings, policy=policy,
                                      oidc_issuer=issuer.url,
                                      oidc_client_id="reasonops-console")
        url = f"http://127.0.0.1:{gateway.port}"
        page = await (await browser.new_context()).new_page()
        await page.goto(f"{url}/incidents")
        await page.click("[data-testid=sso]")
        await page.wait_for_url(f"{url}/incidents")
        assert "ana@example.com" in (await page.text_content(".who") or "")
        assert not issuer.codes  # the code was used, once

        unasked = await page.request.get(f"{url}/login/oidc/callback?code=x&state=forged")
        assert unasked.status == 400
        assert "not started here" in await unasked.text()
        await page.context.add_cookies([{
            "name": "reasonops_oidc", "url": f"{url}/login/oidc",
            "value": '{"state": "mine", "nonce": "n", "verifier": "v", "next": "/"}'}])
        forged = await page.request.get(f"{url}/login/oidc/callback?code=x&state=forged")
        assert forged.status == 400
        assert "state: this answer is not for the sign-in started here" in await forged.text()
    finally:
        await issuer.server.stop()


RECURRING = """
rules:
  - name: checkout
    match: ["service=checkout"]
    group_by: [service, alertname]
problems: {recurrence: 2, within: 1d}
"""


async def test_a_recurring_incident_leads_to_its_problem_which_is_moved_on_there(
        nc, start_service, browser, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(RECURRING)
    await start_service(build_incidents, IncidentSettings, correlation_rules=rules)
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                  rate_limit_per_second=1000)
    url = f"http://127.0.0.1:{gateway.port}"
    await publish_all(nc, [accepted("pool", service="checkout")])
    await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                   check=lambda r: r.total == 1)
    for command in (ResolveIncident, CloseIncident):
        await request(nc, command(incident_id="INC0000001"), IncidentView)
    await publish_all(nc, [accepted("pool", service="checkout")])  # it is back
    await wait_for(lambda: request(nc, ListProblems(), ProblemList),
                   check=lambda r: r.items)

    page = await logged_in(browser, url, await issue_token(nc, "user:admin"))
    await page.goto(f"{url}/incidents/INC0000002")
    await page.click("[data-testid=problem]")
    await page.wait_for_url(f"{url}/problems/PRB0000001")
    assert await page.text_content("[data-testid=problem-state]") == "new"
    assert await page.locator("#incidents ~ table tbody tr").count() == 2
    # A known error needs its workaround: said next to the field, nothing changed.
    await page.select_option("select[name=state]", "known_error")
    await page.fill("textarea[name=workaround]", "")
    await page.click("form[action$='/update'] button")
    assert "workaround" in (await page.text_content("#workaround-error") or "")
    assert await page.get_attribute("textarea[name=workaround]", "aria-invalid") == "true"
    assert await page.text_content("[data-testid=problem-state]") == "new"
    await page.select_option("select[name=state]", "known_error")
    await page.fill("textarea[name=workaround]", "restart the connection pool")
    await page.click("form[action$='/update'] button")
    await page.wait_for_url(f"{url}/problems/PRB0000001?done=update")
    assert await page.text_content("[data-testid=problem-state]") == "known error"
    assert await page.text_content("[data-testid=workaround]") == \
        "restart the connection pool"
    assert "new -> known_error" in (await page.text_content("ol.timeline") or "")
    await screenshots(page, "problem")
    await page.goto(f"{url}/problems")
    assert await page.locator("tr[data-problem=PRB0000001] .pstate").text_content() == \
        "known error"
    await screenshots(page, "problems")


async def test_the_on_call_page_shows_who_carries_the_pager_and_takes_an_override(
        nc, start_service, browser):
    await start_service(build_oncall, OnCallSettings, oncall=CONFIG / "oncall.yaml")
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                  rate_limit_per_second=1000)
    url = f"http://127.0.0.1:{gateway.port}"
    page = await logged_in(browser, url, await issue_token(nc, "user:admin"))
    await page.goto(f"{url}/on-call")
    now = await page.text_content("[data-testid=now-payments-primary]") or ""
    assert "is on call" in now
    assert await page.locator("[data-schedule=dba] tbody tr").count() >= 14  # 12-hour turns
    await page.select_option("select[name=schedule]", "payments-primary")
    await page.select_option("select[name=user]", "cy")
    await page.fill("input[name=start]", "2030-01-08T16:00")
    await page.fill("input[name=end]", "2030-01-08T08:00")  # before the start
    await page.click("form[action='/on-call/overrides'] button")
    assert "after start" in (await page.text_content("#end-error") or "")
    await page.select_option("select[name=user]", "cy")
    await page.fill("input[name=start]", "2030-01-08T16:00")
    await page.fill("input[name=end]", "2030-01-09T08:00")
    await page.fill("input[name=reason]", "I take Tuesday night")
    await page.click("form[action='/on-call/overrides'] button")
    await page.wait_for_url(f"{url}/on-call?done=override+made")
    made = page.locator("[data-schedule=payments-primary] li[data-override]")
    assert "cy from 2030-01-08 16:00:00 UTC" in (await made.text_content() or "")
    assert "I take Tuesday night" in (await made.text_content() or "")
    await screenshots(page, "on-call")
    download = await page.request.get(f"{url}/on-call/payments-primary.ics")
    assert (await download.text()).startswith("BEGIN:VCALENDAR")
    await made.locator("button").click()
    await page.wait_for_url(f"{url}/on-call?done=override+removed")
    assert not await page.locator("[data-schedule=payments-primary] li[data-override]").count()

    # Where a page's link leads (no login; the buttons act only with the service's
    # signature, which this made-up link lacks: pressing one is refused).
    payload = base64.urlsafe_b64encode(json.dumps(
        {"i": "INC0000001", "u": "ana", "e": 4102444800, "n": "x"}).encode()).decode()
    stranger = await browser.new_page()
    await stranger.goto(f"{url}/page/{payload.rstrip('=')}.bm90LXNpZ25lZA")
    assert "As ana" in (await stranger.text_content("main") or "")
    await screenshots(stranger, "paged")
    await stranger.click("button[value=acknowledge]")
    assert "not a link ReasonOps sent" in (await stranger.text_content(
        "[data-testid=page-error]") or "")
