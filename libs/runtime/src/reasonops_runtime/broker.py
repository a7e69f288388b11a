"""Connections to NATS: a service's, through FastStream's broker (its own identity and
TLS, reconnecting for ever, a refusal of its identity logged apart from other connection
problems, commands and queries traced when tracing is on), and a plain one for clients
that are not services (``connect``). A URL may list a cluster's servers, comma-separated."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import nats
from nats.aio.client import Client

from . import tracing
from .broker_auth import BrokerAuth
from .settings import ServiceSettings, redact_url

if TYPE_CHECKING:
    from faststream.nats import NatsBroker

log = logging.getLogger(__name__)


def broker_for(name: str, s: ServiceSettings) -> NatsBroker:
    """The broker ``name`` connects with, as its settings say."""
    # Imported here: a client's plain connection (``connect``) does without FastStream.
    from faststream.nats import NatsBroker
    from faststream.nats.opentelemetry import NatsTelemetryMiddleware
    from faststream.security import BaseSecurity
    from opentelemetry import trace

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


async def connect(url: str, name: str = "reasonops-client", *,
                  auth: BrokerAuth | None = None, identity: str | None = None) -> Client:
    """A plain nats-py connection, for clients that are not services (CLI, tests);
    ``identity`` gives it that identity's private inbox prefix.

    Connection errors surface as the exception of this call, not as nats-py's default
    error log with a traceback per attempt.
    """
    errors: list[Exception] = []

    async def quiet(exc: Exception) -> None:
        errors.append(exc)
        log.debug("nats client error", extra={"error": repr(exc)})

    try:
        return await nats.connect([u.strip() for u in url.split(",") if u.strip()],
                                  name=name, connect_timeout=3, max_reconnect_attempts=2,
                                  error_cb=quiet, **(auth or BrokerAuth()).options(identity))
    except Exception:
        refusal = next((e for e in reversed(errors) if "authorization" in str(e).lower()), None)
        if refusal is not None:  # the server answered, and said no to who we are
            raise PermissionError(f"NATS at {redact_url(url)} refused the credentials "
                                  f"({refusal})") from None
        raise
