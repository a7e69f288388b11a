"""OIDC bearer tokens: a JWT from the configured issuer, checked against the issuer's
signing keys (its JWKS, fetched over HTTPS and re-fetched when a token names a key not
seen yet, at most every ``REFETCH_SECONDS``): signature, issuer, audience, expiry and
not-before (30 s leeway). The person is a claim (``email`` by default) as
``user:<value>``; their roles come from the role policy, as for every principal, and a
groups claim can only narrow them (``role_map``: group -> role), never widen them.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from jwt import PyJWKSet

log = logging.getLogger(__name__)

REFETCH_SECONDS = 30.0
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
LEEWAY_SECONDS = 30


class OidcRefused(Exception):
    """Why a bearer JWT is not accepted (said to the client as a 401)."""


@dataclass(frozen=True)
class OidcIdentity:
    principal: str
    subject: str
    roles: tuple[str, ...]
    """Roles the groups claim maps to; empty: all of the principal's (no mapping)."""


@dataclass
class OidcVerifier:
    issuer: str
    audience: str
    jwks_url: str | None = None
    principal_claim: str = "email"
    groups_claim: str = "groups"
    role_map: dict[str, str] = field(default_factory=dict)
    http: httpx.AsyncClient | None = None
    _keys: PyJWKSet | None = None
    _fetched_at: float = -REFETCH_SECONDS

    @staticmethod
    def looks_like_jwt(bearer: str) -> bool:
        return bearer.count(".") == 2 and bearer.startswith("ey")

    async def verify(self, bearer: str) -> OidcIdentity:
        try:
            header = jwt.get_unverified_header(bearer)
        except jwt.PyJWTError as exc:
            raise OidcRefused(f"not a JWT ({exc})") from None
        key = await self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                bearer, key=key, algorithms=ALGORITHMS, audience=self.audience,
                issuer=self.issuer, leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise OidcRefused("the OIDC token has expired") from None
        except jwt.PyJWTError as exc:
            raise OidcRefused(f"the OIDC token is not valid here ({exc})") from None
        who = claims.get(self.principal_claim)
        if not isinstance(who, str) or not who or len(who) > 128 or ":" in who:
            raise OidcRefused(f"the OIDC token has no usable {self.principal_claim!r} claim")
        groups = claims.get(self.groups_claim) or []
        roles = tuple(sorted({self.role_map[g] for g in groups
                              if isinstance(g, str) and g in self.role_map}))
        if self.role_map and not roles:
            raise OidcRefused(f"none of the token's {self.groups_claim!r} maps to a role")
        return OidcIdentity(principal=f"user:{who}", subject=str(claims["sub"]), roles=roles)

    async def _key(self, kid: str) -> Any:
        if self._keys is None or (kid not in self._kids() and
                                  time.monotonic() - self._fetched_at > REFETCH_SECONDS):
            await self._fetch()
        if self._keys is None:
            raise OidcRefused("the issuer's signing keys are not available")
        for key in self._keys.keys:
            if key.key_id == kid or (not kid and len(self._keys.keys) == 1):
                return key.key
        raise OidcRefused(f"the OIDC token is signed with key {kid!r}, which the issuer "
                          "does not publish")

    def _kids(self) -> set[str]:
        return {str(k.key_id) for k in self._keys.keys} if self._keys else set()

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        http = self.http or httpx.AsyncClient(timeout=5.0)
        try:
            url = self.jwks_url or await self._discover(http)
            answer = await http.get(url)
            answer.raise_for_status()
            self._keys = PyJWKSet.from_dict(answer.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            log.warning("cannot fetch the OIDC issuer's keys", extra={
                "issuer": self.issuer, "error": repr(exc)})
        finally:
            if self.http is None:
                await http.aclose()

    async def _discover(self, http: httpx.AsyncClient) -> str:
        answer = await http.get(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
        answer.raise_for_status()
        return str(json.loads(answer.content)["jwks_uri"])
