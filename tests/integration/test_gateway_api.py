"""The REST API against the real services on a real nats-server: tokens, every resource,
each error status, scoping by the role policy, and nothing a client sends changing who
it is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from reasonops_contracts import ReplyError
from reasonops_contracts.gateway import (
    ApiTokenView,
    RevokeApiToken,
)
from reasonops_contracts.incidents import IncidentList, IncidentPriorityChanged, ListIncidents
from reasonops_contracts.policy import AccessDenied
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import accepted, issue_token, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

def token_id(bearer: str) -> str:
    return "tok_" + bearer.split("_")[1]


def client(stack, who: str | None = "admin") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {stack[who]}"} if who else {}
    return httpx.AsyncClient(base_url=stack["url"], headers=headers, timeout=10)


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["detail"]
    assert body["type"].startswith("urn:")
    return body


async def test_a_token_acts_for_its_person_and_nobody_else(gateway_stack, nc):
    checkout = gateway_stack["ids"]["checkout"]
    async with client(gateway_stack) as api:
        me = (await api.get("/api/me")).json()
        assert (me["principal"], me["roles"], me["can"]["incident.resolve"]) == (
            "user:admin", ["admin"], True)
        # A body cannot name someone else: the field does not exist, and says so.
        forged = await api.post(f"/api/incidents/{checkout}/acknowledge",
                                json={"note": "on it", "actor": "user:olga"})
        assert problem(forged, 422)["field"] == "body.actor"
        acked = await api.post(f"/api/incidents/{checkout}/acknowledge",
                               json={"note": "on it"}, headers={"X-Actor": "user:olga"})
        assert acked.status_code == 200, acked.text
        assert acked.json()["state"] == "acknowledged"
        shown = (await api.get(f"/api/incidents/{checkout}")).json()
    changed = [e for e in shown["timeline"] if e["kind"] == "state_changed"]
    assert changed[-1]["actor"] == "user:admin"


async def test_without_a_valid_token_nothing_is_answered(gateway_stack, nc):
    async with client(gateway_stack, None) as api:
        missing = problem(await api.get("/api/incidents"), 401)
        assert "Bearer" in missing["detail"]
        assert (await api.get("/api/incidents")).headers["www-authenticate"].startswith("Bearer")
        problem(await api.get("/api/incidents", headers={"Authorization": "Basic eDp5"}), 401)
        problem(await api.get("/api/incidents", headers={"Authorization": "Bearer nope"}), 401)
        forged = gateway_stack["admin"][:-4] + "AAAA"
        problem(await api.get("/api/incidents", headers={"Authorization": f"Bearer {forged}"}),
                401)
    await request(nc, RevokeApiToken(actor="user:admin", token_id=token_id(gateway_stack["admin"])),
                  ApiTokenView)
    async with client(gateway_stack) as api:
        assert "revoked" in problem(await api.get("/api/incidents"), 401)["detail"]


async def test_reads_and_commands_follow_the_role_policy_and_refusals_are_on_record(
        gateway_stack, nc):
    checkout, search = gateway_stack["ids"]["checkout"], gateway_stack["ids"]["search"]
    async with client(gateway_stack, "olga") as api:
        listed = (await api.get("/api/incidents")).json()
        assert ([i["incident_id"] for i in listed["items"]], listed["total"]) == ([checkout], 1)
        refused = problem(await api.get(f"/api/incidents/{search}"), 403)
        assert "outside the scope" in refused["detail"]
        problem(await api.post(f"/api/incidents/{search}/resolve", json={}), 403)
        assert (await api.post(f"/api/incidents/{checkout}/resolve",
                               json={"note": "restarted"})).json()["state"] == "resolved"
        problem(await api.get("/api/tokens", params={"principal": "user:admin"}), 403)
    denied = await wait_for(lambda: stream_messages(nc, "POLICY", AccessDenied.SUBJECT),
                            check=lambda found: len(found) >= 3)
    assert {e.data["principal"] for e in denied} == {"user:olga"}
    # Nobody without a role gets a token at all.
    with pytest.raises(ReplyError, match="has no roles"):
        await issue_token(nc, "user:mallory")


async def test_a_narrowed_token_runs_only_what_its_roles_allow(gateway_stack, nc):
    checkout = gateway_stack["ids"]["checkout"]
    observer = await issue_token(nc, "user:olga", roles=["observer"])
    async with httpx.AsyncClient(base_url=gateway_stack["url"], timeout=10,
                                 headers={"Authorization": f"Bearer {observer}"}) as api:
        assert (await api.get(f"/api/incidents/{checkout}")).status_code == 200
        refused = problem(await api.post(f"/api/incidents/{checkout}/acknowledge", json={}),
                          403)
        assert refused["detail"] == (
            "user:olga may not incident.acknowledge: user:olga has roles [observer@payments]; "
            f"none of them allows incident.acknowledge (token {token_id(observer)})")
        me = (await api.get("/api/me")).json()
        assert (me["token_roles"], me["can"]["incident.acknowledge"]) == (["observer"], False)
        wider = await api.post("/api/tokens", json={"name": "wider", "roles": ["responder"]})
        assert problem(wider, 403)["field"] == "body.roles"
    with pytest.raises(ReplyError, match="does not hold admin"):
        await issue_token(nc, "user:olga", roles=["admin"])


async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(gateway_stack, nc):
    checkout = gateway_stack["ids"]["checkout"]
    async with client(gateway_stack) as api:
        assert problem(await api.post(f"/api/incidents/{checkout}/assign", json={}),
                       422)["field"] == "body.assignment_group"
        wrong = await api.post(f"/api/incidents/{checkout}/assign",
                               json={"assignment_group": 7})
        assert problem(wrong, 422)["field"] == "body.assignment_group"
        assert problem(await api.post(f"/api/incidents/{checkout}/comments",
                                      content=b"{not json",
                                      headers={"content-type": "application/json"}), 422)
        assert problem(await api.get("/api/incidents", params={"limit": 0}),
                       422)["field"] == "query.limit"
        assert problem(await api.get("/api/incidents", params={"cursor": "garbage"}),
                       400)["field"] == "query.cursor"
        assert problem(await api.get("/api/incidents/INC9999999"), 404)
        assert problem(await api.get("/api/incidents/not-an-id"), 422)["field"] == \
            "path.incident_id"
        assert problem(await api.post(f"/api/incidents/{checkout}/close", json={}), 409)
        big = {"note": "x" * (2 << 20)}
        assert problem(await api.post(f"/api/incidents/{checkout}/comments", json=big), 413)
        assert problem(await api.get("/api/nowhere"), 404)
        shown = (await api.get(f"/api/incidents/{checkout}")).json()
    assert shown["state"] == "new"
    assert not [e for e in shown["timeline"] if e["actor"] == "user:admin"]


async def test_pages_carry_a_total_and_a_cursor_bound_to_their_filters(gateway_stack, nc):
    await publish_all(nc, [accepted(f"p{i}", service="checkout") for i in range(7)])
    await wait_for(lambda: request(nc, ListIncidents(actor="user:admin"), IncidentList),
                   check=lambda r: r.total == 9)
    async with client(gateway_stack) as api:
        seen, cursor = [], None
        while True:
            page = (await api.get("/api/incidents", params={
                "limit": 4, "service": "checkout", **({"cursor": cursor} if cursor else {})
            })).json()
            assert page["total"] == 8
            seen += [i["incident_id"] for i in page["items"]]
            cursor = page.get("next_cursor")
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 8
        first = (await api.get("/api/incidents", params={"limit": 4})).json()["next_cursor"]
        other = await api.get("/api/incidents", params={"cursor": first, "service": "search"})
        assert "other filters" in problem(other, 400)["detail"]


async def test_service_levels_finance_and_the_dashboard(gateway_stack, nc):
    checkout = gateway_stack["ids"]["checkout"]
    month = datetime.now(UTC).strftime("%Y-%m")
    async with client(gateway_stack) as api:
        for verb in ("resolve", "close"):
            assert (await api.post(f"/api/incidents/{checkout}/{verb}", json={})).status_code \
                == 200
        clocks = (await api.get(f"/api/incidents/{checkout}/sla")).json()
        assert clocks["incident_id"] == checkout
        assert clocks["clocks"]
        report = (await api.get("/api/sla/report", params={"period_days": 7})).json()
        assert report["month"] == "last-7d"
        assert {s["service"] for s in report["services"]} >= {"checkout"}
        both = await api.get("/api/sla/report", params={"period_days": 7, "month": month})
        assert problem(both, 422)["field"] == "query.period_days"
        metrics = (await api.get("/api/sla/metrics", params={"period_days": 30})).json()
        assert {"availability_pct", "mttr_minutes", "mtbf_hours"} <= set(metrics)
        entries = await wait_for(lambda: api.get("/api/finance/entries"),
                                 check=lambda r: r.json()["total"] >= 1)
        entry = entries.json()["items"][0]
        trace = (await api.get(f"/api/finance/entries/{entry['entry_id']}/trace")).json()
        assert trace["entry"]["entry_id"] == entry["entry_id"]
        assert (await api.get("/api/finance/summary")).json()["month"] == month
        assert (await api.get("/api/finance/periods")).status_code == 200
        board = (await api.get("/api/dashboard")).json()
        assert board["services"] >= 5
        assert board["month"] == month
        assert board["open_incidents"] == 1
        summary = (await api.get("/api/reports/monthly")).json()
        assert summary["month"] == month
        assert "checkout" in {
            s["service"] for s in summary["service_levels"]}
        contracts = (await api.get("/api/sla/contracts")).json()["items"]
        assert contracts
        assert all(c["penalty_per_breach"] and c["currency"] for c in contracts)
        policy = (await api.get("/api/policy")).json()
        assert {r["name"] for r in policy["roles"]} == {"admin", "responder", "observer"}
        verdict = (await api.get("/api/policy/check", params={
            "principal": "user:olga", "action": "incident.resolve", "team": "discovery"})).json()
        assert verdict["allowed"] is False
        assert "outside their scope" in verdict["reason"]


async def test_an_incidents_cost_is_reckoned_before_it_is_booked(gateway_stack, nats_url):
    """``GET /api/incidents/{id}/cost`` and ``reasonops finance cost``: while it is open,
    to now; once it closes, as booked; within the reader's scope."""
    from tests.support import cli

    checkout, search = gateway_stack["ids"]["checkout"], gateway_stack["ids"]["search"]
    async with client(gateway_stack) as api, client(gateway_stack, "olga") as olga:
        open_ = (await api.get(f"/api/incidents/{checkout}/cost")).json()
        assert (open_["resolved"], open_["booked_entry_id"]) == (False, None)
        assert open_["memo"].startswith("downtime 10.")  # opened ten minutes ago
        assert Decimal(open_["total"]) == Decimal(open_["downtime"]) + Decimal(
            open_["effort"]) > 0
        assert (await olga.get(f"/api/incidents/{checkout}/cost")).status_code == 200
        problem(await olga.get(f"/api/incidents/{search}/cost"), 403)  # not her team's
        problem(await api.get("/api/incidents/INC9999999/cost"), 404)
        for verb in ("resolve", "close"):
            assert (await api.post(f"/api/incidents/{checkout}/{verb}", json={})).status_code \
                == 200
        booked = await wait_for(lambda: api.get(f"/api/incidents/{checkout}/cost"),
                                check=lambda r: r.json()["booked_entry_id"])
        cost = booked.json()
        entry = (await api.get(f"/api/finance/entries/{cost['booked_entry_id']}/trace")
                 ).json()["entry"]
        assert (Decimal(entry["amount"]), entry["incident_id"]) == (Decimal(cost["total"]),
                                                                    checkout)
        assert cost["resolved"] is True
    code, out, err = await cli(nats_url, "finance", "cost", checkout)
    assert code == 0, err
    assert out.startswith(f"{checkout} (checkout, resolved ")
    assert f"booked as {cost['booked_entry_id']}" in out


