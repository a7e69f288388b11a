"""A service's NATS connection, through FastStream's broker: its own identity and TLS,
reconnecting for ever, a refusal of its identity logged apart from other connection
problems, and commands and queries traced when tracing is on."""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.security import BaseSecurity
from opentelemetry import trace

from . import tracing
from .settings import ServiceSettings

log = logging.getLogger(__name__)


def broker_for(name: str, s: ServiceSettings) -> NatsBroker:
    """The broker ``name`` connects with, as its settings say."""
    async def broker_error(exc: Exception) -> None:
        if "violation" in str(exc).lower():  # authorization or permissions
            log.error("NATS refused this service's identity", extra={
                "identity": name, "nats": s.nats_url_for_logs(), "error": str(exc)})
            return
        log.warning("NATS connection problem", extra={"nats": s.nats_url_for_logs(),
                                                      "error": repr(exc)})

    # FastStream's telemetry middleware traces commands and queries (request-reply);
    # the batch consumers and the outbox trace themselves (see tracing.py).
    middlewares = ([NatsTelemetryMiddleware(tracer_provider=trace.get_tracer_provider())]
                   if tracing.enabled() else [])
    auth = s.broker_auth()
    options = auth.options(name)
    options.pop("tls", None)  # FastStream takes TLS as its security object
    context = auth.ssl_context()
    # A cluster's seed servers, comma-separated; the client learns the rest from them.
    servers = [server.strip() for server in s.nats_url.split(",") if server.strip()]
    return NatsBroker(servers, name=f"reasonops-{name}", log_level=logging.DEBUG,
                      graceful_timeout=5.0, max_reconnect_attempts=-1, error_cb=broker_error,
                      middlewares=middlewares, **options,
                      security=BaseSecurity(ssl_context=context) if context else None)
