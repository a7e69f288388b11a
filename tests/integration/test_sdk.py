"""The SDK against the real gateway and services: the product's documented calls, every
resource it reaches, pagination, problems as ``ApiError``, retries that honour
``Retry-After``; and the documented snippet, run verbatim from an installed wheel in a
virtual environment that has nothing else of the workspace."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_sdk import ApiError, AsyncReasonOpsClient, ReasonOpsClient
from reasonops_sdk.errors import TransportError
from tests.support import accepted, issue_token, publish_all, wait_for

pytestmark = pytest.mark.nats

ROOT = Path(__file__).parents[2]
SNIPPET = """\
from reasonops_sdk import ReasonOpsClient
client = ReasonOpsClient()   # REASONOPS_URL / REASONOPS_TOKEN, or arguments
dashboard = client.get_dashboard(); print(dashboard.services, dashboard.offerings)
metrics = client.compute_slm_metrics(period_days=30); print(metrics.availability_pct, metrics.mttr_minutes, metrics.mtbf_hours)
summary = client.export_monthly_summary(out_file="artifacts/monthly_summary.json"); print(summary.month, summary.penalties.keys())
"""  # noqa: E501 - as the documentation writes it


async def test_the_sync_client_reads_pages_and_acts(gateway_stack, nc, tmp_path):
    checkout = gateway_stack["ids"]["checkout"]
    await publish_all(nc, [accepted(f"x{i}", service="checkout") for i in range(11)])

    def use() -> None:
        with ReasonOpsClient(gateway_stack["url"], gateway_stack["admin"]) as client:
            assert client.me().principal == "user:admin"
            board = client.get_dashboard()
            assert (board.services, board["services"]) == (board.services, board.services)
            assert board.offerings <= board.services
            metrics = client.compute_slm_metrics(period_days=30)
            assert metrics.period == "last-30d"
            summary = client.export_monthly_summary(out_file=tmp_path / "out" / "m.json")
            assert json.loads((tmp_path / "out" / "m.json").read_text())["month"] == \
                summary.month
            assert client.acknowledge(checkout, "on it").state == "acknowledged"
            assert client.comment(checkout, "looking").timeline[-1].kind == "comment"
            assert client.incident_sla(checkout).clocks
            seen = [i.incident_id for i in client.iter_incidents(service="checkout")]
            assert len(seen) == len(set(seen)) == client.list_incidents(
                service="checkout", limit=1).total
            with pytest.raises(ApiError) as refused:
                client.assign(checkout, "")
            assert (refused.value.status, refused.value.field) == (
                422, "body.assignment_group")
            with pytest.raises(ApiError) as missing:
                client.get_incident("INC9999999")
            assert missing.value.status == 404
            decisions = client.get_agent_decisions(limit=5)
            assert decisions["total"] == 0
            assert client.check_agent_health() == {}
            assert client.list_llm_providers()["recommended"]["local"] == ["rules"]

    await wait_for(lambda: asyncio.to_thread(
        lambda: ReasonOpsClient(gateway_stack["url"], gateway_stack["admin"]).list_incidents(
            service="checkout").total), check=lambda total: total == 12)
    await asyncio.to_thread(use)


async def test_the_async_client_and_a_token_without_rights(gateway_stack):
    async with AsyncReasonOpsClient(gateway_stack["url"], gateway_stack["olga"]) as client:
        page = await client.list_incidents()
        assert [i.service for i in page.items] == ["checkout"]
        with pytest.raises(ApiError) as refused:
            await client.get_incident(gateway_stack["ids"]["search"])
        assert refused.value.status == 403
    async with AsyncReasonOpsClient(gateway_stack["url"], "ro_aaaaaaaaaaaa_" + "b" * 43,
                                    retries=0) as client:
        with pytest.raises(ApiError) as unknown:
            await client.me()
        assert unknown.value.status == 401


async def test_429_is_retried_after_the_time_the_gateway_names(nc, start_service):
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_per_second=1,
                                  rate_limit_burst=1)
    token = await issue_token(nc, "user:admin")

    def twice() -> float:
        with ReasonOpsClient(f"http://127.0.0.1:{gateway.port}", token) as client:
            client.me()
            started = time.monotonic()
            client.me()  # refused with Retry-After: 1, then answered
            return time.monotonic() - started

    assert await asyncio.to_thread(twice) >= 0.9
    with pytest.raises(TransportError, match="cannot reach ReasonOps"):
        ReasonOpsClient("http://127.0.0.1:9", token, retries=1, max_wait=0.01).me()


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        pytest.skip("uv is needed to build the wheel")
    return found


async def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *map(str, command), cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    return out.decode()


@pytest.mark.slow
async def test_the_documented_snippet_runs_from_an_installed_wheel(gateway_stack, tmp_path):
    uv, dist = _uv(), tmp_path / "dist"
    for package in ("reasonops-sdk", "reasonops-contracts"):
        await _run(uv, "build", "--quiet", "--wheel", "--package", package, "--out-dir", dist,
                   cwd=ROOT)
    venv = tmp_path / "venv"
    await _run(uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    await _run(uv, "pip", "install", "--quiet", "--python", python, *sorted(dist.glob("*.whl")),
               cwd=tmp_path)
    alone = await _run(python, "-c", "import importlib.util as u; print(sorted(m for m in ("
                       "'reasonops_runtime', 'reasonops_gateway', 'nats') if u.find_spec(m)))",
                       cwd=tmp_path)
    assert alone.strip() == "[]"
    (tmp_path / "snippet.py").write_text(SNIPPET)
    env = {"PATH": os.environ["PATH"], "REASONOPS_URL": gateway_stack["url"],
           "REASONOPS_TOKEN": gateway_stack["admin"]}
    out = await _run(python, "snippet.py", cwd=tmp_path, env=env)
    lines = out.strip().splitlines()
    assert len(lines) == 3, out
    assert lines[2].startswith(time.strftime("%Y-%m", time.gmtime()) + " dict_keys(")
    written = json.loads((tmp_path / "artifacts" / "monthly_summary.json").read_text())
    assert written["month"] == lines[2].split()[0]
