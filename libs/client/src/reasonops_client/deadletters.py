"""An operator's replay or discard of a dead letter, sent as a command to the service that
parked it (ADR 0039): that service handles the message again through the consumer that
gave up on it, in that consumer's inbox, so replaying twice has one effect, and records
what was done in the DEADLETTER stream. Reading dead letters is ``reasonops_runtime.
dead_letters``."""

from __future__ import annotations

from nats.aio.client import Client

from reasonops_contracts.deadletter import (
    DeadLetterDiscarded,
    DeadLetterReplayed,
    DiscardDeadLetter,
    ReplayDeadLetter,
)
from reasonops_runtime.client import request
from reasonops_runtime.dead_letters import dead_letter

REPLAY_TIMEOUT = 30.0
"""A replay runs the consumer's handler on the message: as long as a batch may take."""


async def replay(nc: Client, sequence: int, *, actor: str = "",
                 timeout: float = REPLAY_TIMEOUT) -> DeadLetterReplayed:
    """Have dead letter ``sequence`` handled again by the service that parked it. A
    ``ReplyError`` says why not (discarded, cut, failing still, not allowed)."""
    letter = await dead_letter(nc, sequence)
    return await request(nc, ReplayDeadLetter(service=letter.record.service,
                                               sequence=sequence, actor=actor),
                         DeadLetterReplayed, timeout=timeout)


async def discard(nc: Client, sequence: int, *, reason: str, actor: str = "",
                  timeout: float = 5.0) -> DeadLetterDiscarded:
    """Record that dead letter ``sequence`` is not to be handled, and why."""
    letter = await dead_letter(nc, sequence)
    return await request(nc, DiscardDeadLetter(service=letter.record.service,
                                               sequence=sequence, reason=reason,
                                               actor=actor),
                         DeadLetterDiscarded, timeout=timeout)
