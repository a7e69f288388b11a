"""A service's own dead letters on an operator's command (ADR 0039).

A replay is handled again by the consumer that parked the message, as that consumer
handles a batch of one: in its inbox (a second replay is a ``duplicate``), in one
transaction with the record of the replay, its outputs published as any batch's. A
message that fails again changes nothing and stays parked; the reply says why. A discard
is recorded; a discarded letter is refused a replay. Both need the role policy's leave
(``deadletter.replay``, ``deadletter.discard``) and are kept in the DEADLETTER stream on
the service's own dead-letter subject, with the actor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from nats.aio.client import Client

from reasonops_contracts import MSG_ID_HEADER, Envelope, subjects
from reasonops_contracts.deadletter import (
    DeadLetterDiscarded,
    DeadLetterReplayed,
    DiscardDeadLetter,
    ReplayDeadLetter,
)

from .consumer import BatchConsumer
from .dead_letters import DeadLetter, DeadLetterError, dead_letter
from .delivery import Delivery
from .enforcement import Enforcer
from .faults import operational
from .rpc import DomainError, NotFound
from .transaction import Transaction

REPLAY = "deadletter.replay"
DISCARD = "deadletter.discard"


class StaysParked(DomainError):
    """The letter cannot be replayed now (discarded, cut, failing still): a conflict."""

    code = "conflict"


class DeadLetterDesk:
    def __init__(self, service: str, gate: Enforcer, nc: Callable[[], Client],
                 consumers: Callable[[], Sequence[BatchConsumer]],
                 transaction: Callable[[], AbstractAsyncContextManager[Transaction]],
                 now: Callable[[], datetime]) -> None:
        self.service = service
        self.transaction = transaction
        self.gate = gate
        self.nc = nc
        self.consumers = consumers
        self.now = now

    async def replay(self, request: ReplayDeadLetter) -> DeadLetterReplayed:
        seq = request.sequence
        self.gate.require(request.actor, REPLAY, at=self.now(), target=f"dead letter {seq}")
        letter = await self._letter(request.service, seq)
        record = letter.record
        if letter.discarded is not None:
            raise StaysParked(f"dead letter {seq} was discarded by {letter.discarded.actor}: "
                              f"{letter.discarded.reason}", "sequence")
        if record.truncated:
            raise StaysParked(f"dead letter {seq} was cut to fit the broker; its whole "
                              "message is not known, so it cannot be replayed", "sequence")
        consumer = next((c for c in self.consumers() if c.spec.name == record.consumer), None)
        if consumer is None:
            raise StaysParked(f"dead letter {seq} was parked by consumer "
                              f"{record.consumer or '(unnamed)'}, which {self.service} no "
                              "longer has", "sequence")
        position = f"{consumer.spec.stream.name}:{record.stream_sequence}"
        delivery = Delivery(subject=record.original_subject, data=record.original_bytes(),
                            key=record.headers.get(MSG_ID_HEADER) or position,
                            headers=dict(record.headers))
        done: list[DeadLetterReplayed] = []

        def keep(tx: Transaction, handled: bool) -> None:
            done.append(DeadLetterReplayed(
                sequence=seq, service=self.service, actor=request.actor,
                outcome="handled" if handled else "duplicate", replayed_at=self.now()))
            self._record(tx, done[0])

        try:
            await consumer.replay(delivery, keep)
        except ValueError as exc:
            raise StaysParked(f"dead letter {seq} still cannot be read by {consumer.spec.name}"
                              f": {exc}; it stays parked", "sequence") from None
        except DomainError:
            raise
        except Exception as exc:
            why = ("the store or broker failed; try again" if operational(exc)
                   else "fix what fails it (configuration, data) and replay it again")
            raise StaysParked(f"dead letter {seq} failed again in {consumer.spec.name}: "
                              f"{type(exc).__name__}: {exc}; it stays parked ({why})",
                              "sequence") from None
        return done[0]

    async def discard(self, request: DiscardDeadLetter) -> DeadLetterDiscarded:
        seq = request.sequence
        self.gate.require(request.actor, DISCARD, at=self.now(), target=f"dead letter {seq}")
        letter = await self._letter(request.service, seq)
        if letter.discarded is not None:
            return letter.discarded
        done = DeadLetterDiscarded(sequence=seq, service=self.service, actor=request.actor,
                                   reason=request.reason, discarded_at=self.now())
        async with self.transaction() as tx:
            self._record(tx, done)
        return done

    async def _letter(self, service: str, sequence: int) -> DeadLetter:
        """Dead letter ``sequence`` as the stream has it, if this service parked it."""
        if service != self.service:
            raise DomainError(f"this is {self.service}, not {service}", "service")
        try:
            letter = await dead_letter(self.nc(), sequence)
        except DeadLetterError as exc:
            raise NotFound(str(exc), "sequence") from None
        if letter.record.service != self.service:
            raise DomainError(f"dead letter {sequence} was parked by {letter.record.service}, "
                              f"not by {self.service}", "sequence")
        return letter

    def _record(self, tx: Transaction, event: DeadLetterReplayed | DeadLetterDiscarded) -> None:
        tx.emit(Envelope.wrap(event, source=self.service, subject=str(event.sequence)),
                subjects.dead_letter(self.service))
