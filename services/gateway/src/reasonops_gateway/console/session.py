"""Who a browser is: the API token it logged in with, kept in an HttpOnly cookie, and the
checks every form post passes (its CSRF field, once per form).

The cookie holds the token itself (HttpOnly, SameSite=Strict, Secure behind HTTPS): the
gateway keeps no session state, every replica accepts it, and revoking the token ends the
session at once. A form carries a field derived from the token (an HMAC), which a page
of another site cannot know, and a nonce of its own: the ``Idempotency-Key`` of the
commands the post sends, so a double click or a retried post applies once, whichever
replica answers it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "reasonops_session"
MAX_AGE_SECONDS = 12 * 3600
_NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")


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


def nonce_of(posted: object) -> str:
    """The form's nonce; a fresh one for a form without a well-formed one (a crafted post,
    which then cannot be recognised as a repeat)."""
    if isinstance(posted, str) and _NONCE.fullmatch(posted):
        return posted
    return new_nonce()
