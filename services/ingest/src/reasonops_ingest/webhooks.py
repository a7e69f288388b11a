"""HTTP webhooks: Alertmanager, Grafana, ReasonOps events and CloudEvents.

Every request: key (``Authorization: Bearer`` or ``?key=``) -> content type ->
size limit -> parse -> normalise -> rate limit -> publish. It is answered 202 only
after JetStream acknowledged every event it carried; anything wrong with it is a
4xx naming the problem, and nothing of a rejected request is published.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_runtime import Clock

from . import cloudevents
from .formats import Format, PayloadError, parse, too_large
from .gate import Gate, sender_of
from .handlers import normalise
from .integrations import Integration, Refusal
from .metrics import IngestMetrics
from .publishing import Outgoing, Publish, PublishFailed
from .ratelimit import RateLimiter, retry_after_header

log = logging.getLogger(__name__)

ALERTMANAGER_PATH = "/v1/alertmanager"
EVENTS_PATH = "/v1/events"
GRAFANA_PATH = "/v1/grafana"
CLOUDEVENTS_PATH = "/v1/cloudevents"
RETRY_AFTER_SECONDS = 5


def is_json(content_type: str | None) -> bool:
    """``application/json`` or a ``+json`` media type, with or without parameters."""
    media = media_type(content_type)
    return media == "application/json" or (media.startswith("application/")
                                            and media.endswith("+json"))


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def request_key(request: Request) -> str | None:
    """``Authorization: Bearer KEY`` (or ``Token KEY``), else the ``key`` query parameter."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return request.query_params.get("key") or None


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


@dataclass
class Intake:
    """What every endpoint needs: the gate, the limiter, the publisher, the clock."""

    gate: Gate
    publish: Publish
    clock: Clock
    metrics: IngestMetrics
    max_bytes: int
    limiter: RateLimiter

    def refused(self, fmt: Format, refusal: Refusal) -> JSONResponse:
        self.metrics.reject(fmt, "http", refusal.value)
        return JSONResponse({"error": refusal.value.replace("_", " "),
                             "detail": refusal.message(fmt.value)}, refusal.status,
                            headers={"WWW-Authenticate": "Bearer"} if refusal.status == 401
                            else None)

    def throttle(self, integration: Integration, fmt: Format, n: int) -> float:
        wait = self.limiter.take(integration.name, n, rate=integration.rate_limit_per_second,
                                 burst=integration.burst)
        if wait:
            self.metrics.events.labels(fmt.value, "http", "rate_limited").inc(n)
        return wait

    async def send(self, fmt: Format, messages: list[Outgoing], started: float) -> str | None:
        """Publish; None on success, else why it failed (the caller answers 503)."""
        try:
            await self.publish(messages)
        except PublishFailed as exc:
            self.metrics.events.labels(fmt.value, "http", "publish_failed").inc(len(messages))
            log.warning("publish failed, asking the sender to retry",
                        extra={"format": fmt.value, "error": str(exc)})
            return str(exc)
        self.metrics.accepted(fmt, "http", len(messages))
        self.metrics.observe_acceptance(fmt, time.perf_counter() - started)
        return None


class Webhook:
    """One alert endpoint: Alertmanager, Grafana, native events or CloudEvents."""

    def __init__(self, fmt: Format, intake: Intake) -> None:
        self.fmt = fmt
        self.intake = intake

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        intake, fmt = self.intake, self.fmt
        admitted = await intake.gate.admit(request_key(request), fmt.value)
        if isinstance(admitted, Refusal):
            return intake.refused(fmt, admitted)
        content_type = request.headers.get("content-type")
        if not is_json(content_type):
            return self._reject("unsupported_media_type", JSONResponse({
                "error": "unsupported media type",
                "detail": f"Content-Type must be application/json, got {content_type!r}"}, 415))
        try:
            payload = self._parse(request, await read_body(request, intake.max_bytes))
            messages = normalise(fmt, payload, received_at=intake.clock.now(),
                                 sender=sender_of(admitted))
        except PayloadError as exc:
            return self._reject(exc.reason, rejection(exc))
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        wait = intake.throttle(admitted, fmt, len(messages))
        if wait:
            return JSONResponse({"error": "rate limited", "detail": (
                f"integration {admitted.name!r} may send {admitted.rate_limit_per_second:g} "
                "events/s")}, 429, headers={"Retry-After": retry_after_header(wait)})
        failure = await intake.send(fmt, messages, started)
        if failure is not None:
            return JSONResponse({"error": "publish failed", "detail": failure}, 503,
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return AcceptedResponse(accepted_body(messages), 202)

    def _parse(self, request: Request, raw: bytes) -> Any:
        if self.fmt is not Format.CLOUDEVENTS:
            return parse(self.fmt, raw)
        media = media_type(request.headers.get("content-type"))
        if media == cloudevents.BATCH:
            return cloudevents.parse_batch(raw)
        if media == cloudevents.STRUCTURED:
            return cloudevents.parse_structured(raw)
        return cloudevents.parse_binary(request.headers, raw)

    def _reject(self, reason: str, response: JSONResponse) -> JSONResponse:
        self.intake.metrics.reject(self.fmt, "http", reason)
        log.info("payload rejected", extra={"format": self.fmt.value, "reason": reason,
                                            "status": response.status_code})
        return response


_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class AcceptedResponse(JSONResponse):
    """Starlette's JSON body, byte for byte, from one reused encoder (``json.dumps`` with
    these options builds an encoder per call, and every accepted request answers)."""

    def render(self, content: Any) -> bytes:
        return _COMPACT.encode(content).encode("utf-8")


def accepted_body(messages: list[Outgoing]) -> dict[str, Any]:
    """202: how many, and per event its id, fingerprint and status, in the order sent."""
    return {"status": "accepted", "accepted": len(messages),
            "event_ids": [m.envelope_id for m in messages],
            "events": [{"id": m.envelope_id, "fingerprint": m.fingerprint, "status": m.status}
                       for m in messages]}


def webhook_routes(intake: Intake) -> list[Route]:
    return [
        Route(path, Webhook(fmt, intake).handle, methods=["POST"])
        for path, fmt in ((ALERTMANAGER_PATH, Format.ALERTMANAGER), (EVENTS_PATH, Format.EVENT),
                          (GRAFANA_PATH, Format.GRAFANA),
                          (CLOUDEVENTS_PATH, Format.CLOUDEVENTS))
    ]
