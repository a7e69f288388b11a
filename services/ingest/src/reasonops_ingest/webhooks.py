"""HTTP webhooks: ``POST /v1/alertmanager`` and ``POST /v1/events``.

A request is answered 202 only after JetStream acknowledged every event it
carried; anything wrong with it is a 4xx naming the problem, and nothing of a
rejected request is published.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_contracts import Envelope
from reasonops_runtime import Clock

from .formats import Format, PayloadError, parse, too_large
from .handlers import IngestMetrics, PublishFailed, envelopes_for, normalise

log = logging.getLogger(__name__)

ALERTMANAGER_PATH = "/v1/alertmanager"
EVENTS_PATH = "/v1/events"
RETRY_AFTER_SECONDS = 5

Publish = Callable[[Sequence[Envelope]], Awaitable[None]]
"""Publishes envelopes and returns once JetStream acked them all; raises ``PublishFailed``."""


def is_json(content_type: str | None) -> bool:
    """``application/json`` or a ``+json`` media type, with or without parameters."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                            and media.endswith("+json"))


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or ``PayloadError`` (too_large) as soon as it is known to exceed ``limit``.

    A declared Content-Length is checked before reading; a chunked or lying body
    is read piece by piece and abandoned the moment it passes the limit.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def rejection(exc: PayloadError) -> JSONResponse:
    if exc.reason == "too_large":
        return JSONResponse({"error": exc.error, "detail": exc.problems[0].message}, 413)
    if exc.malformed:
        return JSONResponse({"error": exc.error, "detail": exc.problems[0].message}, 400)
    return JSONResponse({"error": exc.error,
                         "problems": [p.model_dump() for p in exc.problems]}, 422)


class Webhook:
    """One endpoint: content type, size limit, parse, normalise, publish, answer."""

    def __init__(self, fmt: Format, *, publish: Publish, clock: Clock, metrics: IngestMetrics,
                 max_bytes: int) -> None:
        self.fmt = fmt
        self.publish = publish
        self.clock = clock
        self.metrics = metrics
        self.max_bytes = max_bytes

    async def handle(self, request: Request) -> Response:
        content_type = request.headers.get("content-type")
        if not is_json(content_type):
            return self._reject("unsupported_media_type", JSONResponse({
                "error": "unsupported media type",
                "detail": f"Content-Type must be application/json, got {content_type!r}"}, 415))
        try:
            payload = parse(self.fmt, await read_body(request, self.max_bytes))
        except PayloadError as exc:
            return self._reject(exc.reason, rejection(exc))
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        envelopes = envelopes_for(normalise(payload, received_at=self.clock.now()))
        try:
            await self.publish(envelopes)
        except PublishFailed as exc:
            self.metrics.events.labels(self.fmt.value, "http", "publish_failed").inc(
                len(envelopes))
            log.warning("publish failed, asking the sender to retry",
                        extra={"format": self.fmt.value, "error": str(exc)})
            return JSONResponse({"error": "publish failed", "detail": str(exc)}, 503,
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        self.metrics.accepted(self.fmt, "http", len(envelopes))
        return JSONResponse({"status": "accepted", "accepted": len(envelopes),
                             "event_ids": [e.id for e in envelopes]}, 202)

    def _reject(self, reason: str, response: JSONResponse) -> JSONResponse:
        self.metrics.reject(self.fmt, "http", reason)
        log.info("payload rejected", extra={"format": self.fmt.value, "reason": reason,
                                            "status": response.status_code})
        return response


def webhook_routes(*, publish: Publish, clock: Clock, metrics: IngestMetrics,
                   max_bytes: int) -> list[Route]:
    def endpoint(fmt: Format) -> Webhook:
        return Webhook(fmt, publish=publish, clock=clock, metrics=metrics, max_bytes=max_bytes)

    return [
        Route(ALERTMANAGER_PATH, endpoint(Format.ALERTMANAGER).handle, methods=["POST"]),
        Route(EVENTS_PATH, endpoint(Format.EVENT).handle, methods=["POST"]),
    ]
