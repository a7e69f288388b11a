"""Messages a consumer gave up on, and what an operator did with them.

All three are kept in the DEADLETTER stream on the subject of the service that parked the
message (``subjects.dead_letter``); a dead letter's identity is its stream sequence, which
the replay and discard records name. The commands to replay or discard one go to that
service (``subjects.of_service``), which handles it again through the consumer that
parked it (ADR 0039).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

from pydantic import Field

from .messages import Actor, Command, Event
from .subjects import (
    DEAD_LETTER_CMD_DISCARD,
    DEAD_LETTER_CMD_REPLAY,
    DEAD_LETTER_PREFIX,
    of_service,
)

SERVICE = r"^[a-z][a-z0-9-]{0,63}$"


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
    """An operator had dead letter ``sequence`` handled again by the consumer that parked
    it; its inbox makes a second replay a ``duplicate``."""

    TYPE = "itsm.deadletter.replayed.v1"
    SUBJECT = f"{DEAD_LETTER_PREFIX}.>"

    sequence: int = Field(ge=1, description="The dead letter's DEADLETTER stream sequence")
    service: str
    actor: str
    outcome: Literal["handled", "duplicate"] | None = Field(
        default=None, description="handled: the consumer handled it now; duplicate: its "
        "inbox had it already (an earlier replay), so nothing changed")
    republished_as: str | None = Field(default=None, description=(
        "Before ADR 0039 a replay was published again under this Nats-Msg-Id"))
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


class ReplayDeadLetter(Command):
    """Handle dead letter ``sequence`` again through the consumer that parked it, once
    what failed it is fixed; answered by ``service``, the one that parked it. A message
    that fails again stays parked and the reply says why."""

    SUBJECT = DEAD_LETTER_CMD_REPLAY

    service: str = Field(pattern=SERVICE, description="The service that parked it")
    sequence: int = Field(ge=1, description="The dead letter's DEADLETTER stream sequence")
    actor: Actor = ""

    def destination(self) -> str:
        return of_service(self.SUBJECT, self.service)


class DiscardDeadLetter(Command):
    """Record that dead letter ``sequence`` is not to be handled, and why; a discarded
    letter is refused a replay. Answered by ``service``, the one that parked it."""

    SUBJECT = DEAD_LETTER_CMD_DISCARD

    service: str = Field(pattern=SERVICE, description="The service that parked it")
    sequence: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=1000)
    actor: Actor = ""

    def destination(self) -> str:
        return of_service(self.SUBJECT, self.service)
