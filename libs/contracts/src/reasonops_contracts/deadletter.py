"""Messages a consumer gave up on, and what an operator did with them.

All three are kept in the DEADLETTER stream on the subject of the service that parked the
message (``subjects.dead_letter``); a dead letter's identity is its stream sequence, which
the replay and discard records name.
"""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import Field

from .messages import Event
from .subjects import DEAD_LETTER_PREFIX


class MessageDeadLettered(Event):
    """A message that failed ``deliveries`` times, parked whole (its bytes and headers)
    with the error, so an operator can read it and replay it."""

    TYPE = "itsm.deadletter.message.v1"
    SUBJECT = f"{DEAD_LETTER_PREFIX}.>"

    service: str
    consumer: str = Field(default="", description="The durable that gave up on it")
    original_subject: str
    stream_sequence: int | None = None
    deliveries: int
    error: str
    payload: str = Field(description="The message's bytes as text (UTF-8); empty when "
                                     "they are not text (see payload_base64)")
    payload_base64: str | None = Field(default=None, description="The bytes, when they "
                                       "are not UTF-8 text")
    truncated: bool = Field(default=False, description="The bytes did not fit in a "
                            "dead letter and were cut; such a letter cannot be replayed")
    headers: dict[str, str] = Field(default_factory=dict, description="The message's "
                                    "headers (Nats-Msg-Id, traceparent, ...)")
    dead_lettered_at: datetime

    @classmethod
    def body(cls, data: bytes) -> dict[str, str | None]:
        """``payload`` and ``payload_base64`` for ``data``: text when it is text."""
        try:
            return {"payload": data.decode(), "payload_base64": None}
        except UnicodeDecodeError:
            return {"payload": "", "payload_base64": base64.b64encode(data).decode()}

    def original_bytes(self) -> bytes:
        if self.payload_base64 is not None:
            return base64.b64decode(self.payload_base64)
        return self.payload.encode()


class DeadLetterReplayed(Event):
    """An operator published dead letter ``sequence`` again on its original subject; the
    consumers' inboxes make a second replay of it harmless."""

    TYPE = "itsm.deadletter.replayed.v1"
    SUBJECT = f"{DEAD_LETTER_PREFIX}.>"

    sequence: int = Field(ge=1, description="The dead letter's DEADLETTER stream sequence")
    service: str
    actor: str
    republished_as: str = Field(description="The replay's Nats-Msg-Id")
    replayed_at: datetime


class DeadLetterDiscarded(Event):
    """An operator decided dead letter ``sequence`` is not to be handled, and why."""

    TYPE = "itsm.deadletter.discarded.v1"
    SUBJECT = f"{DEAD_LETTER_PREFIX}.>"

    sequence: int = Field(ge=1)
    service: str
    actor: str
    reason: str = Field(min_length=1, max_length=1000)
    discarded_at: datetime
