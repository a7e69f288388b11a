"""Messages a consumer gave up on."""

from __future__ import annotations

from datetime import datetime

from .messages import Event
from .subjects import DEAD_LETTER_PREFIX


class MessageDeadLettered(Event):
    """A message that failed ``deliveries`` times, parked with the error for an operator."""

    TYPE = "itsm.deadletter.message.v1"
    SUBJECT = f"{DEAD_LETTER_PREFIX}.>"

    service: str
    original_subject: str
    stream_sequence: int | None = None
    deliveries: int
    error: str
    payload: str
    dead_lettered_at: datetime
