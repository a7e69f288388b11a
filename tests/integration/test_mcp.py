"""The MCP server driven by the official ``mcp`` client: over streamable HTTP at the
gateway's ``/mcp`` and over stdio (``reasonops mcp``), with the same tokens and rights as
the REST API; a token without rights gets a tool error, not an effect."""

from __future__ import annotations

import json
import sys
from contextlib import asynccontextmanager

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from reasonops_contracts.incidents import GetIncident, IncidentView
from reasonops_runtime.client import request
from tests.support import wait_for

pytestmark = pytest.mark.nats

TOOLS = {"search_incidents", "show_incident", "acknowledge_incident", "comment_incident",
         "assign_incident", "resolve_incident", "sla_status", "sla_clocks_needing_attention",
         "audit_trail", "incident_briefing", "incident_review", "incident_cost",
         "approve_workflow_step", "reject_workflow_step", "silence_alerts", "finance_summary",
         "run_agent"}


def structured(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content or json.loads(result.content[0].text)


async def drive(session: ClientSession, incident_id: str) -> None:
    """List the tools, then take an incident from open to resolved."""
    await session.initialize()
    listed = await session.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) >= TOOLS
    assert tools["resolve_incident"].annotations.destructive_hint is True
    assert tools["show_incident"].annotations.read_only_hint is True
    assert tools["acknowledge_incident"].input_schema["properties"]["incident_id"]["pattern"]
    found = structured(await session.call_tool("search_incidents", {"service": "checkout"}))
    assert incident_id in [i["incident_id"] for i in found["items"]]
    steps = [("acknowledge_incident", {"note": "assistant on it"}, "acknowledged"),
             ("comment_incident", {"note": "rolled back the deploy"}, "acknowledged"),
             ("resolve_incident", {"note": "error rate back to normal"}, "resolved")]
    for tool, arguments, state in steps:
        view = structured(await session.call_tool(tool, {"incident_id": incident_id,
                                                         **arguments}))
        assert view["state"] == state
    briefing = await session.call_tool("incident_briefing", {"incident_id": incident_id})
    assert briefing.is_error  # no agent has decided about it here
    assert "no briefing yet" in briefing.content[0].text
    async def cost_now():
        return structured(await session.call_tool("incident_cost", {"incident_id": incident_id}))
    # Finance hears of the resolution in the background, a moment later.
    cost = await wait_for(cost_now, check=lambda c: c["resolved"])
    assert cost["incident_id"] == incident_id
    assert cost["memo"].startswith("downtime ")
    clocks = structured(await session.call_tool("sla_status", {"incident_id": incident_id}))
    assert clocks["incident_id"] == incident_id
    running = structured(await session.call_tool("sla_clocks_needing_attention",
                                                 {"attention": "running"}))
    assert incident_id not in [c["incident_id"] for c in running["items"]]  # all stopped


@asynccontextmanager
async def over_http(url: str, token: str):
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with client, streamable_http_client(url, http_client=client) as streams, \
            ClientSession(streams[0], streams[1]) as session:
        yield session


async def test_an_mcp_client_drives_an_incident_over_streamable_http(gateway_stack, nc):
    checkout, search = gateway_stack["ids"]["checkout"], gateway_stack["ids"]["search"]
    url = f"{gateway_stack['url']}/mcp"
    async with over_http(url, gateway_stack["admin"]) as session:
        await drive(session, checkout)
    shown = await request(nc, GetIncident(incident_id=checkout, actor="user:admin"),
                          IncidentView)
    assert shown.state == "resolved"
    assert {e.actor for e in shown.timeline if e.kind in ("state_changed", "comment")} == {
        "user:admin"}

    # Olga may not touch search's incident: a tool error naming why, and no effect.
    async with over_http(url, gateway_stack["olga"]) as session:
        await session.initialize()
        refused = await session.call_tool("resolve_incident", {
            "incident_id": search, "note": "not mine"})
    assert refused.is_error
    assert refused.content[0].text.startswith("403 Forbidden: user:olga may not incident.")
    assert refused.content[0].text.endswith("is outside their scope")
    untouched = await request(nc, GetIncident(incident_id=search, actor="user:admin"),
                              IncidentView)
    assert untouched.state == "new"


async def test_without_a_token_the_mcp_endpoint_answers_401(gateway_stack):
    import httpx

    async with httpx.AsyncClient(base_url=gateway_stack["url"]) as plain:
        answer = await plain.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


async def test_an_mcp_client_drives_an_incident_over_stdio(gateway_stack):
    checkout = gateway_stack["ids"]["checkout"]
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "reasonops_cli", "mcp"],
        env={"REASONOPS_URL": gateway_stack["url"], "REASONOPS_TOKEN": gateway_stack["admin"]})
    async with stdio_client(server) as streams, \
            ClientSession(streams[0], streams[1]) as session:
        await drive(session, checkout)