async def test_a_service_that_does_not_answer_is_a_503_with_retry_after(
        nc, start_service, tmp_path):
    gateway = await start_service(build_gateway, GatewaySettings, request_timeout_seconds=0.5)
    token = await issue_token(nc, "user:admin")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.port}", timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}) as api:
        answer = await api.get("/api/incidents")
    assert problem(answer, 503)["detail"].startswith("no service answers")
    assert answer.headers["retry-after"] == "2"


async def test_a_token_over_its_rate_gets_429_with_retry_after(nc, start_service):
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_per_second=0.5,
                                  rate_limit_burst=2)
    token = await issue_token(nc, "user:admin")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.port}", timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}) as api:
        answers = [await api.get("/api/me") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1


async def test_the_local_operator_gets_a_token_on_first_start_and_keeps_it(
        nc, start_service, tmp_path):
    path = tmp_path / "credentials" / "api-token"
    gateway = await start_service(build_gateway, GatewaySettings, bootstrap_token_file=path)
    token = path.read_text().strip()
    assert path.stat().st_mode & 0o777 == 0o600
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.port}", timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}) as api:
        assert (await api.get("/api/me")).json()["principal"] == "user:admin"
    await gateway.stop()
    again = await start_service(build_gateway, GatewaySettings, bootstrap_token_file=path)
    assert path.read_text().strip() == token
    assert again.port


