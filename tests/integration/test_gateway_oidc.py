"""OIDC bearer tokens, checked against an issuer's published keys: a small issuer in the
test serves its discovery document and JWKS over HTTP as a real one does."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_runtime.http import HttpServer

pytestmark = pytest.mark.nats

POLICY = """
roles:
  admin: {allow: ["*"]}
  responder: {allow: ["incident.*"]}
  observer: {allow: []}
principals:
  user:ana@example.com: [admin]
  user:rui@example.com: [responder, observer]
  service:*: [admin]
"""


class Issuer:
    """An OIDC issuer's public face: discovery and keys (``kid`` k1)."""

    def __init__(self, routes: tuple[Route, ...] = ()) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.fetches = 0
        self.server = HttpServer(Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/keys", self.keys), *routes]), "127.0.0.1", 0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    async def discovery(self, _: Request) -> JSONResponse:
        return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/keys"})

    async def keys(self, _: Request) -> JSONResponse:
        self.fetches += 1
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return JSONResponse({"keys": [public | {"kid": "k1", "use": "sig", "alg": "RS256"}]})

    def token(self, *, key=None, kid: str = "k1", **claims) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": "reasonops", "sub": "abc-123", "iat": now,
                "exp": now + 300, "email": "ana@example.com", **claims}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def issuer():
    found = Issuer()
    found.server.bind()
    await found.server.start()
    yield found
    await found.server.stop()


async def test_jwts_of_the_configured_issuer_act_for_their_person(
        nc, start_service, tmp_path, issuer):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gateway = await start_service(build_gateway, GatewaySettings, policy=policy,
                                  oidc_issuer=issuer.url,
                                  oidc_role_map={"oncall": "responder"})
    url = f"http://127.0.0.1:{gateway.port}/api/me"

    async def me(token: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.get(url, headers={"Authorization": f"Bearer {token}"})

    mapped = await me(issuer.token(email="rui@example.com", groups=["oncall", "other"]))
    assert mapped.status_code == 200, mapped.text
    assert (mapped.json()["principal"], mapped.json()["token_roles"]) == (
        "user:rui@example.com", ["responder"])
    assert mapped.json()["can"]["incident.resolve"] is True
    assert mapped.json()["token_id"] == "oidc:abc-123"

    refusals = {
        "expired": issuer.token(groups=["oncall"], exp=int(time.time()) - 600),
        "another audience": issuer.token(groups=["oncall"], aud="someone-else"),
        "another issuer": issuer.token(groups=["oncall"], iss="https://evil.example"),
        "a key it does not publish": issuer.token(groups=["oncall"], kid="k9"),
        "a forged signature": issuer.token(groups=["oncall"], key=issuer.other),
        "no group that maps": issuer.token(groups=["visitors"]),
        "no email": issuer.token(groups=["oncall"], email=None),
    }
    for why, token in refusals.items():
        answer = await me(token)
        assert answer.status_code == 401, (why, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    # Keys are fetched once, and again at most every 30 s for an unknown kid.
    assert issuer.fetches == 1
