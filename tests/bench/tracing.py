"""What tracing costs on the hot path: the incident service's batch consumer draining a
backlog of accepted alerts, in-process, in three modes on fresh servers:

- off: no OTEL_* variables, so no SDK (the default);
- off, traceparent forwarded: the same, but every alert arrives with a traceparent,
  which the kit stores with the outbox rows and passes on;
- on: the OpenTelemetry SDK installed with a batch processor and an exporter that
  drops spans (the cost of recording, without the network).

Run alone with ``python -m tests.bench.tracing [--alerts N]``; ``make bench`` runs it too.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from reasonops_cli.credentials import ensure_identities
from reasonops_cli.natsd import EmbeddedNats
from reasonops_incidents.app import IncidentSettings, build_service
from reasonops_runtime import tracing
from reasonops_runtime.broker import connect
from reasonops_runtime.ports import free_port
from tests.support import accepted

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class DropSpans(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def drain_rate(alerts: int, fingerprints: int, data: Path, *, traceparent: bool) -> float:
    """Alerts per second the incident service handles from a backlog of ``alerts``."""
    server = EmbeddedNats(data / "js", port=free_port(), monitor_port=None)
    server.start()
    # The service answers only signed requests: it needs the registry `reasonops up`
    # writes (no request is sent here; the broker runs without authentication).
    ensure_identities(data / "db", ["incidents"])
    nc = await connect(server.url)
    service = build_service(IncidentSettings(nats_url=server.url, data_dir=data / "db",
                                             http_port=free_port(), fetch_timeout=0.1))
    try:
        js = nc.jetstream()
        await service.start()  # declares the streams
        await service.stop()
        service = build_service(IncidentSettings(nats_url=server.url, data_dir=data / "db",
                                                 http_port=free_port(), fetch_timeout=0.1))
        futures = []
        for i in range(alerts):
            envelope = accepted(f"fp-{i % fingerprints:06d}")
            headers = envelope.headers()
            if traceparent:
                headers[tracing.TRACEPARENT] = TRACEPARENT
            futures.append(await js.publish_async("itsm.ingest.event.accepted",
                                                  envelope.to_bytes(), headers=headers))
        await asyncio.gather(*futures)
        started = time.perf_counter()
        await service.start()
        while True:
            info = await js.consumer_info("INGEST", "incidents")
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            await asyncio.sleep(0.01)
        return alerts / (time.perf_counter() - started)
    finally:
        await service.stop()
        await nc.close()
        server.stop()


async def tracing_bench(alerts: int, data: Path, rounds: int = 2) -> None:
    """Best of ``rounds`` per mode; off and forwarded alternate so both see the same
    machine (the SDK, once installed, stays for the process, so "on" runs last)."""
    fingerprints = max(1, alerts // 10)
    print(f"tracing cost: incidents draining {alerts} alerts ({fingerprints} fingerprints), "
          f"best of {rounds}")
    off: list[float] = []
    forwarded: list[float] = []
    on: list[float] = []
    for i in range(rounds):
        off.append(await drain_rate(alerts, fingerprints, data / f"off{i}", traceparent=False))
        forwarded.append(await drain_rate(alerts, fingerprints, data / f"fwd{i}",
                                          traceparent=True))
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DropSpans(), max_queue_size=65536))
    trace.set_tracer_provider(provider)
    for i in range(rounds):
        on.append(await drain_rate(alerts, fingerprints, data / f"on{i}", traceparent=True))
    provider.shutdown()
    base = max(off)
    print(f"  {'tracing off (no SDK)':<48} {base:>10,.0f} alerts/s")
    print(f"  {'tracing off, traceparent forwarded':<48} {max(forwarded):>10,.0f} alerts/s "
          f"({max(forwarded) / base:.2f} x off)")
    print(f"  {'tracing on (SDK, spans dropped)':<48} {max(on):>10,.0f} alerts/s "
          f"({max(on) / base:.2f} x off)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reasonops-bench-tracing-") as tmp:
        asyncio.run(tracing_bench(args.alerts, Path(tmp), args.rounds))


if __name__ == "__main__":
    main()