async def test_every_other_resource_answers_through_the_api(gateway_engine, nc):
    checkout = gateway_engine["ids"]["checkout"]
    async with client(gateway_engine) as api:
        counts = (await api.get("/api/incidents/counts")).json()
        assert counts["total"] == 2
        for verb, state in (("hold", "on_hold"), ("resume", "new"),
                            ("resolve", "resolved"), ("reopen", "new")):
            answer = await api.post(f"/api/incidents/{checkout}/{verb}", json={"note": verb})
            assert answer.json()["state"] == state, (verb, answer.text)
        # A P1 is a major incident from its opening: declaring it again is a conflict.
        assert (await api.get(f"/api/incidents/{checkout}")).json()["major"] is True
        again = problem(await api.post(f"/api/incidents/{checkout}/declare-major",
                                       json={}), 409)
        assert again["field"] == "path.incident_id"
        workflow = await wait_for(lambda: api.get(f"/api/incidents/{checkout}/workflow"),
                                  check=lambda r: r.status_code == 200)
        instance = workflow.json()["workflow_id"]
        assert (await api.get(f"/api/workflows/instances/{instance}")).json()[
            "workflow_id"] == instance
        assert (await api.get("/api/workflows/definitions")).json()["items"]
        # No agent runs here: the major incident's review waits for their decisions.
        for path in (f"/api/incidents/{checkout}/review",
                     f"/api/workflows/instances/MI-{checkout}/review"):
            assert "no post-incident review" in problem(await api.get(path), 404)["detail"]
        assert (await api.get("/api/workflows/instances",
                              params={"incident_id": checkout})).json()["items"]
        refused = await api.post(f"/api/workflows/instances/{instance}/steps/nope/approve",
                                 json={"note": "ok"})
        assert problem(refused, 422)["field"] == "path.step"

        silence = await api.post("/api/silences", json={
            "matchers": ["service=search"], "reason": "maintenance of search",
            "ends_at": "2099-01-01T00:00:00Z"})
        assert silence.status_code == 201, silence.text
        silence_id = silence.json()["silence_id"]
        assert (await api.get(f"/api/silences/{silence_id}")).json()["silence_id"] == \
            silence_id
        listed = (await api.get("/api/silences")).json()["items"]
        assert [s["silence_id"] for s in listed] == [silence_id]
        expired = await api.delete(f"/api/silences/{silence_id}")
        assert expired.status_code == 200, expired.text
        assert (await api.get("/api/silences")).json()["items"] == []
        assert (await api.get("/api/problems")).json() == {"items": []}
        problem(await api.get("/api/problems/PRB0000009"), 404)

        created = await api.post("/api/integrations", json={"name": "grafana-prod"})
        assert created.status_code == 201, created.text
        assert created.json()["key"]
        names = [i["name"] for i in (await api.get("/api/integrations")).json()["items"]]
        assert "grafana-prod" in names
        rotated = await api.post("/api/integrations/grafana-prod/rotate",
                                 json={"grace_seconds": 0})
        assert rotated.json()["key"] != created.json()["key"]
        assert (await api.delete("/api/integrations/grafana-prod")).status_code == 200
        assert (await api.get("/api/heartbeats")).status_code == 200

        month = datetime.now(UTC).strftime("%Y-%m")
        assert (await api.get("/api/finance/budgets")).json()["month"] == month
        closed = await api.post("/api/finance/periods/2020-01/close")
        assert closed.status_code == 200, closed.text
        again = await api.post("/api/finance/periods/2020-01/close")  # idempotent
        assert again.json()["closed_at"] == closed.json()["closed_at"]
        periods = (await api.get("/api/finance/periods")).json()["items"]
        assert {"month": "2020-01", "state": "closed"}.items() <= next(
            p for p in periods if p["month"] == "2020-01").items()


