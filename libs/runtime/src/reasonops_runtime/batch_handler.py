"""What a durable consumer hands its batches to, and how a service declares one."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from reasonops_contracts.streams import StreamSpec

from .delivery import Delivery
from .transaction import Transaction


class BatchHandler(Protocol):
    def decode(self, delivery: Delivery) -> Any:
        """Turn a delivery into the handler's item; raise ``ValueError`` if it never can be."""
        ...

    def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]
                 ) -> Awaitable[None]: ...

    # Optional: ``key(item) -> str`` names the inbox key (default: Nats-Msg-Id header,
    # else stream sequence). Envelope handlers return the envelope id, so a message
    # re-published under another transport id is still handled once.
    # Optional: ``needs_inbox(item) -> bool``. False for an item whose handling changes
    # no state and publishes only outputs whose Nats-Msg-Id derives from the input, so
    # the broker stores a redelivery's outputs once; such items claim no inbox rows,
    # whatever shares their batch (a batch of only such items costs the store nothing).
    # Optional: ``wanted(item) -> bool``. False for an item the handler would skip (a type
    # it has no handler for, or one its filter turns away: an accepted event that is no
    # login, say); a batch of only such items is acked without a transaction.


@dataclass
class ConsumerSpec:
    """A durable pull consumer: ``name`` is the durable, shared by a service's replicas."""

    name: str
    stream: StreamSpec
    handler: BatchHandler
    subjects: tuple[str, ...] = field(default=())
    batch_size: int | None = None
    background: bool = False
    """Off the path from an alert to its incident and decision (bookkeeping, an agent's
    evidence): while messages keep coming it takes them in batches at an interval
    (``ServiceSettings.background_batch_seconds``) rather than one by one."""


def decode(handler: BatchHandler, delivery: Delivery) -> tuple[Delivery, Any]:
    """The handler's item, under its inbox key (e.g. the envelope id, whatever the
    transport did); ``ValueError`` if it can never be handled."""
    item = handler.decode(delivery)
    key_of = getattr(handler, "key", None)
    return (replace(delivery, key=key_of(item)) if key_of else delivery), item


def needs_inbox(handler: BatchHandler, item: Any) -> bool:
    needs = getattr(handler, "needs_inbox", None)
    return needs is None or bool(needs(item))


def takes(handler: BatchHandler, item: Any) -> bool:
    """Whether the handler takes the item (see ``wanted`` above)."""
    taken = getattr(handler, "wanted", None)
    return taken is None or bool(taken(item))
