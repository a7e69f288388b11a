"""Heartbeats (dead-man's switch): a sender pings; silence past the interval is an alert.

``POST`` (or ``GET``) ``/v1/heartbeats/{name}?interval=SECONDS`` with the
integration's key declares the heartbeat on its first ping and re-arms a durable
timer at every ping. When the timer fires, the heartbeat is missing and a firing
``EventAccepted`` goes out through the outbox (so an incident opens the normal
way); the next ping publishes it resolved. The timer is a row in ingest's store:
it survives restarts, and with several replicas exactly one fires it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_contracts.ingest import (
    EventAccepted,
)
from reasonops_runtime import Store, Timer, Transaction

from . import store
from .domain import Sender, label_fingerprint
from .formats import Format
from .gate import sender_of
from .integrations import Refusal
from .publishing import accepted
from .webhooks import Intake, request_key

TIMER_KIND = "heartbeat"
PATH = "/v1/heartbeats/{name}"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_INTERVAL = 7 * 24 * 3600

TransactionFactory = Callable[[], contextlib.AbstractAsyncContextManager[Transaction]]


def heartbeat_fingerprint(integration: str, name: str) -> str:
    return label_fingerprint({"integration": integration, "heartbeat": name})


def heartbeat_event(*, integration: str, name: str, interval: int,
                    status: Literal["firing", "resolved"], now: datetime, last_seen: datetime,
                    sender: Sender) -> EventAccepted:
    """A missing heartbeat (firing) or its return (resolved), as an accepted alert."""
    labels = sender.enrich({"alertname": "HeartbeatMissing", "heartbeat": name,
                            "integration": integration})
    return EventAccepted(
        fingerprint=heartbeat_fingerprint(integration, name), status=status,
        name="HeartbeatMissing", severity="error", service=sender.default_service,
        resource=name, summary=(f"heartbeat {name!r} of integration {integration!r}: "
                                f"no ping for {interval}s" if status == "firing"
                                else f"heartbeat {name!r} of integration {integration!r} "
                                     "is back"),
        labels=labels, annotations={"last_seen_at": last_seen.isoformat()},
        starts_at=last_seen + timedelta(seconds=interval),
        ends_at=now if status == "resolved" else None, received_at=now,
        source_format="heartbeat", source="reasonops-heartbeat", integration=integration)


def _timer_id(integration: str, name: str) -> str:
    return f"heartbeat:{integration}:{name}"


class Heartbeats:
    def __init__(self, intake: Intake, db: Store, transaction: TransactionFactory) -> None:
        self.intake = intake
        self.db = db
        self.transaction = transaction

    async def ping(self, request: Request) -> Response:
        intake, fmt = self.intake, Format.HEARTBEAT
        admitted = await intake.gate.admit(request_key(request), fmt.value)
        if isinstance(admitted, Refusal):
            return intake.refused(fmt, admitted)
        name = request.path_params["name"]
        interval, problem = _interval(request.query_params.get("interval"))
        if problem is None and not NAME.match(name):
            problem = {"field": "name", "message": "1-64 letters, digits, '_', '.', '-'"}
        if problem is not None:
            intake.metrics.reject(fmt, "http", "invalid_payload")
            return JSONResponse({"error": "invalid heartbeat", "problems": [problem]}, 422)
        sender, now = sender_of(admitted), intake.clock.now()
        async with self.transaction() as tx:
            row = await store.heartbeat(tx.session, admitted.name, name)
            if interval is None:
                if row is None:
                    return JSONResponse({"error": "invalid heartbeat", "problems": [{
                        "field": "interval",
                        "message": "required on the first ping (seconds)"}]}, 422)
                interval = int(row.interval_seconds)
            due = now + timedelta(seconds=interval)
            if row is not None and row.status == "missing":
                tx.emitted.append(accepted(heartbeat_event(
                    integration=admitted.name, name=name, interval=interval, status="resolved",
                    now=now, last_seen=row.last_seen_at, sender=sender)).outbox)
            await store.save_heartbeat(
                tx.session, exists=row is not None, integration=admitted.name, name=name,
                interval_seconds=interval, status="ok", last_seen_at=now, due_at=due,
                fingerprint=heartbeat_fingerprint(admitted.name, name))
            await tx.schedule(_timer_id(admitted.name, name), TIMER_KIND, due,
                              {"integration": admitted.name, "name": name})
        intake.metrics.accepted(fmt, "http", 1)
        return JSONResponse({"status": "ok", "heartbeat": name, "interval_seconds": interval,
                             "due_at": due.isoformat()}, 202)

    async def on_missed(self, tx: Transaction, timer: Timer) -> None:
        integration, name = timer.payload["integration"], timer.payload["name"]
        row = await store.heartbeat(tx.session, integration, name)
        if row is None or row.status == "missing":
            return
        async with self.db.read() as session:
            found = await store.integration_named(session, integration)
        sender = sender_of(found) if found is not None else Sender(integration=integration)
        await store.save_heartbeat(tx.session, exists=True, integration=integration, name=name,
                                   status="missing")
        tx.emitted.append(accepted(heartbeat_event(
            integration=integration, name=name, interval=row.interval_seconds, status="firing",
            now=tx.clock.now(), last_seen=row.last_seen_at, sender=sender)).outbox)

    def routes(self) -> list[Route]:
        return [Route(PATH, self.ping, methods=["POST", "GET"])]


def _interval(value: str | None) -> tuple[int | None, dict[str, Any] | None]:
    if value is None:
        return None, None
    # ASCII digits only: "²" is a digit to str.isdigit() and not to int().
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_INTERVAL:
        return None, {"field": "interval",
                      "message": f"whole seconds from 1 to {MAX_INTERVAL}, got {value[:64]!r}"}
    return int(value), None

