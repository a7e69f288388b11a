"""The REST API: FastAPI routers over the services' commands and queries, problem
documents for every error, a body size limit, OpenAPI 3.1 at ``/openapi.json`` and its
pages at ``/docs``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reasonops_contracts.api import ProblemDocument

from . import (
    admin,
    agents,
    changes,
    deadletters,
    errors,
    events,
    finance,
    incidents,
    oncall,
    problems,
    reports,
    service_levels,
    servicenow,
    silences,
    workflows,
)
from .context import Gateway
from .idempotency import Idempotency

TITLE = "ReasonOps API"
VERSION = "1"
DESCRIPTION = """\
Incidents, problems, silences, service levels, finance, workflows and agents over HTTP.

Authenticate with an API token (`reasonops tokens create`) as `Authorization: Bearer
<token>`. Every request acts for the token's person: the role policy decides what it may
read and do, and refusals are on record. Errors are RFC 9457 problem documents naming the
field at fault; `429` and `503` carry `Retry-After`. Lists page with `cursor` /
`next_cursor` and report their `total`.

Send a command again safely with the same `Idempotency-Key` header (any 1-255 visible
ASCII characters, e.g. a UUID): it is applied once, and a repeat within 24 hours gets the
first answer again (`Idempotent-Replayed: true`), whichever gateway replica it reaches.
"""


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": ProblemDocument,
            "content": {errors.MEDIA_TYPE: {"schema": {
                "$ref": "#/components/schemas/ProblemDocument"}}}}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("A bad cursor"), 401: _problem("No token, or an unknown, revoked or "
                                                 "expired one"),
    403: _problem("The role policy refuses it (on record)"), 404: _problem("No such thing"),
    409: _problem("Its state does not allow it"), 413: _problem("The body is over the limit"),
    422: _problem("A field is missing, of the wrong type or out of range"),
    429: _problem("Over the token's rate; retry after Retry-After seconds"),
    503: _problem("A service or the broker did not answer; retry after Retry-After seconds"),
}
"""Every operation may answer with these problem documents."""


def build_api(gateway: Gateway | None = None, *, max_body_bytes: int = 1 << 20) -> FastAPI:
    """The API app; ``gateway`` may be None to render the OpenAPI document alone."""
    app = FastAPI(title=TITLE, version=VERSION, description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.gateway = gateway
    for module in (incidents, problems, silences, service_levels, finance, workflows, agents,
                   reports, events, admin, deadletters, oncall, servicenow, changes):
        app.include_router(module.router, responses=PROBLEMS)
    errors.install(app)
    app.add_middleware(Idempotency, gateway=gateway)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    return app


class BodyLimit:
    """413 (a problem document) for a body over ``limit`` bytes, by its Content-Length or
    as it streams in; nothing of it reaches a route."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = ProblemDocument(
            type="urn:reasonops:problem:body_too_large", title="Body too large", status=413,
            detail=f"body: over the limit of {self.limit} bytes",
            instance=scope.get("path"), field="body").model_dump_json(exclude_none=True)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", errors.MEDIA_TYPE.encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body.encode()})


class _TooLarge(Exception):
    pass