async def test_supplier_contracts_are_read_within_the_readers_scope(gateway_stack):
    async with client(gateway_stack) as api:
        everyone = (await api.get("/api/sla/contracts")).json()["items"]
    async with client(gateway_stack, "olga") as api:
        olgas = (await api.get("/api/sla/contracts")).json()["items"]
    assert {c["supplier"] for c in everyone} == {"Acme Hosting", "Nordic Database Services"}
    assert [(c["supplier"], c["services"]) for c in olgas] == [("Acme Hosting", ["checkout"])]


async def test_clocks_needing_someone_and_the_definitions_are_read_within_scope(
        gateway_stack):
    """Both incidents opened ten minutes ago: their clocks run, none is breached; olga
    sees only her team's (checkout)."""
    ids = gateway_stack["ids"]
    async with client(gateway_stack) as api:
        running = (await api.get("/api/sla/clocks", params={"attention": "running"})).json()
        at_risk = (await api.get("/api/sla/clocks")).json()
        odd = await api.get("/api/sla/clocks", params={"at_risk_percent": 60})
        breached = (await api.get("/api/sla/clocks", params={"attention": "breached"})).json()
        bad = await api.get("/api/sla/clocks", params={"attention": "late"})
        one = (await api.get("/api/sla/clocks", params={"attention": "running",
                                                         "limit": 1})).json()
        policies = (await api.get("/api/sla/policies")).json()["items"]
    async with client(gateway_stack, "olga") as api:
        hers = (await api.get("/api/sla/clocks", params={"attention": "running"})).json()
    assert {(c["incident_id"], c["kind"]) for c in running["items"]} == {
        (i, k) for i in ids.values() for k in ("response", "resolution")}
    assert all(c["remaining_seconds"] > 0 for c in running["items"])
    assert running["items"] == sorted(running["items"], key=lambda c: c["deadline"])
    # Ten minutes of the targets (P1: 15 min to respond): not yet at 75%, none breached.
    assert (at_risk["total"], breached["total"]) == (0, 0)
    assert problem(bad, 422)["field"] == "query.attention"
    assert problem(odd, 422)["field"] == "query.at_risk_percent"
    assert (len(one["items"]), one["total"]) == (1, 4)
    assert {c["incident_id"] for c in hers["items"]} == {ids["checkout"]}
    assert {c["service"] for c in hers["items"]} == {"checkout"}
    defaults = {p["priority"]: p for p in policies if p["service"] is None
                and p["agreement"] == "sla"}
    assert sorted(defaults) == [1, 2, 3, 4, 5]
    assert defaults[1]["response_seconds"] > 0


