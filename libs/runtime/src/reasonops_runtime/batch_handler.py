"""What a durable consumer hands its batches to, and how a service declares one."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
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
