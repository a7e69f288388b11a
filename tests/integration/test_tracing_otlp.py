"""Services as processes export their spans over OTLP/HTTP, set up by OTEL_* alone:
an in-test OTLP receiver sees ingest's request and the incident service's handling of
the alert it accepted in one trace."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_runtime.ports import free_port
from tests.support import post_to_ingest, wait_for

pytestmark = pytest.mark.nats

ONE_ALERT = {
    "version": "4", "status": "firing", "receiver": "reasonops",
    "alerts": [{"status": "firing", "fingerprint": "07a1b0000000beef",
                "labels": {"alertname": "DiskFull", "service": "billing",
                           "severity": "warning"}}],
}


class OtlpReceiver:
    """OTLP/HTTP (protobuf) on loopback: ``(service.name, span)`` for each span received."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, object]] = []
        self.port = free_port()

    async def traces(self, request: Request) -> Response:
        export = ExportTraceServiceRequest.FromString(await request.body())
        for resource_spans in export.resource_spans:
            attributes = {a.key: a.value.string_value
                          for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                self.spans += [(attributes.get("service.name", ""), s) for s in scope.spans]
        return Response(ExportTraceServiceResponse().SerializeToString(),
                        media_type="application/x-protobuf")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[OtlpReceiver]:
        app = Starlette(routes=[Route("/v1/traces", self.traces, methods=["POST"])])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                               log_config=None, lifespan="off"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        try:
            yield self
        finally:
            server.should_exit = True
            await task


async def run_service(name: str, port: int, nats_url: str, data: Path, otlp: int
                      ) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(NATS_URL=nats_url, REASONOPS_HTTP_PORT=str(port), REASONOPS_DATA_DIR=str(data),
               REASONOPS_FETCH_TIMEOUT="0.1",
               OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{otlp}",
               OTEL_BSP_SCHEDULE_DELAY="100",
               REASONOPS_DEFAULT_INTEGRATION_KEY_FILE=str(data.parent / "ingest.key"))
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reasonops_cli", "run", name, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def ready(port: int) -> bool:
    async with httpx.AsyncClient(timeout=2) as client:
        return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200


async def test_processes_export_one_trace_over_otlp(nats_url, tmp_path):
    ports = {"ingest": free_port(), "incidents": free_port()}
    async with OtlpReceiver().running() as receiver:
        processes = [await run_service(name, port, nats_url, tmp_path / name, receiver.port)
                     for name, port in ports.items()]
        try:
            for port in ports.values():
                await wait_for(lambda port=port: ready(port), timeout=60)
            response = await post_to_ingest(f"http://127.0.0.1:{ports['ingest']}",
                                            "/v1/alertmanager", ONE_ALERT,
                                            key_file=tmp_path / "ingest.key")
            assert response.status_code == 202

            def by_service():
                found: dict[str, list] = {}
                for service, span in receiver.spans:
                    found.setdefault(service, []).append(span)
                return found

            def both_sides(found: dict[str, list]) -> bool:
                # Each process exports on its own schedule: wait for ingest's request
                # span and the incident service's handling alike.
                return (any(s.name == "POST /v1/alertmanager"
                            for s in found.get("reasonops-ingest", []))
                        and any(s.name == "process itsm.ingest.event.accepted"
                                for s in found.get("reasonops-incidents", [])))

            spans = await wait_for(by_service, check=both_sides, timeout=30)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                await asyncio.wait_for(process.wait(), 30)

    (request,) = [s for s in spans["reasonops-ingest"] if s.name == "POST /v1/alertmanager"]
    process_spans = [s for s in spans["reasonops-incidents"]
                     if s.name == "process itsm.ingest.event.accepted"]
    assert process_spans
    assert {s.trace_id for s in process_spans} == {request.trace_id}
