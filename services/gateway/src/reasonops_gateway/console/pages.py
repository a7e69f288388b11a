"""The console's pages: server-rendered HTML over the REST API (ADR 37).

Every page reads and every form acts through the API in-process, with the browser's own
token (``AsyncReasonOpsClient`` over ASGI): the console has no rights, rules or
validation of its own, so what the API refuses the console refuses the same way. Pages
render whole; the lists and the overview re-render their main part when the live event
stream (``/live``, the API's ``/api/events`` for the same token) says something changed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reasonops_contracts.api import Me
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ApiError, ReasonOpsError

from ..api.context import Gateway
from ..api.errors import Problem
from . import session
from .views import (
    ACTIONS,
    STATES,
    actions_for,
    list_filters,
    list_link,
    overview_links,
)

HERE = Path(__file__).parent
PAGE_SIZE = 50


class Console:
    """The console as an ASGI app; ``api`` is the REST API it acts through."""

    def __init__(self, api: ASGIApp, gateway: Gateway) -> None:
        self.api = api
        self.gateway = gateway
        self.nonces = session.Nonces()
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(["html"]))
        self.templates.filters["when"] = _when
        self.app = Starlette(routes=[
            Route("/", self.overview),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/incidents", self.incidents),
            Route("/incidents/{incident_id}", self.incident),
            Route("/incidents/{incident_id}/{verb}", self.act, methods=["POST"]),
            Route("/live", self.live),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    # -- helpers -----------------------------------------------------------------------------

    def client(self, token: str) -> AsyncReasonOpsClient:
        return AsyncReasonOpsClient("http://gateway", token, retries=0,
                                    transport=httpx.ASGITransport(app=self.api))

    def page(self, request: Request, template: str, status: int = 200,
             **context: Any) -> HTMLResponse:
        token = session.token_of(request)
        context.setdefault("me", None)
        html = self.templates.get_template(template).render(
            request=request, path=request.url.path, csrf=session.csrf_of(token) if token
            else "", nonce=session.new_nonce(), **context)
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

    @contextlib.asynccontextmanager
    async def reader(self, request: Request) -> AsyncIterator[tuple[AsyncReasonOpsClient, Me]]:
        token = session.token_of(request)
        if token is None:
            raise _LoginFirst
        async with self.client(token) as client:
            try:
                me = await client.me()
            except ApiError as exc:
                if exc.status == 401:
                    raise _LoginFirst from None
                raise
            yield client, me

    # -- pages -------------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        target = _local(request.query_params.get("next"))
        if request.method == "GET":
            return self.page(request, "login.html", target=target, error=None)
        form = await request.form()
        token = str(form.get("token") or "").strip()
        try:
            await self.gateway.authenticate(token or None)
        except Problem as problem:
            return self.page(request, "login.html", problem.status, target=target,
                             error=problem.detail)
        response = RedirectResponse(target, status_code=303)
        session.keep(response, request, token)
        return response

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        token = session.token_of(request)
        if token is not None and form.get("csrf") != session.csrf_of(token):
            return HTMLResponse("Forbidden: this form did not come from the console",
                                status_code=403)
        response = RedirectResponse("/login", status_code=303)
        session.forget(response)
        return response

    async def overview(self, request: Request) -> Response:
        try:
            async with self.reader(request) as (client, me):
                try:
                    board = await client.get_dashboard()
                except ReasonOpsError as exc:
                    return self.failure(request, exc, me)
                template = ("overview_main.html" if request.query_params.get("part")
                            else "overview.html")
                return self.page(request, template, me=me, board=board,
                                 links=overview_links(board))
        except _LoginFirst:
            return self.to_login(request)

    async def incidents(self, request: Request) -> Response:
        try:
            async with self.reader(request) as (client, me):
                filters, problems = list_filters(request.query_params)
                cursor = request.query_params.get("cursor") or None
                try:
                    found = await client.list_incidents(limit=PAGE_SIZE, cursor=cursor,
                                                        **filters)
                except ApiError as exc:
                    if exc.status in (400, 422):
                        problems.append(exc.problem.detail)
                        found = None
                    else:
                        return self.failure(request, exc, me)
                except ReasonOpsError as exc:
                    return self.failure(request, exc, me)
                template = ("incidents_main.html" if request.query_params.get("part")
                            else "incidents.html")
                return self.page(request, template, 422 if problems else 200, me=me,
                                 found=found, filters=filters, problems=problems,
                                 states=STATES, query=request.query_params,
                                 next_link=list_link(request.query_params, found))
        except _LoginFirst:
            return self.to_login(request)

    async def incident(self, request: Request, error: str | None = None,
                       status: int = 200) -> Response:
        incident_id = request.path_params["incident_id"]
        try:
            async with self.reader(request) as (client, me):
                try:
                    incident = await client.get_incident(incident_id)
                except ReasonOpsError as exc:
                    return self.failure(request, exc, me)
                sla = trail = None
                with contextlib.suppress(ReasonOpsError):
                    sla = await client.incident_sla(incident_id)
                with contextlib.suppress(ReasonOpsError):
                    trail = await client.incident_audit(incident_id)
                template = ("incident_main.html" if request.query_params.get("part")
                            else "incident.html")
                return self.page(request, template, status, me=me, incident=incident,
                                 sla=sla, trail=trail, actions=actions_for(incident, me),
                                 error=error, done=request.query_params.get("done"))
        except _LoginFirst:
            return self.to_login(request)

    async def act(self, request: Request) -> Response:
        """A form of the incident page: checked (CSRF, once), then the API's command."""
        incident_id, verb = request.path_params["incident_id"], request.path_params["verb"]
        token = session.token_of(request)
        if token is None:
            return self.to_login(request)
        form = await request.form()
        if form.get("csrf") != session.csrf_of(token):
            return HTMLResponse("Forbidden: this form did not come from the console",
                                status_code=403)
        back = f"/incidents/{quote(incident_id)}"
        if verb not in ACTIONS:
            return await self.incident(request, f"no action {verb!r}", 404)
        if not self.nonces.first_use(token, str(form.get("nonce") or "")):
            return RedirectResponse(back, status_code=303)  # a repeat: applied already
        async with self.client(token) as client:
            try:
                await _run(client, incident_id, verb, form)
            except ApiError as exc:
                if exc.status == 401:
                    return self.to_login(request)
                return await self.incident(request, exc.problem.detail, exc.status)
            except ReasonOpsError:
                return await self.incident(request, "The API did not answer; nothing was "
                                           "changed. Retry in a moment.", 503)
        return RedirectResponse(f"{back}?{urlencode({'done': verb})}", status_code=303)

    async def live(self, request: Request) -> Response | None:
        """The API's event stream for this session's token (a browser's EventSource
        sends the cookie, not a header)."""
        token = session.token_of(request)
        if token is None:
            return HTMLResponse("log in first", status_code=401)
        scope = dict(request.scope)
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        scope["headers"] = [*headers, (b"authorization", f"Bearer {token}".encode())]
        scope["path"] = scope["raw_path"] = "/api/events"
        scope["raw_path"] = b"/api/events"
        scope["query_string"] = b""  # every event the person may see
        return _Passthrough(self.api, scope)


class _LoginFirst(Exception):
    """No session, or its token is no longer valid."""


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


async def _run(client: AsyncReasonOpsClient, incident_id: str, verb: str,
               form: FormData) -> None:
    note = str(form.get("note") or "").strip() or None
    if verb == "assign":
        await client.assign(incident_id, str(form.get("group") or "").strip(), note)
    elif verb == "comment":
        await client.comment(incident_id, note or "")
    else:
        await client.transition(incident_id, verb, note)


def _local(target: str | None) -> str:
    """Only a path on this site is somewhere to go after logging in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"
