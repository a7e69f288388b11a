"""Outgoing notifications: webhooks in generic JSON or Slack-compatible form, with retries.

INTERFACE STUB — the notifications work replaces the body; the signatures stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Notification:
    key: str
    """Idempotency key, e.g. ``<workflow_id>:<step>:<n>``; sent as ``Idempotency-Key``."""
    title: str
    text: str
    severity: str = "info"  # info | warning | critical
    incident_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """What happened to one notification at one target: the record of delivery."""

    target: str
    group: str
    ok: bool
    attempts: int
    status: int | None
    error: str
    at: datetime


class Notifier:
    """Sends a notification to every target of a named group (``stakeholders``...)."""

    @classmethod
    def load(cls, path: Path | None) -> Notifier:
        return cls()

    def groups(self) -> list[str]:
        return []

    async def send(self, group: str, notification: Notification) -> list[Delivery]:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None
