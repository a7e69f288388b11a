"""What every route needs: who is calling (``Caller``, from the bearer token), and a way
to ask the services on the caller's behalf (``Gateway.ask``).

The caller's principal comes from its token alone. ``ask`` writes it into the message's
principal field, whatever the client sent, and the gateway's identity signs the request
as that principal (ADR 0030), so the answering service checks the policy for the person,
not for the gateway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import nats.errors
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from reasonops_contracts import Command, Envelope, ErrorDetail, Query
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_runtime import Clock, Store
from reasonops_runtime.client import Unanswered, send
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import Forbidden, Visibility, describe
from reasonops_runtime.store import Transaction

from .. import store
from ..domain import RateLimiter, proves, token_id_of
from ..oidc import OidcRefused, OidcVerifier
from .errors import Problem

log = logging.getLogger(__name__)
V = TypeVar("V", bound=BaseModel)
T = TypeVar("T")
TOUCH_EVERY_SECONDS = 60.0
_UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="reasonops"'}


@dataclass(frozen=True)
class Caller:
    """An authenticated person (or program acting as one)."""

    principal: str
    token_id: str
    roles: tuple[str, ...] = ()
    """The roles its token is narrowed to; empty: every role the principal holds."""


class Gateway:
    """The services, the token store and the policy, as the routes use them."""

    def __init__(self, *, connection: Any, db: Store, clock: Clock, enforcer: Enforcer,
                 limiter: RateLimiter, timeout: float, actions: dict[type, str],
                 record: Callable[[Envelope], Awaitable[None]],
                 transaction: Callable[[], AbstractAsyncContextManager[Transaction]],
                 catalog: ServiceCatalog | None = None,
                 oidc: OidcVerifier | None = None,
                 slack_signing_secret: str | None = None) -> None:
        self.oidc = oidc
        self.slack_signing_secret = slack_signing_secret
        """Checks that a request to ``/slack/interactivity`` came from Slack."""
        self._connection = connection
        self.record = record
        self.transaction = transaction
        self.catalog = catalog
        self.known_services = tuple(s.name for s in catalog.services) if catalog else ()
        self.db = db
        self.clock = clock
        self.enforcer = enforcer
        self.limiter = limiter
        self.timeout = timeout
        self.actions = actions
        self._touched: dict[str, float] = {}

    def owner(self, service: str) -> str | None:
        """The team that owns ``service`` in the catalog."""
        entry = self.catalog.get(service) if self.catalog else None
        return entry.owner if entry else None

    @property
    def nc(self) -> Any:
        """The gateway's NATS connection (signing as the gateway's identity)."""
        return self._connection()

    async def authenticate(self, bearer: str | None) -> Caller:
        if not bearer:
            raise Problem(401, "unauthenticated", "send 'Authorization: Bearer <token>'; "
                          "create a token with `reasonops tokens create`",
                          headers=_UNAUTHENTICATED)
        if self.oidc is not None and self.oidc.looks_like_jwt(bearer):
            return await self._authenticate_oidc(self.oidc, bearer)
        token_id = token_id_of(bearer)
        token = await store.token_of(self.db, token_id) if token_id is not None else None
        if token is None or not proves(token, bearer):
            log.warning("refused an unknown API token", extra={"token": token_id or "-"})
            raise Problem(401, "unauthenticated", "unknown API token",
                          headers=_UNAUTHENTICATED)
        now = self.clock.now()
        if (problem := token.problem(now)) is not None:
            raise Problem(401, "unauthenticated", problem, headers=_UNAUTHENTICATED)
        self._limit(token.token_id)
        await self._touch(token.token_id)
        return Caller(token.principal, token.token_id, token.roles)

    async def _authenticate_oidc(self, oidc: OidcVerifier, bearer: str) -> Caller:
        try:
            identity = await oidc.verify(bearer)
        except OidcRefused as exc:
            log.warning("refused an OIDC token", extra={"reason": str(exc)})
            raise Problem(401, "unauthenticated", str(exc),
                          headers=_UNAUTHENTICATED) from None
        caller = Caller(identity.principal, f"oidc:{identity.subject}", identity.roles)
        self._limit(caller.token_id)
        return caller

    def _limit(self, key: str) -> None:
        wait = self.limiter.take(key, time.monotonic())
        if wait > 0:
            raise Problem(429, "rate_limited", f"token {key} is over its rate of "
                          f"{self.limiter.rate:g} requests a second",
                          headers={"Retry-After": str(max(1, math.ceil(wait)))})

    async def _touch(self, token_id: str) -> None:
        """Record that the token was used (at most once a minute per token)."""
        now = time.monotonic()
        if now - self._touched.get(token_id, -TOUCH_EVERY_SECONDS) < TOUCH_EVERY_SECONDS:
            return
        self._touched[token_id] = now
        async with self.db.transaction() as tx:
            await store.touch_token(tx.session, token_id, self.clock.now())

    async def visibility(self, caller: Caller, reading: str) -> Visibility:
        """What ``caller`` may read of what no service answers for (streams, the policy);
        403 (on record) when nothing."""
        try:
            return self.enforcer.visibility(caller.principal, at=self.clock.now(),
                                            reading=reading)
        except Forbidden as exc:
            if exc.denial is not None:
                await self.record(exc.denial)
            raise Problem(403, "forbidden", str(exc)) from None

    async def authorise(self, caller: Caller, action: str, target: str) -> None:
        """403 (on record) unless the caller, and its token's roles, may do ``action`` -
        for what the gateway does itself rather than a service."""
        try:
            self.enforcer.require(caller.principal, action, at=self.clock.now(),
                                  target=target)
        except Forbidden as exc:
            if exc.denial is not None:
                await self.record(exc.denial)
            raise Problem(403, "forbidden", str(exc)) from None
        self._narrowed(caller, action)

    def narrowing(self, caller: Caller, message: Command) -> None:
        """403 when the caller's token is narrowed to roles none of which allows the
        command (the answering service checks the person's full policy as well)."""
        action = self.actions.get(type(message))
        if action is not None:
            self._narrowed(caller, action)

    def _narrowed(self, caller: Caller, action: str) -> None:
        if not caller.roles:
            return
        policy = self.enforcer.policy.narrowed(caller.principal, caller.roles)
        verdict = policy.check(caller.principal, action)
        if not verdict.allowed:
            raise Problem(403, "forbidden", describe(verdict) + f" (token {caller.token_id})")

    async def ask_all(self, read: Callable[[Any], Awaitable[T]]) -> T:
        """``read(nc)``, for what the client library reads itself (streams, scatter-gather
        queries); a broker that is gone is a 503."""
        try:
            return await read(self.nc)
        except (nats.errors.Error, RuntimeError) as exc:
            raise Problem(503, "unavailable", f"the broker is not reachable ({exc!r})",
                          headers={"Retry-After": "2"}) from None

    async def ask(self, caller: Caller, message: Command | Query, result: type[V]) -> V:
        """Send ``message`` as ``caller``; its typed result, or the problem to answer."""
        return result.model_validate(await self.relay(caller, message))

    async def relay(self, caller: Caller, message: Command | Query) -> dict[str, Any]:
        """Send ``message`` as ``caller``; the service's result as it sent it (JSON,
        already its view's shape: what a route passes through needs no second
        validation), or the problem to answer."""
        message = message.model_copy(update={message.PRINCIPAL_FIELD: caller.principal})
        if isinstance(message, Command):
            self.narrowing(caller, message)
        try:
            raw = await send(self.nc, message, timeout=self.timeout)
        except Unanswered as exc:
            raise Problem.unavailable(exc) from None
        except (nats.errors.Error, RuntimeError) as exc:  # disconnected, closed, not started
            raise Problem(503, "unavailable", f"the broker is not reachable ({exc!r})",
                          headers={"Retry-After": "2"}) from None
        reply = json.loads(raw.data)
        if not reply.get("ok") or reply.get("result") is None:
            detail = ErrorDetail.model_validate(reply.get("error") or {
                "code": "internal", "message": "empty reply"})
            raise Problem.of_reply(detail)
        found: dict[str, Any] = reply["result"]
        return found


_bearer = HTTPBearer(auto_error=False, description="An API token: `reasonops tokens create`")


async def current_caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    gateway: Gateway = request.app.state.gateway
    header = request.headers.get("authorization")
    if header and credentials is None:
        raise Problem(401, "unauthenticated", "the Authorization header must read "
                      "'Bearer <token>'", headers=_UNAUTHENTICATED)
    return await gateway.authenticate(credentials.credentials if credentials else None)


async def gateway_of(request: Request) -> Gateway:
    # async, though it awaits nothing: FastAPI runs a plain function dependency in a
    # worker thread, a thread hop on every request that asks for the gateway.
    return request.app.state.gateway  # type: ignore[no-any-return]


CallerDep = Annotated[Caller, Depends(current_caller)]
GatewayDep = Annotated[Gateway, Depends(gateway_of)]


# -- Cursors ---------------------------------------------------------------------------------

def filters_key(filters: dict[str, Any]) -> str:
    """A short digest of a list's filters: a cursor is valid only for the same filters."""
    canonical = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def encode_cursor(offset: int, filters: dict[str, Any]) -> str:
    raw = json.dumps({"o": offset, "f": filters_key(filters)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, filters: dict[str, Any]) -> int:
    """The offset a cursor from this same list points at; 0 without one."""
    if not cursor:
        return 0
    try:
        found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, key = int(found["o"]), str(found["f"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise Problem(400, "invalid_cursor", "cursor: not a cursor this API returned",
                      field="query.cursor") from None
    if offset < 0 or key != filters_key(filters):
        raise Problem(400, "invalid_cursor", "cursor: it belongs to a list with other "
                      "filters; start again without a cursor", field="query.cursor")
    return offset


def next_cursor(offset: int, count: int, total: int | None,
                filters: dict[str, Any]) -> str | None:
    end = offset + count
    if count == 0 or (total is not None and end >= total):
        return None
    return encode_cursor(end, filters)
