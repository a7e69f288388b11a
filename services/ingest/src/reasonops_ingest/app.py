"""Composition root of the ingest service."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field, field_validator

from reasonops_contracts.ingest import (
    CreateIntegration,
    ListHeartbeats,
    ListIntegrations,
    RevokeIntegration,
    RotateIntegrationKey,
)
from reasonops_contracts.streams import INGEST
from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.enforcement import Enforcer

from .commands import Integrations
from .gate import Directory
from .handlers import RAW_CONSUMER, RAW_SUBJECTS, RawIntake
from .heartbeats import TIMER_KIND, Heartbeats
from .metrics import IngestMetrics
from .pagerduty_api import pagerduty_routes
from .publishing import Outgoing, publish_all
from .queries import HeartbeatQueries, IntegrationQueries
from .ratelimit import RateLimiter
from .store import metadata
from .webhooks import Intake, webhook_routes

KIB = 1024


class IngestSettings(ServiceSettings):
    """The kit's settings plus ``REASONOPS_MAX_BODY_BYTES`` (default 512 KiB, PagerDuty's
    limit), ``REASONOPS_PUBLISH_TIMEOUT_SECONDS`` (default 10) and
    ``REASONOPS_DEFAULT_INTEGRATION_KEY_FILE``."""

    service_name: str = "ingest"
    max_body_bytes: int = Field(default=512 * KIB, ge=1024,
                                description="Largest accepted webhook body or raw message")
    publish_timeout_seconds: float = Field(default=10.0, gt=0,
                                           description="How long a request waits for JetStream "
                                                       "to acknowledge its events before 503")
    default_integration_key_file: Path | None = Field(
        default=None, description="Create the 'default' integration on first start and "
                                  "write its key here (reasonops up sets it)")

    @field_validator("default_integration_key_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def build_service(settings: IngestSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    settings = settings or IngestSettings()
    service = Service("ingest", settings, metadata=(metadata,), clock=clock)
    metrics = IngestMetrics(service.registry)
    directory = Directory(service.store, service.clock)

    async def publish(messages: Sequence[Outgoing]) -> None:
        await publish_all(service.publisher, messages, timeout=settings.publish_timeout_seconds)

    intake = Intake(gate=directory, publish=publish, clock=service.clock, metrics=metrics,
                    max_bytes=settings.max_body_bytes, limiter=RateLimiter())
    heartbeats = Heartbeats(intake, service.store, service.transaction)
    enforcer = Enforcer(policy_file.configured(settings.policy), "ingest")
    integrations = Integrations(service.store, service.clock, directory, enforcer,
                                settings.default_integration_key_file)
    service.routes.extend([*webhook_routes(intake), *pagerduty_routes(intake, service.store),
                           *heartbeats.routes()])
    service.consume(RAW_CONSUMER,
                    RawIntake(service.clock, metrics, max_bytes=settings.max_body_bytes,
                              publish=publish),
                    subjects=tuple(RAW_SUBJECTS), stream=INGEST)
    service.on_timer(TIMER_KIND, heartbeats.on_missed)
    service.respond(CreateIntegration, integrations.create)
    service.respond(ListIntegrations, IntegrationQueries(service.store, enforcer).list_all)
    service.respond(RevokeIntegration, integrations.revoke)
    service.respond(RotateIntegrationKey, integrations.rotate)
    service.respond(ListHeartbeats, HeartbeatQueries(service.store, enforcer).list_all)
    service.startup_hooks.append(integrations.ensure_default)
    return service
