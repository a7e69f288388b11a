"""``/api/events``: the live event stream as Server-Sent Events, resumable.

Every domain event (the AUDIT stream) the caller may see: an unscoped reader sees all;
a reader scoped to teams or services sees the events of the services its roles cover,
and an incident's events when it may read that incident. Each event's SSE ``id`` is its
AUDIT sequence: reconnect with ``Last-Event-ID`` (browsers do it themselves) and the
stream continues after it, nothing missed; without it the stream starts now (or at
``since``). A comment line every ``heartbeat`` seconds keeps proxies from closing it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from nats.js.api import ConsumerConfig, DeliverPolicy

from reasonops_contracts import subjects
from reasonops_contracts.incidents import GetIncident, IncidentView
from reasonops_contracts.streams import AUDIT
from reasonops_runtime.policy import Visibility

from .context import Caller, CallerDep, Gateway, GatewayDep
from .errors import Problem

router = APIRouter(tags=["events"])
HEARTBEAT_SECONDS = 15.0


@router.get("/api/events", summary="The live event stream (Server-Sent Events)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                             "description": "id: AUDIT sequence; event: the event type; "
                             "data: the CloudEvents envelope"}})
async def events(
    request: Request, caller: CallerDep, gateway: GatewayDep,
    types: Annotated[list[str] | None, Query(description=(
        "Only these event types or prefixes, e.g. itsm.incident. or itsm.slm.breached.v1"))]
    = None,
    since: Annotated[int | None, Query(ge=0, description="Start after this sequence")] = None,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> StreamingResponse:
    visible = await gateway.visibility(caller, "the event stream")
    after = since
    if last_event_id:
        if not last_event_id.isdigit():
            raise Problem(400, "invalid_request", "Last-Event-ID: not an id this stream sent",
                          field="header.last-event-id")
        after = int(last_event_id)
    reader = _Reader(gateway, caller, visible, tuple(types or ()))
    subscription = await reader.subscribe(after)
    return StreamingResponse(reader.stream(request, subscription),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class _Reader:
    def __init__(self, gateway: Gateway, caller: Caller, visible: Visibility,
                 types: tuple[str, ...]) -> None:
        self.gateway = gateway
        self.caller = caller
        self.visible = visible
        self.types = types
        self.incidents: dict[str, bool] = {}

    async def subscribe(self, after: int | None) -> Any:
        js = self.gateway.nc.jetstream()
        start = (ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                opt_start_seq=after + 1)
                 if after is not None else ConsumerConfig(deliver_policy=DeliverPolicy.NEW))
        try:
            return await js.subscribe(f"{subjects.ROOT}.>", stream=AUDIT.name,
                                      ordered_consumer=True,
                                      config=start)
        except Exception as exc:
            raise Problem(503, "unavailable", f"cannot read the {AUDIT.name} stream "
                          f"({exc.__class__.__name__})", headers={"Retry-After": "2"}) from None

    async def stream(self, request: Request, subscription: Any) -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                try:
                    msg = await subscription.next_msg(timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                envelope = json.loads(msg.data)
                if not await self.shows(envelope):
                    continue
                sequence = msg.metadata.sequence.stream
                yield (f"id: {sequence}\nevent: {envelope.get('type', 'message')}\n"
                       f"data: {msg.data.decode()}\n\n").encode()
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def shows(self, envelope: dict[str, Any]) -> bool:
        kind = str(envelope.get("type", ""))
        if self.types and not any(kind.startswith(t) for t in self.types):
            return False
        if self.visible.everything:
            return True
        data = envelope.get("data") or {}
        service = data.get("service") if isinstance(data, dict) else None
        if isinstance(service, str) and self.visible.covers(self.gateway.owner(service),
                                                            service):
            return True
        incident_id = data.get("incident_id") if isinstance(data, dict) else None
        if not isinstance(incident_id, str):
            return False
        if incident_id not in self.incidents:
            try:
                await self.gateway.ask(self.caller, GetIncident(incident_id=incident_id),
                                       IncidentView)
                self.incidents[incident_id] = True
            except Problem:
                self.incidents[incident_id] = False
        return self.incidents[incident_id]
