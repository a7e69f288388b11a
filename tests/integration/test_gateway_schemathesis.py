"""Schemathesis runs the exported OpenAPI document against the running gateway (with the
real services behind it), a bounded number of generated requests per operation: no 5xx,
and every response matches the document (status, content type, schema)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.nats, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
SPEC = ROOT / "services" / "gateway" / "openapi.json"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


async def test_the_exported_openapi_holds_against_the_running_gateway(gateway_engine, tmp_path):
    gateway_stack = gateway_engine
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", str(SPEC),
        "--url", gateway_stack["url"],
        "--header", f"Authorization: Bearer {gateway_stack['admin']}",
        "--checks", CHECKS, "--max-examples", "6", "--seed", "20261204",
        "--phases", "examples,coverage,fuzzing", "--workers", "1", "--no-color",
        "--generation-database", "none", "--request-timeout", "10",
        "--exclude-path", "/api/events",  # an endless stream; see test_gateway_events
        "--report-dir", str(tmp_path / "report")]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
    out, _ = await asyncio.wait_for(process.communicate(), 600)
    report = out.decode()
    assert process.returncode == 0, report[-6000:]
