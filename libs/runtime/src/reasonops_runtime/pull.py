"""Fetching batches from a durable pull consumer through one callback subscription.

nats-py's ``PullSubscription.fetch`` takes each message with ``next_msg``, which makes
a task, a ``wait_for`` and a UUID per message. Here the consumer's messages arrive
on one inbox whose callback appends them to a buffer; a fetch asks the server for
what the buffer lacks and returns as soon as it can:

1. ``{"batch": n, "no_wait": true}``: whatever the stream has now, up to ``n``; the
   server ends the answer with a ``404`` status when it had fewer.
2. If that brought nothing, ``{"batch": n, "expires": timeout}``: the request lingers
   on the server, and the fetch returns with the first message(s) to arrive. While it
   lives (credit left, not expired) the next fetches send nothing and take what it
   delivers, so a trickle of messages costs no request per message.

A ``408`` ends a lingering request (it expired); ``409 Consumer Deleted`` and ``503``
(no such consumer) raise ``ConsumerGone`` so the caller binds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DEFAULT_PREFIX, Header, StatusCode

# JetStream's status headers, with nats-py's names for them.
STATUS, DESCRIPTION = Header.STATUS.value, Header.DESCRIPTION.value
_HEARTBEAT = StatusCode.CONTROL_MESSAGE.value
_NO_MESSAGES = StatusCode.NO_MESSAGES.value
_NO_RESPONDERS = StatusCode.SERVICE_UNAVAILABLE.value
_CONFLICT = StatusCode.CONFLICT.value


class ConsumerGone(Exception):
    """The durable consumer was deleted (with its stream, say) or never existed."""


class Puller:
    """Batches from one durable consumer; one fetch at a time.

    At most one lingering request is live: while it has credit left and has not
    expired, every message that arrives is its, so a fetch only waits for them.
    """

    def __init__(self, nc: Client, stream: str, durable: str, *,
                 api_prefix: str = DEFAULT_PREFIX) -> None:
        self.nc = nc
        self.next_subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self._buffer: deque[Msg] = deque()
        self._want = 0
        self._ready = asyncio.Event()
        self._credit = 0
        """Messages the live lingering request may still deliver (0: none is live)."""
        self._until = 0.0
        self._gone: str | None = None
        self._sub: Subscription | None = None
        self._stopped = False
        self._watching: asyncio.Future[Any] | None = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(self.inbox, cb=self._on_msg)

    def wake(self) -> None:
        """Stop waiting, for good: a fetch under way returns what has arrived (or times
        out) at once, and none waits from then on. On shutdown, so the consumer does not
        sit out a long poll (what arrives later is given back by ``close``)."""
        self._stopped = True
        self._ready.set()

    async def close(self) -> list[Msg]:
        """Stop listening; return the messages delivered but not fetched (to give back)."""
        if self._watching is not None:
            self._watching.cancel()
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        left = list(self._buffer)
        self._buffer.clear()
        return left

    async def fetch(self, n: int, timeout: float, *, until: float = 0.0,
                    stopping: asyncio.Event | None = None) -> list[Msg]:
        """Up to ``n`` messages; raises ``TimeoutError`` when none came within ``timeout``
        and ``ConsumerGone`` when the consumer no longer exists. Given ``until`` (a
        ``time.monotonic()``) and fewer than ``n`` messages before it, waits for it (or
        for ``stopping``) and adds what arrived meanwhile: a trickle as one batch. Once
        ``stopping`` is set, no fetch waits for messages any more (``wake``)."""
        if stopping is not None and self._watching is None:
            watching = self._watching = asyncio.ensure_future(stopping.wait())
            watching.add_done_callback(lambda _: self.wake())
        msgs = await self._fetch(n, timeout)
        wait = until - time.monotonic()
        if wait > 0 and len(msgs) < n:
            stopping = stopping or asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), wait)
            if self._sub is not None and not stopping.is_set():
                msgs += await self._more(n - len(msgs), timeout)
        return msgs

    async def _fetch(self, n: int, timeout: float) -> list[Msg]:
        if self._gone is not None:
            raise ConsumerGone(self._gone)
        if not self._buffer:
            now = time.monotonic()
            if self._credit and now < self._until:
                await self._wait(1, self._until - now)
            else:
                self._credit = 0
                await self._ask({"batch": n, "no_wait": True}, n, timeout)
                if not self._buffer and self._gone is None:
                    self._credit, self._until = n, time.monotonic() + timeout
                    await self._ask({"batch": n, "expires": int(timeout * 1e9)}, 1, timeout)
        elif len(self._buffer) < n and not self._credit:
            await self._ask({"batch": n - len(self._buffer), "no_wait": True}, n, timeout)
        if not self._buffer:
            if self._gone is not None:
                raise ConsumerGone(self._gone)
            raise TimeoutError
        return [self._buffer.popleft() for _ in range(min(n, len(self._buffer)))]

    async def _more(self, n: int, timeout: float) -> list[Msg]:
        """Up to ``n`` more without waiting for new ones: what the live lingering request
        has delivered since, else what the stream has now."""
        if len(self._buffer) < n and not (self._credit and time.monotonic() < self._until):
            self._credit = 0
            await self._ask({"batch": n - len(self._buffer), "no_wait": True}, n, timeout)
        return [self._buffer.popleft() for _ in range(min(n, len(self._buffer)))]

    async def _ask(self, request: dict[str, object], want: int, timeout: float) -> None:
        """Send one pull request and wait for its answer."""
        self._ready.clear()  # before sending: the answer may come while we publish
        await self.nc.publish(self.next_subject, json.dumps(request).encode(), reply=self.inbox)
        await self._wait(want, timeout, fresh=False)

    async def _wait(self, want: int, timeout: float, *, fresh: bool = True) -> None:
        """Until ``want`` messages are buffered, a request ended, or ``timeout`` passed."""
        if fresh:
            self._ready.clear()
        if len(self._buffer) >= want or self._ready.is_set() or self._stopped:
            return
        self._want = want
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._want = 0

    async def _on_msg(self, msg: Msg) -> None:
        headers = msg.headers
        status = headers.get(STATUS) if headers else None
        if status is None:
            self._buffer.append(msg)
            if self._credit:
                self._credit -= 1
            if self._want and len(self._buffer) >= self._want:
                self._ready.set()
            return
        if status == _HEARTBEAT:
            return
        assert headers is not None
        description = headers.get(DESCRIPTION, "").strip()
        if status == _NO_RESPONDERS or (status == _CONFLICT and "deleted" in description.lower()):
            self._gone = f"{status} {description or 'no such consumer'}"
        if status != _NO_MESSAGES:  # a 404 answers a no_wait request, never the lingering one
            self._credit = 0
        # 404 (no messages now), 408 (expired), 409 (e.g. too many waiting requests) and
        # 503 each end the request the fetch waits on.
        self._ready.set()


async def nak_all(msgs: list[Msg]) -> None:
    """Hand messages back for immediate redelivery (errors ignored: ack_wait frees them)."""
    for msg in msgs:
        with contextlib.suppress(Exception):
            await msg.nak()