HOUR_TARGETS = "policies:\n" + "".join(
    f"  - {{name: P{p}, priority: P{p}, response: 1h, resolution: 10h}}\n" for p in range(1, 6))


async def test_a_clock_is_at_risk_from_the_point_it_is_announced(nc, start_service, tmp_path):
    policies = tmp_path / "sla.yaml"
    policies.write_text(HOUR_TARGETS)
    clock = FrozenClock(datetime.now(UTC))
    await start_service(build_incidents, IncidentSettings, clock=clock)
    await start_service(build_slm, SlmSettings, clock=clock, sla_policies=policies)
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                  rate_limit_per_second=1000)
    stack = {"url": f"http://127.0.0.1:{gateway.port}",
             "admin": await issue_token(nc, "user:admin")}
    await publish_all(nc, [accepted("late", service="checkout")])
    async with client(stack) as api:
        async def clocks(**params: object) -> dict:
            return (await api.get("/api/sla/clocks", params=params)).json()
        await wait_for(lambda: clocks(attention="running"), check=lambda r: r["total"] == 2)
        clock.advance(timedelta(minutes=50))  # 83% of the response target
        at_75 = await wait_for(lambda: clocks(), check=lambda r: r["total"] == 1)
        assert at_75["items"][0]["kind"] == "response"
        assert at_75["items"][0]["percent_consumed"] > 80
        assert (await clocks(at_risk_percent=90))["total"] == 0
        clock.advance(timedelta(minutes=15))  # past the response target
        late = await wait_for(lambda: clocks(attention="breached"),
                              check=lambda r: r["total"] == 1)
        assert late["items"][0]["kind"] == "response"
        assert (await clocks())["total"] == 0  # breached is no longer at risk


