"""Typed dispatch of envelopes to handlers: ``router.on(IncidentOpened)(handler)``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reasonops_contracts import Envelope, Event

from .store import Transaction

E = TypeVar("E", bound=Event)
EventHandler = Callable[[Transaction, Envelope, Any], Awaitable[None]]


@dataclass(frozen=True)
class Delivery:
    """One message taken from a stream, before it is known to be an envelope."""

    subject: str
    data: bytes
    key: str
    """Inbox key: the ``Nats-Msg-Id`` header, else ``<stream>:<sequence>``."""
    headers: dict[str, str]


class EventRouter:
    """Maps event models to handlers; the consumer's subjects come from the models."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[type[Event], EventHandler]] = {}

    def on(self, model: type[E]) -> Callable[[Callable[[Transaction, Envelope, E],
                                                        Awaitable[None]]],
                                              Callable[[Transaction, Envelope, E],
                                                       Awaitable[None]]]:
        def register(fn: Callable[[Transaction, Envelope, E], Awaitable[None]]
                     ) -> Callable[[Transaction, Envelope, E], Awaitable[None]]:
            self._handlers[model.TYPE] = (model, fn)
            return fn
        return register

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(sorted({model.SUBJECT for model, _ in self._handlers.values()}))

    def decode(self, delivery: Delivery) -> Envelope:
        """Parse and check an envelope; raises ``ValueError`` for a poison message."""
        envelope = Envelope.from_bytes(delivery.data)
        entry = self._handlers.get(envelope.type)
        if entry is not None:
            entry[0].model_validate(envelope.data)
        return envelope

    def key(self, envelope: Envelope) -> str:
        return envelope.id

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        for _, envelope in batch:
            entry = self._handlers.get(envelope.type)
            if entry is None:  # a newer version or a type we don't handle: skip
                continue
            model, handler = entry
            await handler(tx, envelope, model.model_validate(envelope.data))
