"""Dead letters as the DEADLETTER stream keeps them: what the consumers gave up on, with
what operators did with each (replayed, discarded). Read by the CLI and the gateway, and
by a service checking a letter it is asked to replay (``dead_letter_desk``).

A dead letter is known by its stream sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from nats.aio.client import Client
from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field, ValidationError

from reasonops_contracts import Envelope, subjects
from reasonops_contracts.deadletter import (
    DeadLetterDiscarded,
    DeadLetterReplayed,
    MessageDeadLettered,
)
from reasonops_contracts.streams import DEADLETTER

from .reading import read_stream

Status = Literal["parked", "replayed", "discarded"]
STATUSES: tuple[Status, ...] = ("parked", "replayed", "discarded")


class DeadLetterError(LookupError):
    """No such dead letter, or it cannot be replayed; the message says which."""


@dataclass
class DeadLetter:
    sequence: int
    record: MessageDeadLettered
    replays: list[DeadLetterReplayed] = field(default_factory=list)
    discarded: DeadLetterDiscarded | None = None

    @property
    def status(self) -> Status:
        if self.discarded is not None:
            return "discarded"
        return "replayed" if self.replays else "parked"

    def view(self, *, whole: bool = False) -> DeadLetterView:
        """What the CLI prints as JSON and the API answers; ``whole``: with the message."""
        r = self.record
        return DeadLetterView(
            sequence=self.sequence, status=self.status, service=r.service,
            consumer=r.consumer, subject=r.original_subject, error=r.error,
            deliveries=r.deliveries, dead_lettered_at=r.dead_lettered_at,
            replays=self.replays, discarded=self.discarded,
            **({"headers": r.headers, "payload": r.payload,
                "payload_base64": r.payload_base64, "truncated": r.truncated,
                "stream_sequence": r.stream_sequence} if whole else {}))


class DeadLetterView(BaseModel):
    sequence: int
    status: Status
    service: str
    consumer: str
    subject: str
    error: str
    deliveries: int
    dead_lettered_at: datetime
    replays: list[DeadLetterReplayed] = Field(default_factory=list)
    discarded: DeadLetterDiscarded | None = None
    headers: dict[str, str] | None = None
    payload: str | None = None
    payload_base64: str | None = None
    truncated: bool | None = None
    stream_sequence: int | None = None


async def dead_letters(nc: Client, *, service: str | None = None,
                       status: Status | Literal["all"] = "all", timeout: float = 5.0
                       ) -> list[DeadLetter]:
    """Every dead letter (of ``service``, in ``status``), oldest first, with what was done
    with it."""
    found: dict[int, DeadLetter] = {}
    outcomes: list[DeadLetterReplayed | DeadLetterDiscarded] = []

    def offer(seq: int, _subject: str, raw: bytes) -> None:
        try:
            envelope = Envelope.from_bytes(raw)
            if envelope.type == MessageDeadLettered.TYPE:
                found[seq] = DeadLetter(seq, envelope.decode(MessageDeadLettered))
            elif envelope.type == DeadLetterReplayed.TYPE:
                outcomes.append(envelope.decode(DeadLetterReplayed))
            elif envelope.type == DeadLetterDiscarded.TYPE:
                outcomes.append(envelope.decode(DeadLetterDiscarded))
        except (ValidationError, ValueError):
            return  # not ours: nothing to show

    subject = subjects.dead_letter(service) if service else None
    try:
        await read_stream(nc, DEADLETTER.name, offer, timeout=timeout, subject=subject)
    except NotFoundError:
        return []
    for outcome in outcomes:
        letter = found.get(outcome.sequence)
        if letter is None:
            continue
        if isinstance(outcome, DeadLetterReplayed):
            letter.replays.append(outcome)
        else:
            letter.discarded = outcome
    return [letter for letter in found.values() if status in ("all", letter.status)]


async def dead_letter(nc: Client, sequence: int) -> DeadLetter:
    """One dead letter with what was done with it."""
    try:
        msg = await nc.jetstream().get_msg(DEADLETTER.name, sequence)
    except NotFoundError:
        raise DeadLetterError(f"no dead letter {sequence} (expired, or never one)") from None
    try:
        envelope = Envelope.from_bytes(msg.data or b"")
        record = envelope.decode(MessageDeadLettered)
    except (ValidationError, ValueError):
        raise DeadLetterError(f"message {sequence} of {DEADLETTER.name} is not a dead letter "
                              "but a record of what was done with one") from None
    for letter in await dead_letters(nc, service=record.service):
        if letter.sequence == sequence:
            return letter
    return DeadLetter(sequence, record)


def counts(letters: Sequence[DeadLetter]) -> dict[str, int]:
    return {status: sum(1 for letter in letters if letter.status == status)
            for status in STATUSES}
