"""The live event stream (``GET /api/events``, Server-Sent Events), read line by line.

The iterators reconnect by themselves after a dropped connection, sending the last id
seen as ``Last-Event-ID``, so no event is lost or repeated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from reasonops_contracts import Envelope

PATH = "/api/events"


@dataclass(frozen=True)
class StreamEvent:
    id: str
    """Its position in the stream: resume after it with ``last_event_id``."""
    type: str
    envelope: Envelope


@dataclass
class Parser:
    """Lines in, events out (``feed`` returns the event a blank line completes)."""

    fields: dict[str, str] = field(default_factory=dict)

    def feed(self, line: str) -> StreamEvent | None:
        if line.startswith(":"):
            return None
        if line:
            name, _, value = line.partition(":")
            self.fields[name] = value.removeprefix(" ")
            return None
        found, self.fields = self.fields, {}
        if "data" not in found:
            return None
        return StreamEvent(id=found.get("id", ""), type=found.get("event", "message"),
                           envelope=Envelope.model_validate_json(found["data"]))


def params(types: Iterable[str] | None) -> httpx.QueryParams:
    return httpx.QueryParams([("types", t) for t in types or ()])


def headers(last_event_id: str | None) -> dict[str, Any]:
    return {"Last-Event-ID": last_event_id, "Accept": "text/event-stream"} \
        if last_event_id else {"Accept": "text/event-stream"}
