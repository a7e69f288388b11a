"""Who a browser is: the API token it logged in with, kept in an HttpOnly cookie, and the
checks every form post passes (its CSRF field, once per form).

The cookie holds the token itself (HttpOnly, SameSite=Strict, Secure behind HTTPS): the
gateway keeps no session state, every replica accepts it, and revoking the token ends the
session at once. A form carries a field derived from the token (an HMAC), which a page
of another site cannot know, and a one-time nonce, so a double click or a retried post
applies once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "reasonops_session"
MAX_AGE_SECONDS = 12 * 3600
SEEN_NONCES = 10_000


def token_of(request: Request) -> str | None:
    token = request.cookies.get(COOKIE, "").strip()
    return token or None


def keep(response: Response, request: Request, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=MAX_AGE_SECONDS, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def csrf_of(token: str) -> str:
    """The form field that proves a post came from a page this session rendered."""
    return hmac.new(token.encode(), b"reasonops-console-form", hashlib.sha256).hexdigest()[:32]


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class Nonces:
    """Form nonces already used (the most recent ``SEEN_NONCES``, in this process): a
    form posted twice is applied once."""

    def __init__(self, size: int = SEEN_NONCES) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_use(self, token: str, nonce: str) -> bool:
        key = self._key(token, nonce)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True

    def forget(self, token: str, nonce: str) -> None:
        """The form was not applied (refused, or the API did not answer): sending it again
        is a new try, not a repeat."""
        self._seen.pop(self._key(token, nonce), None)

    @staticmethod
    def _key(token: str, nonce: str) -> str:
        return hashlib.sha256(f"{token}\0{nonce}".encode()).hexdigest()
