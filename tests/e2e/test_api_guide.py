"""docs/guides/api.md, run as written against ``reasonops up``: the token commands, the
curl calls, the SDK program and both MCP client configurations (the official ``mcp``
client starts or reaches each one and lists the tools). Only the ports, the data
directory, the example token id and the token placeholder differ."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from contextlib import AsyncExitStack

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from tests.e2e.stack import ROOT, Stack, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GUIDE = ROOT / "docs" / "guides" / "api.md"
EXAMPLE_TOKEN_ID = "tok_k3x9q2m1p0ab"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(), flags=re.S | re.M)


def here(text: str, stack: Stack) -> str:
    text = text.replace("localhost:8080", stack.gateway_url.removeprefix("http://"))
    text = text.replace("http://127.0.0.1:8080", stack.gateway_url)
    text = text.replace(".reasonops/", f"{stack.data_dir}/")
    return re.sub(r"^reasonops ", f"{sys.executable} -m reasonops_cli ", text, flags=re.M)


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path / "data")
    stack.start()
    yield stack
    if stack.process and stack.process.poll() is None:
        stack.stop(signal.SIGTERM)


def documents(text: str) -> list[dict]:
    """The JSON documents curl printed one after another (no newline between them)."""
    found, at, decoder = [], 0, json.JSONDecoder()
    while at < len(text):
        document, at = decoder.raw_decode(text, at)
        found.append(document)
        while at < len(text) and text[at].isspace():
            at += 1
    return found


def bash(script: str, stack: Stack, **env: str) -> str:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, text=True,
                            capture_output=True, timeout=120,
                            env=dict(stack.env, NATS_URL=stack.nats_url,
                                     REASONOPS_DATA_DIR=str(stack.data_dir), **env))
    assert result.returncode == 0, (script, result.stdout, result.stderr)
    return result.stdout


async def test_the_api_guide_runs_as_written(stack, tmp_path):
    assert stack.post("/v1/alertmanager", "alertmanager-firing.json").status_code == 202
    wait_until(lambda: stack.cli("incidents", "list")["items"])
    tokens, calls, stream = blocks("sh")
    create, listing, revoke = tokens.splitlines()
    token_id = re.search(r"Token (tok_[a-z0-9]{12}) for user:olga",
                         bash(here(create, stack), stack)).group(1)
    assert token_id in bash(here(listing, stack), stack)
    bash(here(revoke.replace(EXAMPLE_TOKEN_ID, token_id), stack), stack)
    revoked = [t for t in stack.cli("tokens", "list", "--all")["items"]
               if t["token_id"] == token_id]
    assert revoked[0]["revoked_at"]

    out = documents(bash(here(calls, stack), stack))
    assert len(out) == 8
    assert out[0]["principal"] == "user:admin"
    assert out[1]["total"] == 1
    assert out[3]["state"] == "acknowledged"
    assert out[4]["month"] == "last-30d"
    assert out[5]["open_incidents"] == 1
    assert out[6] == out[7]  # the same comment, sent twice with one key, is there once
    assert [e["detail"] for e in out[7]["timeline"]].count("customer called back") == 1
    assert "-N" in stream  # the live stream: see tests/integration/test_gateway_events.py

    (program,) = blocks("python")
    token = stack.api_token()
    printed = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, text=True,
                             capture_output=True, timeout=60,
                             env={"PATH": stack.env["PATH"], "REASONOPS_URL": stack.gateway_url,
                                  "REASONOPS_TOKEN": token})
    assert printed.returncode == 0, printed.stderr
    assert "422 body.assignment_group" in printed.stdout
    assert (tmp_path / "artifacts" / "monthly_summary.json").exists()

    config = json.loads(here(blocks("json")[1].replace("ro_...", token), stack))
    servers = config["mcpServers"]
    local, remote = servers["reasonops"], servers["reasonops-http"]
    assert local["command"] == "reasonops"
    async with AsyncExitStack() as using:
        process = StdioServerParameters(command=sys.executable,
                                        args=["-m", "reasonops_cli", *local["args"]],
                                        env={**local["env"], "PATH": stack.env["PATH"]})
        streams = await using.enter_async_context(stdio_client(process))
        over_stdio = await using.enter_async_context(ClientSession(streams[0], streams[1]))
        http = create_mcp_http_client(headers=remote["headers"])
        await using.enter_async_context(http)
        streams = await using.enter_async_context(
            streamable_http_client(remote["url"], http_client=http))
        over_http = await using.enter_async_context(ClientSession(streams[0], streams[1]))
        for session in (over_stdio, over_http):
            await session.initialize()
            tools = {t.name for t in (await session.list_tools()).tools}
            assert {"search_incidents", "resolve_incident"} <= tools
            found = await session.call_tool("search_incidents", {"limit": 5})
            assert not found.is_error, found.content
