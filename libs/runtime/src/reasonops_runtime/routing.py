"""Typed dispatch of envelopes to handlers: ``router.on(IncidentOpened)(handler)``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from reasonops_contracts import Envelope, Event
from reasonops_contracts.ownership import refusal

from . import tracing
from .delivery import Delivery
from .store import Transaction

E = TypeVar("E", bound=Event)
EventHandler = Callable[[Transaction, Envelope, Any], Awaitable[None]]


ManyHandler = Callable[[Transaction, list[tuple[Envelope, Any]]], Awaitable[None]]
_KEPT = 10_000


class Refused(ValueError):
    """An envelope that does not belong on the subject it arrived on: its type is of
    another subject, or its source does not own this one (forged or misrouted)."""


def envelope_of(delivery: Delivery) -> Envelope:
    """The envelope a delivery carries, checked against its subject (see
    ``reasonops_contracts.ownership``); raises ``ValueError`` for a poison message and
    ``Refused`` for one that does not belong."""
    envelope = Envelope.from_bytes(delivery.data)
    problem = refusal(delivery.subject, envelope.type, envelope.source)
    if problem is not None:
        raise Refused(problem)
    return envelope


class EventRouter:
    """Maps event models to handlers; the consumer's subjects come from the models.

    ``on(Model)`` handlers take one message at a time. ``on_many(Model)`` handlers take
    every consecutive message of that type in a batch at once, so a hot path can do
    per-batch I/O; one function registered for several types takes every consecutive
    message of any of them. Order is kept: runs are cut where the handler changes.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[type[Event], EventHandler]] = {}
        self._many: dict[str, tuple[type[Event], ManyHandler]] = {}
        self._decoded: dict[str, Event | None] = {}
        """Envelope id -> its event, validated by ``decode`` for the batch it hands over
        (so each message is validated once); None for one no handler takes. A cache:
        what is not found here is validated (and filtered) again."""
        self._wanted: dict[str, Callable[[Event], bool]] = {}

    def on(self, model: type[E]) -> Callable[[Callable[[Transaction, Envelope, E],
                                                        Awaitable[None]]],
                                              Callable[[Transaction, Envelope, E],
                                                       Awaitable[None]]]:
        def register(fn: Callable[[Transaction, Envelope, E], Awaitable[None]]
                     ) -> Callable[[Transaction, Envelope, E], Awaitable[None]]:
            self._handlers[model.TYPE] = (model, fn)
            return fn
        return register

    def on_many(self, model: type[E], *, wanted: Callable[[E], bool] | None = None
                ) -> Callable[[ManyHandler], ManyHandler]:
        """``wanted``: which events of the type the handler is for; the others are not
        handed to it, and a batch without any is acked without a transaction."""
        def register(fn: ManyHandler) -> ManyHandler:
            self._many[model.TYPE] = (model, fn)
            if wanted is not None:
                self._wanted[model.TYPE] = cast("Callable[[Event], bool]", wanted)
            return fn
        return register

    @property
    def handlers(self) -> tuple[object, ...]:
        """Every registered handler function."""
        return (*(fn for _, fn in self._handlers.values()),
                *(fn for _, fn in self._many.values()))

    @property
    def subjects(self) -> tuple[str, ...]:
        models = [m for m, _ in self._handlers.values()] + [m for m, _ in self._many.values()]
        return tuple(sorted({model.SUBJECT for model in models}))

    def _model(self, type_: str) -> type[Event] | None:
        entry = self._many.get(type_) or self._handlers.get(type_)
        return entry[0] if entry else None

    def decode(self, delivery: Delivery) -> Envelope:
        """Parse and check an envelope; raises ``ValueError`` for a poison message."""
        envelope = envelope_of(delivery)
        if len(self._decoded) >= _KEPT:  # batches a consumer acked without handing over
            self._decoded.clear()
        model = self._model(envelope.type)
        self._decoded[envelope.id] = (None if model is None
                                      else self._taken(model.model_validate(envelope.data)))
        return envelope

    def wanted(self, envelope: Envelope) -> bool:
        """Whether a handler takes this envelope (as ``decode`` found)."""
        return self._decoded.get(envelope.id, envelope) is not None

    def _taken(self, event: Event) -> Event | None:
        wanted = self._wanted.get(event.TYPE)
        return event if wanted is None or wanted(event) else None

    def _event(self, model: type[Event], envelope: Envelope) -> Event | None:
        """The envelope's event, None if its handler does not want it."""
        if envelope.id in self._decoded:
            found = self._decoded.pop(envelope.id)
            if found is None or isinstance(found, model):
                return found
        return self._taken(model.model_validate(envelope.data))

    def key(self, envelope: Envelope) -> str:
        return envelope.id

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        run: list[tuple[Envelope, Any]] = []
        run_handler: ManyHandler | None = None
        for _, envelope in batch:
            many = self._many.get(envelope.type)
            if many is not None:
                event = self._event(many[0], envelope)
                if event is None:
                    continue
                if many[1] != run_handler:
                    await self._flush(tx, run_handler, run)
                    run, run_handler = [], many[1]
                run.append((envelope, event))
                continue
            await self._flush(tx, run_handler, run)
            run, run_handler = [], None
            entry = self._handlers.get(envelope.type)
            if entry is None:  # a newer version or a type we don't handle: skip
                continue
            model, handler = entry
            single = self._event(model, envelope)
            if single is None:
                continue
            parent = tx.trace_parents.get(envelope.id) if tracing.enabled() else None
            with tracing.use(parent):
                await handler(tx, envelope, single)
        await self._flush(tx, run_handler, run)
        self._decoded.clear()  # what a batch left (duplicates skipped) is not kept

    @staticmethod
    async def _flush(tx: Transaction, handler: ManyHandler | None,
                     run: list[tuple[Envelope, Any]]) -> None:
        if run and handler is not None:
            await handler(tx, run)
