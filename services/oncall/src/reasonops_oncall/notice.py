"""What a notification says: the incident, where, and the link to act on it."""

from __future__ import annotations

from typing import Any

from .channels import Message


class About:
    """What a major incident's notification says, from its timer (no paging row)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.incident_id = str(payload["incident_id"])
        self.title = str(payload.get("title", ""))
        self.service = payload.get("service")
        self.priority = int(payload.get("priority", 1))


def message_for(row: Any, link: str) -> Message:
    incident_id = row.incident_id
    service = row.service or "no service"
    title = row.title
    priority = row.priority
    text = f"[ReasonOps] P{priority} {incident_id} on {service}: {title}."
    if link:
        text += f" Acknowledge, resolve or escalate: {link}"
    return Message(subject=f"[ReasonOps] P{priority} {incident_id}: {title}", text=text,
                   link=link, incident_id=incident_id)
