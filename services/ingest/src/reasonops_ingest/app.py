"""Composition root of the ingest service."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from reasonops_contracts import Envelope
from reasonops_contracts.streams import INGEST
from reasonops_runtime import Clock, Service, ServiceSettings

from .handlers import RAW_CONSUMER, RAW_SUBJECTS, IngestMetrics, RawIntake, publish_all
from .webhooks import webhook_routes

MIB = 1024 * 1024


class IngestSettings(ServiceSettings):
    """The kit's settings plus ``REASONOPS_MAX_BODY_BYTES`` (default 1 MiB) and
    ``REASONOPS_PUBLISH_TIMEOUT_SECONDS`` (default 10)."""

    service_name: str = "ingest"
    max_body_bytes: int = Field(default=MIB, ge=1024,
                                description="Largest accepted webhook body or raw message")
    publish_timeout_seconds: float = Field(default=10.0, gt=0,
                                           description="How long a request waits for JetStream "
                                                       "to acknowledge its events before 503")


def build_service(settings: IngestSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    settings = settings or IngestSettings()
    service = Service("ingest", settings, clock=clock)
    metrics = IngestMetrics(service.registry)

    async def publish(envelopes: Sequence[Envelope]) -> None:
        await publish_all(service.js, envelopes, timeout=settings.publish_timeout_seconds)

    service.routes.extend(webhook_routes(publish=publish, clock=service.clock, metrics=metrics,
                                         max_bytes=settings.max_body_bytes))
    service.consume(RAW_CONSUMER,
                    RawIntake(service.clock, metrics, max_bytes=settings.max_body_bytes),
                    subjects=tuple(RAW_SUBJECTS), stream=INGEST)
    return service