async def test_the_service_desk_opens_an_incident_by_hand(gateway_stack, nc):
    async with client(gateway_stack) as api:
        opened = await api.post("/api/incidents", json={
            "title": "Cannot pay with a card", "service": "checkout", "impact": 1,
            "urgency": 2, "caller": "Ana (store 12)", "category": "payments",
            "description": "Every card payment fails since 10:05",
            "attachments": ["https://files.example/screenshot.png"]})
        assert opened.status_code == 201, opened.text
        found = opened.json()
        assert opened.headers["location"] == f"/api/incidents/{found['incident_id']}"
        assert (found["priority"], found["state"], found["assignment_group"]) == (
            2, "new", "payments")
        assert found["labels"] == {"source": "service-desk", "category": "payments",
                                   "caller": "Ana (store 12)"}
        assert [(e["actor"], e["kind"]) for e in found["timeline"]][:2] == [
            ("user:admin", "opened"), ("user:admin", "assigned")]
        # The same SLA clocks as any incident.
        clocks = await wait_for(lambda: api.get(f"/api/incidents/{found['incident_id']}/sla"),
                                check=lambda r: r.status_code == 200 and r.json()["clocks"])
        assert {c["kind"] for c in clocks.json()["clocks"]} >= {"response", "resolution"}
        bad = await api.post("/api/incidents", json={"title": "x", "impact": 4,
                                                     "attachments": ["file:///etc/passwd"]})
        assert {e["field"] for e in problem(bad, 422)["errors"]} == {
            "body.impact", "body.attachments.0"}
    async with client(gateway_stack, "olga") as api:
        mine = await api.post("/api/incidents", json={"title": "slow", "service": "checkout"})
        assert mine.status_code == 201, mine.text
        theirs = await api.post("/api/incidents", json={"title": "slow", "service": "search"})
        assert "outside their scope" in problem(theirs, 403)["detail"]
    listed = await request(nc, ListIncidents(actor="user:admin"), IncidentList)
    assert listed.total == 4  # two from monitoring, two by hand: nothing opened when refused


async def test_priority_is_reassessed_by_hand_with_a_reason(gateway_stack, nc):
    search = gateway_stack["ids"]["search"]
    async with client(gateway_stack) as api:
        lowered = await api.post(f"/api/incidents/{search}/priority", json={
            "impact": 3, "urgency": 2, "note": "only the internal search is slow"})
        assert lowered.status_code == 200, lowered.text
        view = lowered.json()
        assert (view["priority"], view["impact"], view["urgency"]) == (4, 3, 2)
        assert view["timeline"][-1]["detail"] == "P1 -> P4: only the internal search is slow"
        same = await api.post(f"/api/incidents/{search}/priority", json={
            "impact": 3, "urgency": 2, "note": "again"})
        assert problem(same, 409)["field"] == "body.impact"
        assert problem(await api.post(f"/api/incidents/{search}/priority",
                                      json={"impact": 3, "urgency": 2}), 422)["field"] == \
            "body.note"
    changed = await wait_for(lambda: stream_messages(nc, "INCIDENTS",
                                                     IncidentPriorityChanged.SUBJECT))
    assert (changed[0].data["previous_priority"], changed[0].data["actor"]) == (
        1, "user:admin")
    async with client(gateway_stack, "olga") as api:  # responder of payments, not search
        problem(await api.post(f"/api/incidents/{search}/priority", json={
            "impact": 1, "urgency": 1, "note": "mine now"}), 403)


