"""A command sent again with the same ``Idempotency-Key`` is applied once, through one
gateway or another on the same database: a repeat gets the first answer, a different
request with the key is refused, a refused request leaves its key free, a secret is
never kept for a repeat, and the SDK's retry after a lost answer applies once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_runtime.client import request
from reasonops_sdk import AsyncReasonOpsClient
from tests.integration.conftest import POLICY
from tests.support import issue_token

pytestmark = pytest.mark.nats


def api(url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                             timeout=10)


async def titled(nc, title: str) -> int:
    found = await request(nc, ListIncidents(actor="user:admin", text=title, limit=100),
                          IncidentList)
    return sum(1 for i in found.items if i.title == title)


def problem_code(response: httpx.Response) -> str:
    return str(response.json()["type"]).rsplit(":", 1)[-1]


async def test_a_repeat_is_answered_from_the_first_whichever_gateway_it_reaches(
        gateway_stack, start_service, nc):
    # A second gateway on the same database, as a second replica behind a balancer.
    other = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                rate_limit_per_second=1000)
    body = {"title": "phones down at the front desk", "service": "checkout"}
    key = {"Idempotency-Key": "call-4711"}
    async with api(gateway_stack["url"], gateway_stack["admin"]) as one, \
            api(f"http://127.0.0.1:{other.port}", gateway_stack["admin"]) as two:
        first = await one.post("/api/incidents", json=body, headers=key)
        assert first.status_code == 201, first.text
        again = await two.post("/api/incidents", json=body, headers=key)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert "idempotent-replayed" not in first.headers

        changed = await one.post("/api/incidents", json={**body, "title": "other"},
                                 headers=key)
        assert changed.status_code == 422
        assert changed.json()["field"] == "header.Idempotency-Key"
        assert problem_code(changed) == "idempotency_key_reused"

        for bad in ("", "with space", "x" * 256):
            refused = await one.post("/api/incidents", json=body,
                                     headers={"Idempotency-Key": bad})
            assert refused.status_code == 400, bad
            assert refused.json()["field"] == "header.Idempotency-Key"

        # Another person's key of the same name is theirs, not a repeat of admin's.
        async with api(gateway_stack["url"], gateway_stack["olga"]) as olga:
            hers = await olga.post("/api/incidents", json=body, headers=key)
            assert hers.status_code in (201, 403), hers.text
            assert "idempotent-replayed" not in hers.headers
    assert await titled(nc, body["title"]) == (2 if hers.status_code == 201 else 1)
    assert await titled(nc, "other") == 0


async def test_doubled_at_once_applies_once(gateway_stack, nc):
    body = {"title": "double click on open", "service": "search"}
    key = {"Idempotency-Key": "double-1"}
    async with api(gateway_stack["url"], gateway_stack["admin"]) as one:
        answers = await asyncio.gather(*[one.post("/api/incidents", json=body, headers=key)
                                         for _ in range(4)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) >= 1
    assert all(s in (201, 409) for s in statuses), [a.text for a in answers]
    assert all(problem_code(a) == "idempotency_in_progress" for a in answers
               if a.status_code == 409)
    assert await titled(nc, body["title"]) == 1


async def test_replicas_on_one_database_apply_a_doubled_command_once(
        nc, start_service, database_url, tmp_path):
    """The race the key's row settles: the same command at once through two replicas,
    on SQLite and on PostgreSQL."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    await start_service(build_incidents, IncidentSettings, policy=policy)
    replicas = [await start_service(build_gateway, GatewaySettings, policy=policy,
                                    database_url=database_url, rate_limit_burst=1000,
                                    rate_limit_per_second=1000) for _ in range(2)]
    token = await issue_token(nc, "user:admin")
    body = {"title": "opened through both replicas", "service": "search"}
    async with api(f"http://127.0.0.1:{replicas[0].port}", token) as one, \
            api(f"http://127.0.0.1:{replicas[1].port}", token) as two:
        answers = await asyncio.gather(*[
            client.post("/api/incidents", json=body, headers={"Idempotency-Key": "both-1"})
            for client in (one, two, one, two, one, two)])
        assert all(a.status_code in (201, 409) for a in answers), [a.text for a in answers]
        assert any(a.status_code == 201 for a in answers)
        later = await two.post("/api/incidents", json=body,
                               headers={"Idempotency-Key": "both-1"})
        assert later.status_code == 201
        assert later.headers["idempotent-replayed"] == "true"
    assert await titled(nc, body["title"]) == 1


