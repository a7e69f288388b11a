"""Logging in through the gateway's OIDC issuer: the authorization code flow with PKCE
(RFC 7636, S256) for a public client, so no client secret is kept anywhere.

``/login/oidc`` sends the browser to the issuer with a fresh ``state``, ``nonce`` and
code challenge, keeping them (and the code verifier) in a short-lived HttpOnly cookie;
``/login/oidc/callback`` checks the ``state``, exchanges the code with the verifier at
the issuer's token endpoint, and keeps as the session the token the gateway accepts for
API calls (the access token when it is a JWT for the API's audience, else the ID token,
whose ``nonce`` must then match). Every later request is checked as any bearer JWT is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..api.errors import Problem
from . import session
from .frame import Console, local_path

log = logging.getLogger(__name__)
FLOW_COOKIE = "reasonops_oidc"
FLOW_SECONDS = 600
CALLBACK = "/login/oidc/callback"


def routes(console: Console) -> list[Route]:
    sso = console.sso
    if sso is None:
        return []

    async def start(request: Request) -> Response:
        try:
            endpoints = await _endpoints(sso.issuer)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("cannot reach the OIDC issuer", extra={"error": repr(exc)})
            return console.page(request, "login.html", 503, target="/", sso=sso,
                                error="The single sign-on issuer does not answer; retry "
                                      "in a moment or log in with an API token.")
        verifier = secrets.token_urlsafe(48)
        flow = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24),
                "verifier": verifier, "next": local_path(request.query_params.get("next"))}
        target = endpoints["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": sso.client_id, "scope": sso.scopes,
            "redirect_uri": _callback_url(request), "state": flow["state"],
            "nonce": flow["nonce"], "code_challenge": challenge_of(verifier),
            "code_challenge_method": "S256"})
        response = RedirectResponse(target, status_code=303)
        # Lax, not Strict: the issuer sends the browser back with a top-level GET.
        response.set_cookie(FLOW_COOKIE, json.dumps(flow), max_age=FLOW_SECONDS,
                            httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", path="/login/oidc")
        return response

    async def callback(request: Request) -> Response:
        def refused(why: str, status: int = 400) -> Response:
            response = console.page(request, "login.html", status, target="/", sso=sso,
                                    error=why)
            response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
            return response

        try:
            flow = json.loads(request.cookies.get(FLOW_COOKIE, ""))
        except ValueError:
            return refused("This sign-in was not started here, or took too long; "
                           "start again.")
        if request.query_params.get("error"):
            return refused(f"The issuer refused: {request.query_params['error']}", 401)
        if not secrets.compare_digest(str(request.query_params.get("state", "")),
                                      str(flow.get("state", ""))):
            return refused("state: this answer is not for the sign-in started here")
        code = request.query_params.get("code")
        if not code:
            return refused("code: the issuer sent no authorization code")
        try:
            endpoints = await _endpoints(sso.issuer)
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.post(endpoints["token_endpoint"], data={
                    "grant_type": "authorization_code", "code": code,
                    "redirect_uri": _callback_url(request), "client_id": sso.client_id,
                    "code_verifier": flow["verifier"]})
            tokens = answer.json()
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("the OIDC token exchange failed", extra={"error": repr(exc)})
            return refused("The issuer did not answer the token exchange; start again.", 503)
        if answer.status_code != 200:
            return refused(f"The issuer refused the code: {tokens.get('error', 'error')}",
                           401)
        token = await _accepted(console, tokens, str(flow.get("nonce", "")))
        if token is None:
            return refused("The issuer's tokens are not accepted by this gateway (issuer, "
                           "audience or person unknown to the role policy).", 401)
        response = RedirectResponse(local_path(flow.get("next")), status_code=303)
        session.keep(response, request, token)
        response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
        return response

    return [Route("/login/oidc", start), Route(CALLBACK, callback)]


def challenge_of(verifier: str) -> str:
    """The S256 code challenge of ``verifier`` (RFC 7636, 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def _accepted(console: Console, tokens: dict[str, Any], nonce: str) -> str | None:
    """The first of the access and ID tokens the gateway accepts as a bearer; an ID
    token only with this sign-in's nonce."""
    for name in ("access_token", "id_token"):
        token = tokens.get(name)
        if not isinstance(token, str):
            continue
        if name == "id_token":
            claims = jwt.decode(token, options={"verify_signature": False})
            if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
                continue
        try:
            await console.gateway.authenticate(token)
        except Problem:
            continue
        return token
    return None


_discovered: dict[str, dict[str, str]] = {}


async def _endpoints(issuer: str) -> dict[str, str]:
    """The issuer's authorization and token endpoints (its discovery document)."""
    if issuer not in _discovered:
        async with httpx.AsyncClient(timeout=5) as http:
            answer = await http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
            answer.raise_for_status()
            found = answer.json()
        _discovered[issuer] = {k: str(found[k]) for k in ("authorization_endpoint",
                                                          "token_endpoint")}
    return _discovered[issuer]


def _callback_url(request: Request) -> str:
    """Where the issuer sends the browser back: this gateway, as the browser reached it
    (register it with the issuer)."""
    return f"{request.url.scheme}://{request.url.netloc}{CALLBACK}"
