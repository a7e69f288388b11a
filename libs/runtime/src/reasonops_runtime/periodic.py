"""What a service does every so often while it runs: a gauge read from the store, the
consumers' lag, the inbox's pruning; a failure is logged and the next round tries again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(seconds: float, fn: Callable[[], Awaitable[None]],
                stopping: asyncio.Event) -> None:
    """``fn()`` now and every ``seconds`` after, until ``stopping`` is set."""
    while not stopping.is_set():
        try:
            await fn()
        except Exception as exc:
            log.warning("periodic refresh failed", extra={"error": repr(exc)})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)
