"""The causal chain of an incident, read from the AUDIT stream.

INTERFACE STUB — the audit-trail work replaces the body; the signatures stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nats.aio.client import Client


@dataclass(frozen=True)
class TrailEntry:
    """One message of the chain, in the order it happened."""

    at: datetime
    type: str
    """The envelope type, e.g. ``itsm.incident.opened.v1``."""
    subject: str
    """The entity the message is about (alert, incident, workflow, clock, entry id)."""
    actor: str
    """Who did it: a user, ``agent:<name>`` or the service that published it."""
    summary: str
    id: str
    causation_id: str | None = None
    correlation_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


async def collect_trail(nc: Client, incident_id: str, *, timeout: float = 5.0
                        ) -> list[TrailEntry]:
    """Every message in the AUDIT stream that belongs to ``incident_id``'s chain, in order."""
    raise NotImplementedError
