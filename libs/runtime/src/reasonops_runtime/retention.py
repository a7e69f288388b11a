"""How long a service remembers which messages it handled (its inbox rows).

The inbox is what makes a redelivered message harmless, so a row must outlive every way
the message can come back: its stream keeps it for ``max_age`` (a durable re-created from
the start would deliver it again), and a dead letter can be replayed while the dead-letter
stream keeps it. Rows older than the longest of those are pruned every hour; a shorter
retention is refused at start rather than silently allowing a second effect.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from reasonops_contracts.streams import DAY, DEADLETTER, StreamSpec

from .clock import Clock
from .store import Store

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0


def inbox_retention(streams: Iterable[StreamSpec], days: int | None) -> timedelta | None:
    """The retention for a service consuming ``streams`` (None: it consumes nothing);
    ``days`` is the operator's choice, at least the longest redelivery."""
    kept = [s.max_age_seconds for s in streams]
    if not kept:
        return None
    longest = max(*kept, DEADLETTER.max_age_seconds)
    floor = -(-longest // DAY)  # whole days, rounded up
    if days is None:
        return timedelta(days=floor + 1)
    if days < floor:
        raise ValueError(f"inbox_retention_days: {days} is shorter than the {floor} days a "
                         "message this service consumes can still be redelivered or "
                         "replayed; a second delivery after pruning would be handled twice")
    return timedelta(days=days)


def pruner(store: Store, clock: Clock,
           retention: timedelta) -> Callable[[], Awaitable[None]]:
    """The periodic job that prunes ``store``'s inbox."""
    async def prune() -> None:
        removed = await store.prune_inbox(clock.now() - retention)
        if removed:
            log.info("inbox pruned", extra={"rows": removed,
                                            "retention_days": retention.days})
    return prune
