"""The console's frame: sessions, rendering, errors and the live stream; the pages
themselves are loaders in ``incidents``, ``levels``, ``finance``, ``workflows``,
``security``, ``agents`` and ``admin``, put together in ``__init__`` (ADR 37).

Every page reads and every form acts through the API in-process, with the browser's own
token (``AsyncReasonOpsClient`` over ASGI): the console has no rights, rules or
validation of its own, so what the API refuses the console refuses the same way. Pages
render whole; a part marked ``data-live`` re-renders (``?part=main``) when the live
event stream (``/live``, the API's ``/api/events`` for the same token) says something
changed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reasonops_contracts.api import Me
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ApiError, ReasonOpsError

from ..api.context import Gateway
from ..api.errors import Problem
from . import filters, session
from .forms import REPEATED, FormClient, forged, form_field

HERE = Path(__file__).parent
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class Shown:
    """What a loader found: the template and its context (``status`` for a page that
    shows a problem with what was asked, e.g. a bad filter)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True)
class Sso:
    """The issuer the gateway trusts and the client the console is registered as there
    (single sign-on, ``sso``)."""

    issuer: str
    client_id: str
    scopes: str = "openid email profile"


Loader = Callable[[Request, AsyncReasonOpsClient, Me], Awaitable[Shown]]
@dataclass(frozen=True)
class Go:
    """What an act answers to send the person to the page of what it made (say, the
    incident a form opened) rather than back."""

    path: str


Act = Callable[[AsyncReasonOpsClient, FormData], Awaitable[dict[str, Any] | Go | None]]
"""A form's effect through the API; what it returns (a key or token issued, shown
this once) is added to the page ``again`` renders instead of redirecting."""


