"""PagerDuty Events API v2 over HTTP: ``POST /v2/enqueue`` and ``POST /v2/change/enqueue``.

Answers as PagerDuty does, so its client libraries and the PagerDuty integrations
of monitoring tools work by changing only the URL: 202 ``success`` with the
``dedup_key``; 400 ``invalid event`` with ``errors`` (also for an unknown or revoked
routing key: PagerDuty's clients do not retry a 400); 413 over the size limit;
429 with ``Retry-After``; 503 when JetStream did not acknowledge (retried).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_runtime import Store

from . import pagerduty
from .formats import Format, PayloadError
from .gate import sender_of
from .integrations import Integration, Refusal
from .pagerduty_flow import apply_change, apply_pagerduty
from .publishing import Outgoing
from .ratelimit import retry_after_header
from .webhooks import RETRY_AFTER_SECONDS, Intake, read_body

log = logging.getLogger(__name__)

ENQUEUE_PATH = "/v2/enqueue"
CHANGE_PATH = "/v2/change/enqueue"


def invalid(errors: list[str], status: int = 400) -> JSONResponse:
    return JSONResponse({"status": "invalid event", "message": "Event object is invalid",
                         "errors": errors}, status)


class PagerDutyApi:
    def __init__(self, intake: Intake, db: Store) -> None:
        self.intake = intake
        self.db = db
        # One dedup_key transition at a time in this process: read-then-write of the
        # key's state must not interleave (the store's row lock covers other replicas).
        self._state = asyncio.Lock()

    async def enqueue(self, request: Request) -> Response:
        return await self._handle(request, Format.PAGERDUTY)

    async def change(self, request: Request) -> Response:
        return await self._handle(request, Format.CHANGE)

    async def _handle(self, request: Request, fmt: Format) -> Response:
        started = time.perf_counter()
        intake = self.intake
        try:
            raw = await read_body(request, intake.max_bytes)
            parsed: Any = (pagerduty.parse_event(raw) if fmt is Format.PAGERDUTY
                           else pagerduty.parse_change(raw))
        except PayloadError as exc:
            intake.metrics.reject(fmt, "http", exc.reason)
            return invalid(pagerduty.error_strings(exc), 413 if exc.reason == "too_large" else 400)
        except ClientDisconnect:
            return Response(status_code=400)
        admitted = await intake.gate.admit(parsed.routing_key, fmt.value)
        if isinstance(admitted, Refusal):
            intake.metrics.reject(fmt, "http", admitted.value)
            return invalid([f"routing_key: {admitted.message(fmt.value)}"])
        wait = intake.throttle(admitted, fmt, 1)
        if wait:
            return JSONResponse({"status": "throttle event", "message": (
                "Requests for this integration are arriving too quickly. Please retry later."),
                "errors": [f"more than {admitted.rate_limit_per_second:g} events/s"]},
                429, headers={"Retry-After": retry_after_header(wait)})
        try:
            dedup_key, messages = await self._apply(fmt, parsed, raw, admitted)
        except SQLAlchemyError as exc:  # a busy or unreachable store: the sender retries
            # What the database said stays in our log: a sender has no use for it, and
            # it may name hosts, tables or values.
            log.warning("pagerduty state store unavailable", extra={"error": repr(exc)[:500]})
            return JSONResponse({"status": "unavailable", "message": "state store busy",
                                 "errors": [f"the event's state could not be stored; "
                                            f"retry after {RETRY_AFTER_SECONDS}s"]}, 503,
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        failure = await intake.send(fmt, messages, started)
        if failure is not None:
            return JSONResponse({"status": "unavailable", "message": failure,
                                 "errors": [failure]}, 503,
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        if fmt is Format.CHANGE:
            return JSONResponse({"status": "success", "message": "Change event processed"},
                                202)
        return JSONResponse({"status": "success", "message": "Event processed",
                             "dedup_key": dedup_key}, 202)

    async def _apply(self, fmt: Format, parsed: Any, raw: bytes, integration: Integration
                     ) -> tuple[str | None, list[Outgoing]]:
        sender, now = sender_of(integration), self.intake.clock.now()
        if fmt is Format.CHANGE:
            return None, [apply_change(parsed, sender=sender, now=now)]
        async with self._state, self.db.transaction() as tx:
            return await apply_pagerduty(tx.session, parsed, raw=raw, sender=sender, now=now)


def pagerduty_routes(intake: Intake, db: Store) -> list[Route]:
    api = PagerDutyApi(intake, db)
    return [Route(ENQUEUE_PATH, api.enqueue, methods=["POST"]),
            Route(CHANGE_PATH, api.change, methods=["POST"])]