async def test_a_refused_request_leaves_its_key_free(gateway_stack):
    checkout = gateway_stack["ids"]["checkout"]
    key = {"Idempotency-Key": "comment-1"}
    async with api(gateway_stack["url"], gateway_stack["admin"]) as one:
        blank = await one.post(f"/api/incidents/{checkout}/comments", json={"note": " "},
                               headers=key)
        assert blank.status_code == 422
        # Nothing was applied: the corrected request may use the key.
        fixed = await one.post(f"/api/incidents/{checkout}/comments",
                               json={"note": "customer called back"}, headers=key)
        assert fixed.status_code == 201, fixed.text
        shown = (await one.get(f"/api/incidents/{checkout}")).json()
    notes = [e for e in shown["timeline"] if "customer called back" in e["detail"]]
    assert len(notes) == 1


async def test_a_secret_is_shown_once_even_to_a_repeat(gateway_stack):
    key = {"Idempotency-Key": "token-for-ci"}
    body = {"name": "ci", "principal": "user:admin"}
    async with api(gateway_stack["url"], gateway_stack["admin"]) as one:
        issued = await one.post("/api/tokens", json=body, headers=key)
        assert issued.status_code == 201, issued.text
        assert issued.headers["cache-control"] == "no-store"
        again = await one.post("/api/tokens", json=body, headers=key)
        assert again.status_code == 409
        assert problem_code(again) == "already_applied"
        assert issued.json()["token"] not in again.text
        listed = (await one.get("/api/tokens")).json()["items"]
    assert [t["name"] for t in listed].count("ci") == 1


class _AnswerLost(httpx.AsyncBaseTransport):
    """The network between the SDK and the gateway: the first command arrives and is
    applied, and its answer is lost on the way back."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.keys: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            self.keys.append(request.headers["idempotency-key"])
            if len(self.keys) == 1:
                await response.aclose()
                raise httpx.ReadError("connection reset", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_the_sdk_retries_a_command_whose_answer_was_lost_and_it_applies_once(
        gateway_stack, nc):
    network = _AnswerLost()
    async with AsyncReasonOpsClient(gateway_stack["url"], gateway_stack["admin"],
                                    max_wait=0.1, transport=network) as sdk:
        opened = await sdk.create_incident(title="opened over a bad line", service="search")
    assert opened.title == "opened over a bad line"
    assert len(network.keys) == 2
    assert network.keys[0] == network.keys[1]
    assert await titled(nc, "opened over a bad line") == 1


async def test_the_client_has_the_answer_only_once_it_is_kept(gateway_stack, start_service,
                                                              nc, monkeypatch):
    """However slowly the answer is written to the database, the client gets it only
    after: a repeat it sends through another replica as soon as it has the first answer
    finds that answer kept, not a request still being answered (409)."""
    from reasonops_gateway import store

    other = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                rate_limit_per_second=1000)
    written = store.keep_answer

    async def slowly(*args, **kwargs):
        await asyncio.sleep(0.5)  # a busy database
        return await written(*args, **kwargs)

    monkeypatch.setattr(store, "keep_answer", slowly)
    body = {"title": "the answer before the repeat", "service": "checkout"}
    key = {"Idempotency-Key": "slow-write-1"}
    async with api(gateway_stack["url"], gateway_stack["admin"]) as one, \
            api(f"http://127.0.0.1:{other.port}", gateway_stack["admin"]) as two:
        first = await one.post("/api/incidents", json=body, headers=key)
        assert first.status_code == 201, first.text
        again = await two.post("/api/incidents", json=body, headers=key)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await titled(nc, body["title"]) == 1
