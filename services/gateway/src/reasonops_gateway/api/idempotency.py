"""``Idempotency-Key``: a command sent again with the same key is applied once.

A client that cannot tell whether a ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` arrived (a
double click, a timeout, a dropped connection) sends it again with the same key. The
first request with a key takes it in the gateway's database, so every replica on that
database sees it; what it was answered with (a 2xx) is kept for ``KEEP``, and a repeat
gets that answer again, marked ``Idempotent-Replayed: true``, without reaching a service.
A repeat while the first is still being answered gets 409 with ``Retry-After``; the same
key on a different request (method, path, query or body) gets 422. An answer that was
refused (4xx) or not given (5xx) is not kept: nothing was applied, so a repeat is a new
try. An answer marked ``Cache-Control: no-store`` (a secret shown once) is not kept
either: its repeat gets 409 ``already_applied``.

Keys belong to the credential that sent them (a digest of the ``Authorization`` header):
nobody can replay, or block, another caller's key.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import store
from .context import Gateway
from .errors import Problem, document

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEEP = timedelta(hours=24)
"""How long an answer is kept for a repeat."""
ABANDONED = timedelta(seconds=60)
"""A key held this long without an answer was held by a gateway that stopped."""
PRUNE_EVERY_SECONDS = 60.0
MAX_KEY = 255


class Idempotency:
    """The middleware (``gateway`` None: the OpenAPI document alone, nothing to keep)."""

    def __init__(self, app: ASGIApp, gateway: Gateway | None) -> None:
        self.app = app
        self.gateway = gateway
        self._pruned = -PRUNE_EVERY_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"]) if scope["type"] == "http" else {}
        gateway = self.gateway
        raw_key = headers.get(HEADER)
        if raw_key is None or scope["method"] not in UNSAFE or gateway is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not 0 < len(key) <= MAX_KEY or not all(0x21 <= b <= 0x7E for b in raw_key):
            await self._answer(scope, receive, send, Problem(
                400, "invalid_request", f"header.Idempotency-Key: 1 to {MAX_KEY} visible "
                "ASCII characters", field="header.Idempotency-Key"))
            return
        body = await _body(receive)
        owner = hashlib.sha256(b"idempotency\0" + headers.get(b"authorization", b"")
                               ).hexdigest()
        fingerprint = hashlib.sha256(b"\0".join([
            scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""),
            body])).hexdigest()
        held = await self._claim(gateway, owner, key, fingerprint)
        if held is not None:
            await self._repeat(scope, receive, send, held, fingerprint)
            return
        await self._first(scope, receive, send, gateway, owner, key, body)

    async def _claim(self, gateway: Gateway, owner: str, key: str, fingerprint: str
                     ) -> Any | None:
        """None once this request holds the key; else what holds it."""
        now = gateway.clock.now()
        for _ in range(2):
            try:
                async with gateway.db.transaction() as tx:
                    if time.monotonic() - self._pruned >= PRUNE_EVERY_SECONDS:
                        self._pruned = time.monotonic()
                        await store.forget_answers(tx.session, now - KEEP)
                    await store.claim_key(tx.session, owner, key, fingerprint, now)
                return None
            except IntegrityError:
                async with gateway.db.transaction() as tx:
                    held = await store.answer_of(tx.session, owner, key)
                    stale = held is not None and (
                        held.created_at < now - KEEP or
                        (held.status is None and held.created_at < now - ABANDONED))
                    if held is not None and not stale:
                        return held
                    await store.release_key(tx.session, owner, key)
        raise Problem(409, "conflict", "header.Idempotency-Key: taken by another request "
                      "as this one arrived; send it again", field="header.Idempotency-Key",
                      headers={"Retry-After": "1"})

    async def _repeat(self, scope: Scope, receive: Receive, send: Send, held: Any,
                      fingerprint: str) -> None:
        if held.fingerprint != fingerprint:
            problem = Problem(422, "idempotency_key_reused", "header.Idempotency-Key: used "
                              "already for a different request (method, path or body); "
                              "a new request needs a new key", field="header.Idempotency-Key")
        elif held.status is None:
            problem = Problem(409, "idempotency_in_progress", "the first request with this "
                              "Idempotency-Key is still being answered",
                              headers={"Retry-After": "1"})
        elif held.body is None:
            problem = Problem(409, "already_applied", "this request was applied already; "
                              "what it returned is shown only once")
        else:
            log.info("answered a repeated request from its kept answer",
                     extra={"path": scope["path"]})
            await send({"type": "http.response.start", "status": held.status, "headers": [
                (b"content-type", (held.content_type or "application/json").encode()),
                (b"content-length", str(len(held.body)).encode()),
                (b"idempotent-replayed", b"true")]})
            await send({"type": "http.response.body", "body": held.body})
            return
        await self._answer(scope, receive, send, problem)

    async def _first(self, scope: Scope, receive: Receive, send: Send, gateway: Gateway,
                     owner: str, key: str, body: bytes) -> None:
        """Answer it: keep the answer (a 2xx) or give the key back, and only then let the
        answer go, so a repeat the client sends once it has it finds it kept."""
        start: Message = {}
        held: list[Message] = []
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            held.append(message)

        try:
            await self.app(scope, replay, hold)
        except BaseException:
            await self._release(gateway, owner, key)
            raise
        status = int(start.get("status", 500))
        if 200 <= status < 300:
            headers = {k.lower(): v for k, v in start.get("headers", [])}
            secret = b"no-store" in headers.get(b"cache-control", b"")
            answer = b"".join(m.get("body", b"") for m in held
                              if m["type"] == "http.response.body")
            async with gateway.db.transaction() as tx:
                await store.keep_answer(tx.session, owner, key, status,
                                        headers.get(b"content-type", b"").decode() or None,
                                        None if secret else answer)
        else:
            await self._release(gateway, owner, key)
        for message in held:
            await send(message)

    @staticmethod
    async def _release(gateway: Gateway, owner: str, key: str) -> None:
        async with gateway.db.transaction() as tx:
            await store.release_key(tx.session, owner, key)

    @staticmethod
    async def _answer(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
        await document(Request(scope), problem)(scope, receive, send)


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return b"".join(chunks)
