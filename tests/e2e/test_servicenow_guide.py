"""docs/guides/servicenow.md, run as written against ``reasonops up`` connected to a
server speaking ServiceNow's Table API: the CLI commands and the curl calls. Only the
gateway's port and the token differ."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys

import pytest

from tests.e2e.stack import ROOT, Stack
from tests.fake_servicenow import PASSWORD, USER, FakeServiceNow

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GUIDE = ROOT / "docs" / "guides" / "servicenow.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(), flags=re.S | re.M)


def here(text: str, stack: Stack) -> str:
    text = text.replace("http://127.0.0.1:8080", stack.gateway_url)
    return re.sub(r"^reasonops ", f"{sys.executable} -m reasonops_cli ", text, flags=re.M)


async def bash(script: str, stack: Stack, **env: str) -> str:
    """Run ``script`` without blocking the loop the fake ServiceNow answers on."""
    proc = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(stack.env, NATS_URL=stack.nats_url, REASONOPS_DATA_DIR=str(stack.data_dir),
                 **env))
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, (script, out.decode(), err.decode())
    return out.decode()


async def until(probe, timeout: float = 30.0):
    for _ in range(int(timeout / 0.2)):
        found = probe()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("not within the time")


async def test_the_servicenow_guide_runs_as_written(tmp_path):
    fake = await FakeServiceNow().start()
    stack = Stack(tmp_path / "data", REASONOPS_SERVICENOW_URL=fake.url,
                  REASONOPS_SERVICENOW_USER=USER, REASONOPS_SERVICENOW_PASSWORD=PASSWORD,
                  REASONOPS_SERVICENOW_MAPPING=str(
                      ROOT / "examples" / "config" / "servicenow-mapping.yaml"),
                  REASONOPS_SERVICENOW_POLL_SECONDS="1")
    await asyncio.to_thread(stack.start)
    try:
        commands, calls = blocks("sh")
        create, status, one, resync = commands.strip().splitlines()
        assert "INC0000001" in await bash(here(create, stack), stack)
        [record] = await until(fake.incidents)
        assert record["correlation_id"] == "INC0000001"
        assert record["assignment_group"]  # the team's group, or the mapping's default
        assert record["caller_id"] == "ana.lima"
        assert record["priority"] == "2"
        assert "1 record(s) linked" in await bash(here(status, stack), stack)
        assert record["number"] in await bash(here(one, stack), stack)

        fake.update_as("beth.anglin", record["sys_id"], {"state": "2", "work_notes": "on it"})
        shown = await until(lambda: "state: 2" in stack.run(
            "servicenow", "status", "INC0000001").stdout)
        assert shown
        assert record["number"] in await bash(here(resync, stack), stack)
        incident = stack.cli("incidents", "show", "INC0000001")
        assert incident["state"] == "acknowledged"
        assert any("ServiceNow work note by beth.anglin: on it" in e["detail"]
                   for e in incident["timeline"])

        decoder, text, found, at = json.JSONDecoder(), await bash(
            here(calls, stack), stack, REASONOPS_TOKEN=stack.api_token()), [], 0
        while at < len(text.strip()):
            document, at = decoder.raw_decode(text, at)
            found.append(document)
            while at < len(text) and text[at].isspace():
                at += 1
        status_doc, link, resynced = found
        assert status_doc["configured"]
        assert status_doc["linked"] == 1
        assert link["sys_id"] == record["sys_id"]
        assert resynced["items"][0]["number"] == record["number"]
    finally:
        if stack.process and stack.process.poll() is None:
            await asyncio.to_thread(stack.stop, signal.SIGTERM)
        await fake.stop()
