"""Timeline entries collected during a unit of work and written in one insert, and the
entries other services' events make (SLA clocks, pages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import TimelineEntry
from reasonops_runtime.store import Session

from . import store


class Timeline:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, incident_id: str, at: datetime, actor: str, kind: str, detail: str,
            **data: str) -> None:
        self.entries.append({"incident_id": incident_id, "at": at, "actor": actor,
                             "kind": kind, "detail": detail[:4000], "data": data})

    async def save(self, session: Session) -> None:
        await store.add_timeline(session, self.entries)
        self.entries = []


def entry_view(row: Any) -> TimelineEntry:
    return TimelineEntry(at=row.at, actor=row.actor, kind=row.kind, detail=row.detail,
                         data=row.data or {})


# -- Entries from other services' events -----------------------------------------------

def sla_entry(which: int, envelope: Envelope, data: dict[str, Any], timeline: Timeline) -> None:
    kind = str(data.get("kind", ""))
    verb = ("started", "met", "breached")[which]  # the order of SLM_SUBJECTS
    if verb == "started":
        detail = f"{kind} clock started ({data.get('policy', '')}), due {data.get('deadline')}"
    elif verb == "met":
        detail = f"{kind} target met after {float(data.get('elapsed_seconds', 0)):.0f}s"
    else:
        detail = f"{kind} target breached (deadline {data.get('deadline')})"
    at = time_of(data, {"started": "started_at", "met": "stopped_at"}.get(verb, "breached_at"),
               envelope)
    timeline.add(str(data["incident_id"]), at, "slm", "sla", detail,
                 clock_id=str(data.get("clock_id", "")), event=verb)


def page_entry(which: int, envelope: Envelope, data: dict[str, Any], timeline: Timeline) -> None:
    """A level paged, a notification sent (or not), paging stopped, a page acted on."""
    incident_id = str(data["incident_id"])
    if which == 0:
        users = ", ".join(data.get("users") or []) or "nobody (no one on call)"
        timeline.add(incident_id, time_of(data, "paged_at", envelope), "oncall", "paged",
                     f"level {data.get('level')} of {data.get('policy')} paged {users}",
                     policy=str(data.get("policy", "")), level=str(data.get("level", "")))
    elif which == 1:
        detail = f"{data.get('channel')} to {data.get('user')}: {data.get('outcome')}"
        if data.get("detail"):
            detail += f" ({data['detail']})"
        timeline.add(incident_id, time_of(data, "sent_at", envelope), "oncall", "paged", detail,
                     user=str(data.get("user", "")), channel=str(data.get("channel", "")),
                     outcome=str(data.get("outcome", "")))
    elif which == 2:
        timeline.add(incident_id, time_of(data, "stopped_at", envelope), "oncall", "paged",
                     f"paging stopped: {data.get('reason')}")
    elif which == 3:
        timeline.add(incident_id, time_of(data, "acted_at", envelope),
                     f"user:{data.get('user')}", "paged",
                     f"{data.get('action')} from the link in the page")
    else:
        timeline.add(incident_id, time_of(data, "deferred_at", envelope), "oncall", "paged",
                     f"level {data.get('level')} waits until {data.get('until')}: "
                     f"{data.get('silence_id')} covers it")


def time_of(data: dict[str, Any], name: str, envelope: Envelope) -> datetime:
    """The event's own time field, else the envelope's."""
    try:
        value = datetime.fromisoformat(str(data[name]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return envelope.time
    return value if value.tzinfo else envelope.time