async def test_dead_letters_are_read_whole_by_whom_the_policy_lets(gateway_stack, nc):
    """The admin reads what a consumer parked, headers and message whole; a responder is
    refused (dead letters hold every service's raw messages)."""
    from datetime import UTC, datetime

    from reasonops_contracts import Envelope, subjects
    from reasonops_contracts.deadletter import MessageDeadLettered
    from reasonops_contracts.streams import DEADLETTER
    from reasonops_runtime.jetstream import ensure_streams

    await ensure_streams(nc.jetstream(), [DEADLETTER])
    parked = MessageDeadLettered(
        service="finance", consumer="finance-penalties", original_subject="itsm.x",
        deliveries=5, error="KeyError('EUR')", headers={"Nats-Msg-Id": "m-1"},
        dead_lettered_at=datetime.now(UTC), **MessageDeadLettered.body(b'{"amount": 1}'))
    envelope = Envelope.wrap(parked, source="finance")
    ack = await nc.jetstream().publish(subjects.dead_letter("finance"), envelope.to_bytes(),
                                       headers=envelope.headers())
    async with client(gateway_stack, "admin") as api:
        listed = (await api.get("/api/deadletters", params={"service": "finance"})).json()
        assert [(d["sequence"], d["status"], d["consumer"]) for d in listed["items"]] == [
            (ack.seq, "parked", "finance-penalties")]
        whole = (await api.get(f"/api/deadletters/{ack.seq}")).json()
        assert (whole["payload"], whole["headers"]) == ('{"amount": 1}', {"Nats-Msg-Id": "m-1"})
        problem(await api.get("/api/deadletters/999999"), 404)
        problem(await api.get("/api/deadletters", params={"status": "lost"}), 422)
    async with client(gateway_stack, "olga") as api:
        refused = problem(await api.get("/api/deadletters"), 403)
        assert "deadletter.read" in refused["detail"]


async def test_a_dead_letter_is_replayed_and_discarded_through_the_api(gateway_stack, nc):
    """The REST API asks the service that parked a letter to handle it again through the
    consumer that parked it: once handled, then a duplicate; a message that still cannot
    be read stays parked (409); a discarded one is refused; a responder may do neither."""
    from datetime import UTC, datetime

    from reasonops_contracts import Envelope, subjects
    from reasonops_contracts.deadletter import MessageDeadLettered
    from reasonops_contracts.durables import INCIDENTS_ALERTS
    from reasonops_contracts.incidents import IncidentOpened
    from reasonops_contracts.ingest import EventAccepted

    def parked(envelope: Envelope) -> MessageDeadLettered:
        return MessageDeadLettered(
            service="incidents", consumer=INCIDENTS_ALERTS,
            original_subject=EventAccepted.SUBJECT, deliveries=5, error="OperationalError",
            headers=envelope.headers(), dead_lettered_at=datetime.now(UTC),
            **MessageDeadLettered.body(envelope.to_bytes()))

    async def park(record: MessageDeadLettered) -> int:
        wrapped = Envelope.wrap(record, source="incidents")
        ack = await nc.jetstream().publish(subjects.dead_letter("incidents"),
                                           wrapped.to_bytes(), headers=wrapped.headers())
        return ack.seq

    alert = accepted("fp-dead-letter-api")
    good = await park(parked(alert))
    forged = await park(parked(alert.model_copy(update={"source": "finance",
                                                        "id": "forged-1"})))
    async with client(gateway_stack, "olga") as api:
        refused = problem(await api.post(f"/api/deadletters/{good}/replay"), 403)
        assert "deadletter.replay" in refused["detail"]
    async with client(gateway_stack, "admin") as api:
        first = await api.post(f"/api/deadletters/{good}/replay")
        assert first.status_code == 200, first.text
        assert (first.json()["outcome"], first.json()["actor"]) == ("handled", "user:admin")
        again = (await api.post(f"/api/deadletters/{good}/replay")).json()
        assert again["outcome"] == "duplicate"
        still = problem(await api.post(f"/api/deadletters/{forged}/replay"), 409)
        assert "still cannot be read" in still["detail"]
        assert "does not own" in still["detail"]
        problem(await api.post(f"/api/deadletters/{forged}/discard", json={"reason": " "}),
                422)
        gone = await api.post(f"/api/deadletters/{forged}/discard",
                              json={"reason": "a forged test message"})
        assert gone.status_code == 200, gone.text
        assert "discarded by user:admin" in problem(
            await api.post(f"/api/deadletters/{forged}/replay"), 409)["detail"]
        problem(await api.post("/api/deadletters/999999/replay"), 404)
        statuses = {d["sequence"]: (d["status"], len(d["replays"])) for d in (
            await api.get("/api/deadletters", params={"status": "all"})).json()["items"]}
        assert (statuses[good], statuses[forged]) == (("replayed", 2), ("discarded", 0))

    async def opened() -> list[Envelope]:
        return [e for e in await stream_messages(nc, "INCIDENTS", IncidentOpened.SUBJECT)
                if "/fp-dead-letter-api" in str(e.data)]

    await wait_for(opened)
    await asyncio.sleep(0.5)  # time for a second incident, were there one
    assert len(await opened()) == 1