class Console:
    """The console as an ASGI app; ``api`` is the REST API it acts through."""

    def __init__(self, api: ASGIApp, gateway: Gateway, sso: Sso | None = None, *,
                 pages: Sequence[Callable[[Console], list[Route]]] = ()) -> None:
        self.api = api
        self.gateway = gateway
        self.sso = sso
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(["html"]))
        self.templates.filters["when"] = filters.when
        self.templates.filters["money"] = filters.money
        self.templates.filters["span"] = filters.span
        routes: list[BaseRoute] = [
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/live", self.live),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
        for page in pages:
            routes.extend(page(self))
        self.app = Starlette(routes=routes, exception_handlers={
            404: self.not_found, 500: self.crashed})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    # -- reading and acting ----------------------------------------------------------------

    def client(self, token: str, nonce: str | None = None) -> AsyncReasonOpsClient:
        """The API as ``token``; with a form's ``nonce``, its commands carry keys made of
        it, so the same post sent twice is applied once."""
        transport = httpx.ASGITransport(app=self.api)
        if nonce is not None:
            return FormClient(nonce, "http://gateway", token, retries=0, transport=transport)
        return AsyncReasonOpsClient("http://gateway", token, retries=0, transport=transport)

    def page(self, request: Request, template: str, status: int = 200,
             **context: Any) -> HTMLResponse:
        token = session.token_of(request)
        context.setdefault("me", None)
        html = self.templates.get_template(template).render(
            request=request, path=request.url.path, query=request.query_params,
            csrf=session.csrf_of(token) if token else "", nonce=session.new_nonce(),
            **context)
        return HTMLResponse(html, status_code=status, headers={
            "Cache-Control": "no-store", "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                       "frame-ancestors 'none'; form-action 'self'"})

    def to_login(self, request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        session.forget(response)
        return response

    def failure(self, request: Request, error: ReasonOpsError, me: Me | None) -> Response:
        """What an API error means for a page: log in again, or a message with a retry."""
        if isinstance(error, ApiError):
            if error.status == 401:
                return self.to_login(request)
            return self.page(request, "error.html", error.status, me=me,
                             title=error.problem.title, detail=error.problem.detail)
        return self.page(request, "error.html", 503, me=me, title="Unavailable",
                         detail="The API did not answer. Retry in a moment.")

    async def show(self, request: Request, load: Loader, *, error: str | None = None,
                   status: int | None = None, field: str | None = None,
                   failed: str | None = None) -> Response:
        """A page: who is asking (``/api/me``), what ``load`` finds for them, rendered
        whole or, with ``?part=main``, only its live part (``<name>_main.html``)."""
        token = session.token_of(request)
        if token is None:
            return self.to_login(request)
        me: Me | None = None
        async with self.client(token) as client:
            try:
                me = await client.me()
                shown = await load(request, client, me)
            except ReasonOpsError as exc:
                return self.failure(request, exc, me)
        template = shown.template
        if request.query_params.get("part"):
            template = template.replace(".html", "_main.html")
        return self.page(request, template, status or shown.status, me=me, error=error,
                         error_field=field, failed=failed,
                         done=request.query_params.get("done"),
                         **shown.context)

    async def perform(self, request: Request, act: Act, *, back: str, done: str,
                      again: Loader) -> Response:
        """A form: checked (it came from a page of this session, and only once), then
        ``act`` through the API; back to ``back``, or ``again`` with the API's reason."""
        token = session.token_of(request)
        if token is None:
            return self.to_login(request)
        form = await request.form()
        if (refused := forged(form, token)) is not None:
            return refused
        async with self.client(token, session.nonce_of(form.get("nonce"))) as client:
            try:
                revealed = await act(client, form)
            except ReasonOpsError as exc:
                if isinstance(exc, ApiError):
                    if exc.status == 401:
                        return self.to_login(request)
                    if exc.problem.type.rsplit(":", 1)[-1] in REPEATED:
                        return RedirectResponse(back, status_code=303)  # applied already
                    return await self.show(request, again, error=exc.problem.detail,
                                           status=exc.status, field=form_field(exc.field),
                                           failed=done)
                return await self.show(request, again, error="The API did not answer; "
                                       "nothing was changed. Retry in a moment.", status=503)
        if isinstance(revealed, Go):
            back, revealed = revealed.path, None
        if revealed:  # shown in answer to the post, never in a URL or a later page
            async def with_secret(request: Request, client: AsyncReasonOpsClient,
                                  me: Me) -> Shown:
                shown = await again(request, client, me)
                shown.context.update(revealed)
                return shown
            return await self.show(request, with_secret)
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}{urlencode({'done': done})}", status_code=303)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return self.page(request, "error.html", 404, title="Not found",
                         detail="There is no page here.")

    async def crashed(self, request: Request, exc: Exception) -> Response:
        """A bug of the console: a message and a retry, never a stack trace (it is in
        the log)."""
        log.error("console page failed", exc_info=exc, extra={"path": request.url.path})
        return self.page(request, "error.html", 500, title="Something went wrong",
                         detail="The page could not be drawn; it is in the gateway's log. "
                                "Retry, or go back to the overview.")

    # -- the session ---------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        target = local_path(request.query_params.get("next"))
        if request.method == "GET":
            return self.page(request, "login.html", target=target, error=None, sso=self.sso)
        form = await request.form()
        token = str(form.get("token") or "").strip()
        try:
            await self.gateway.authenticate(token or None)
        except Problem as problem:
            return self.page(request, "login.html", problem.status, target=target,
                             error=problem.detail, sso=self.sso)
        response = RedirectResponse(target, status_code=303)
        session.keep(response, request, token)
        return response

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        token = session.token_of(request)
        if token is not None and (refused := forged(form, token)) is not None:
            return refused
        response = RedirectResponse("/login", status_code=303)
        session.forget(response)
        return response

    async def live(self, request: Request) -> Response:
        """The API's event stream for this session's token (a browser's EventSource
        sends the cookie, not a header)."""
        token = session.token_of(request)
        if token is None:
            return HTMLResponse("log in first", status_code=401)
        scope = dict(request.scope)
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        scope["headers"] = [*headers, (b"authorization", f"Bearer {token}".encode())]
        scope["path"] = "/api/events"
        scope["raw_path"] = b"/api/events"
        scope["query_string"] = b""  # every event the person may see
        return _Passthrough(self.api, scope)


class _Passthrough(Response):
    """The API's event stream, as a page needs it: each event's ``id`` (so the browser
    resumes where it was) and its type as the data of an untyped event, which a page's
    ``EventSource.onmessage`` receives whatever the type."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        super().__init__()
        self.target = app
        self.scope = scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def relay(message: Message) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                message = {**message, "body": _TYPED.sub(rb"data: \1\n", message["body"])}
            await send(message)
        await self.target(self.scope, receive, relay)


_TYPED = re.compile(rb"event: ([^\n]*)\ndata: [^\n]*\n")


def local_path(target: Any) -> str:
    """Only a path on this site is somewhere to go after logging in."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
