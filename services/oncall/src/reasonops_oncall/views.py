"""The roster and its turns -> the contract's read models, and a schedule's turns as
iCalendar (RFC 5545: CRLF lines folded at 75 octets, times in UTC, text escaped)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from reasonops_contracts.oncall import (
    ContactView,
    LayerView,
    OverrideView,
    PersonView,
    ShiftView,
)

from .people import Person
from .rotation import WEEKDAYS, Layer, Override, Roster, Schedule, Turn


def person_view(person: Person) -> PersonView:
    return PersonView(user=person.key, name=person.name, time_zone=person.time_zone,
                      contacts=[ContactView(kind=c.kind, address=c.address)  # type: ignore[arg-type]
                                for c in person.contacts])


def layer_view(layer: Layer) -> LayerView:
    every = (f"every {layer.length.total_seconds() / 3600:g} h" if layer.length is not None
             else "daily" if layer.days == 1 else "weekly" if layer.days == 7
             else f"every {layer.days} days")
    restriction = None
    if layer.restriction is not None:
        days = ",".join(WEEKDAYS[d] for d in sorted(layer.restriction.days))
        hours = ("" if layer.restriction.whole_day else
                 f" {layer.restriction.start:%H:%M}-{layer.restriction.end:%H:%M}")
        restriction = days + hours
    return LayerView(name=layer.name, rotation=every, users=list(layer.users),
                     start=layer.start.strftime("%Y-%m-%dT%H:%M"), restriction=restriction)


def override_view(schedule: str, o: Override) -> OverrideView:
    return OverrideView(override_id=o.override_id, schedule=schedule, user=o.user,
                        start=o.start, end=o.end, reason=o.reason, created_by=o.created_by,
                        created_at=o.created_at, source=o.source)  # type: ignore[arg-type]


def shift_view(turn: Turn) -> ShiftView:
    return ShiftView(start=turn.start.astimezone(UTC), end=turn.end.astimezone(UTC),
                     user=turn.user, layer=turn.layer)


def calendar(schedule: Schedule, roster: Roster, turns: Iterable[Turn], now: datetime) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ReasonOps//On call//EN",
             "CALSCALE:GREGORIAN", f"X-WR-CALNAME:{_text(f'On call: {schedule.name}')}"]
    for turn in turns:
        if turn.user is None:
            continue
        person = roster.people.get(turn.user)
        name = person.name if person else turn.user
        lines += ["BEGIN:VEVENT",
                  f"UID:{schedule.name}-{_utc(turn.start)}-{turn.user}@reasonops",
                  f"DTSTAMP:{_utc(now)}", f"DTSTART:{_utc(turn.start)}",
                  f"DTEND:{_utc(turn.end)}",
                  f"SUMMARY:{_text(f'On call: {name} ({schedule.name})')}",
                  f"DESCRIPTION:{_text(f'Layer: {turn.layer}')}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with a space (never splitting a character)."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode()) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return "\r\n ".join(out)
