"""Per-integration rate limits: a token bucket per integration, in this process.

Events (alerts), not requests, are counted, so batching is no way around a limit.
Each replica keeps its own buckets; with N replicas behind a load balancer the
integration's effective limit is up to N times the configured one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float


class RateLimiter:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, n: int, *, rate: float | None, burst: int | None) -> float:
        """Take ``n`` tokens; 0.0 when allowed, else the seconds until they would be there.

        A refused request takes nothing. A request larger than the bucket is allowed
        when the bucket is full, so a big batch is never refused forever.
        """
        if rate is None or n <= 0:
            return 0.0
        capacity = float(burst) if burst is not None else max(rate, 1.0)
        now = self._now()
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.capacity != capacity:
            bucket = self._buckets[key] = _Bucket(rate, capacity, capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        needed = min(float(n), capacity)
        if bucket.tokens >= needed:
            bucket.tokens -= n  # may go negative for an oversized batch: pays it back
            return 0.0
        return (needed - bucket.tokens) / rate


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least 1 (HTTP's Retry-After has no fractions)."""
    return str(max(1, math.ceil(seconds)))
