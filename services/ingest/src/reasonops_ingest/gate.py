"""Who may send: integration keys checked against ingest's store, cached briefly.

A key is looked up by its hash; the answer (found or not) is cached for
``ttl_seconds`` so a storm of alerts costs one lookup per key, and a revocation or
rotation made by another replica is honoured within that time (at once on this one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from reasonops_runtime import Clock, Store

from . import store
from .domain import Sender
from .integrations import Integration, Refusal, check_key, hash_key

CACHE_TTL_SECONDS = 5.0


class Gate(Protocol):
    async def admit(self, key: str | None, fmt: str) -> Integration | Refusal: ...


def sender_of(integration: Integration) -> Sender:
    return Sender(integration=integration.name, mapping=integration.label_mapping,
                  default_service=integration.default_service,
                  default_team=integration.default_team,
                  static_labels=integration.static_labels)


class Directory:
    """The real gate: integrations in ingest's own store."""

    def __init__(self, db: Store, clock: Clock, *, ttl_seconds: float = CACHE_TTL_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.clock = clock
        self.ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, Integration | None]] = {}

    async def admit(self, key: str | None, fmt: str) -> Integration | Refusal:
        if not key:
            return Refusal.MISSING
        key_hash = hash_key(key)
        integration = await self._lookup(key_hash)
        return check_key(integration, key_hash, fmt, self.clock.now())

    async def _lookup(self, key_hash: str) -> Integration | None:
        now = self._monotonic()
        cached = self._cache.get(key_hash)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self.db.read() as session:
            found = await store.integration_by_key_hash(session, key_hash)
        if len(self._cache) > 10_000:  # unknown keys must not grow it without bound
            self._cache.clear()
        self._cache[key_hash] = (now + self.ttl, found)
        return found

    def forget(self) -> None:
        """Drop the cache (after this replica changed an integration)."""
        self._cache.clear()


class StaticGate:
    """A fixed set of keys, for tests of the HTTP layer."""

    def __init__(self, keys: Mapping[str, Integration], clock: Clock) -> None:
        self.by_hash = {hash_key(k): i for k, i in keys.items()}
        self.clock = clock

    async def admit(self, key: str | None, fmt: str) -> Integration | Refusal:
        if not key:
            return Refusal.MISSING
        integration = self.by_hash.get(hash_key(key))
        return check_key(integration, hash_key(key), fmt, self.clock.now())
