"""A what-if history: monitoring events and people's actions, read, checked and grouped
into the steps ``reasonops simulate`` replays them in."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reasonops_contracts.ingest import EventAccepted

ACTIONS = ("acknowledge", "resolve", "close")


class HistoryError(ValueError):
    """A history line that cannot be replayed; says which line and why."""


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    sent: EventAccepted | None = None
    """The alert as sent; for a repeat, the first alert of the same fields, received then."""
    action: str | None = None
    fingerprint: str | None = None

    @cached_property
    def alert(self) -> EventAccepted | None:
        """The alert, received at ``at``. A repeat's copy is made here, when asked: most
        repeats of a storm are never replayed (``without_repeats``), and copying each of
        them took half the time of reading a month."""
        if self.sent is None or self.sent.received_at == self.at:
            return self.sent
        return self.sent.model_copy(update={"received_at": self.at})


def read_history(path: Path) -> list[HistoryEvent]:
    """Lines of ``{"at": ..., "alert": {...}}`` (an accepted monitoring event) or
    ``{"at": ..., "action": "acknowledge|resolve|close", "fingerprint": ...}``, sorted by time."""
    events = []
    known: dict[str, tuple[dict[str, Any], EventAccepted]] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                events.append(_parse(line, f"{path}:{number}", known))
    events.sort(key=lambda e: e.at)
    return events


def _parse(line: str, where: str,
           known: dict[str, tuple[dict[str, Any], EventAccepted]]) -> HistoryEvent:
    """One history line. An alert whose fields are those of the last alert of its
    fingerprint (a repeat, most lines of a storm) is that alert received again: it is
    not validated a second time."""
    try:
        raw = json.loads(line)
        at = datetime.fromisoformat(raw["at"])
    except (ValueError, KeyError, TypeError) as exc:
        raise HistoryError(f"{where}: expected JSON with an ISO 'at' time ({exc})") from None
    if at.tzinfo is None:
        raise HistoryError(f"{where}: 'at' has no time zone")
    if "alert" in raw:
        fields = raw["alert"]
        fingerprint = fields.get("fingerprint") if isinstance(fields, dict) else None
        same = known.get(fingerprint) if isinstance(fingerprint, str) else None
        if same is not None and same[0] == fields:
            return HistoryEvent(at=at, sent=same[1])
        try:
            alert = EventAccepted.model_validate({"received_at": at, "source_format": "event",
                                                  **fields})
        except (ValidationError, TypeError) as exc:
            problem = (f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
                       if isinstance(exc, ValidationError) else "expected an object")
            raise HistoryError(f"{where}: alert: {problem}") from None
        known[str(fingerprint)] = (fields, alert)
        return HistoryEvent(at=at, sent=alert)
    if raw.get("action") in ACTIONS and isinstance(raw.get("fingerprint"), str):
        return HistoryEvent(at=at, action=raw["action"], fingerprint=raw["fingerprint"])
    raise HistoryError(f"{where}: needs 'alert' or 'action' ({', '.join(ACTIONS)}) with "
                       f"'fingerprint'")


def steps(events: Iterable[HistoryEvent], step: timedelta
          ) -> Iterator[tuple[datetime, list[HistoryEvent]]]:
    """The events grouped by step, each group with its step's start."""
    group: list[HistoryEvent] = []
    start: datetime | None = None
    for event in events:
        if start is None or event.at >= start + step:
            if group and start is not None:
                yield start, group
            start = event.at - (event.at - event.at.replace(hour=0, minute=0, second=0,
                                                            microsecond=0)) % step
            group = []
        group.append(event)
    if group and start is not None:
        yield start, group


def without_repeats(events: Iterable[HistoryEvent]) -> tuple[list[HistoryEvent], int]:
    """The events that can change state: repeats of a firing alert are dropped (counted).

    A fingerprint fires again once it resolved, or once its incident was resolved or
    closed by hand (the next firing then reopens or opens an incident).
    """
    firing: set[str] = set()
    kept: list[HistoryEvent] = []
    repeats = 0
    for event in events:
        if event.sent is not None:
            fingerprint = event.sent.fingerprint
            if event.sent.status == "firing":
                if fingerprint in firing:
                    repeats += 1
                    continue
                firing.add(fingerprint)
            else:
                firing.discard(fingerprint)
        elif event.action in ("resolve", "close"):
            firing.discard(event.fingerprint or "")
        kept.append(event)
    return kept, repeats
