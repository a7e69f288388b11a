"""Errors as RFC 9457 problem documents (``application/problem+json``).

Every refusal names the problem and, where one is to blame, the field: a body or query
parameter that does not validate (422), a bad cursor (400), a missing or bad token
(401), a refusal by the role policy (403), an unknown id (404), a state that does not
allow it (409), a body over the limit (413), too many requests (429, ``Retry-After``),
and a service or broker that does not answer (503, ``Retry-After``), never a hang.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from reasonops_contracts import ErrorDetail
from reasonops_contracts.api import FieldProblem, ProblemDocument
from reasonops_runtime.client import Unanswered

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 2

_STATUS_OF_CODE = {"invalid_request": 422, "not_found": 404, "illegal_transition": 409,
                   "conflict": 409, "forbidden": 403, "internal": 502}
_TITLES = {400: "Bad request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Body too large",
           415: "Unsupported media type", 422: "Invalid request", 429: "Too many requests",
           500: "Internal error", 502: "Bad gateway", 503: "Service unavailable"}


class Problem(Exception):
    """Raised anywhere in a request to answer with a problem document."""

    def __init__(self, status: int, code: str, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None,
                 errors: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = headers or {}
        self.errors = errors or []
        self.located = True
        """False for a service's field name, placed (query, path or body) when answered."""

    @classmethod
    def of_reply(cls, detail: ErrorDetail) -> Problem:
        """The problem for a service's typed error reply."""
        status = _STATUS_OF_CODE.get(detail.code, 502)
        field = None if detail.code == "forbidden" else detail.field
        problem = cls(status, detail.code, detail.message, field=field)
        problem.located = field is None
        return problem

    @classmethod
    def unavailable(cls, exc: Unanswered) -> Problem:
        return cls(503, "unavailable", exc.detail.message,
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def document(request: Request, problem: Problem) -> JSONResponse:
    if not problem.located and problem.field:
        problem.field = _located(request, tuple(problem.field.split(".")))
        problem.located = True
    body = ProblemDocument(type=f"urn:reasonops:problem:{problem.code}",
                           title=_TITLES.get(problem.status, "Error"), status=problem.status,
                           detail=problem.detail, instance=request.url.path,
                           field=problem.field, errors=problem.errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=problem.status,
                        headers=problem.headers, media_type=MEDIA_TYPE)


def _where(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


def _located(request: Request, location: tuple[Any, ...]) -> str:
    """``query.x``, ``path.x`` or ``body.x`` for a contract field named in a request."""
    name = str(location[0]) if location else "body"
    where = ("query" if name in request.query_params else
             "path" if name in request.path_params else "body")
    return ".".join([where, *map(str, location)])


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem document."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return document(request, exc)

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [FieldProblem(field=_where(e["loc"]), problem=e["msg"]) for e in exc.errors()]
        first = errors[0] if errors else FieldProblem(field="body", problem="invalid")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return document(request, Problem(422, "invalid_request",
                                         f"{first.field}: {first.problem}{more}",
                                         field=first.field, errors=errors))

    async def on_message(request: Request, exc: Exception) -> JSONResponse:
        """A parameter that passed the route's checks but not the contract's own (a
        pattern, a range): the same 422, naming where it came from."""
        assert isinstance(exc, ValidationError)
        errors = [FieldProblem(field=_located(request, e["loc"]), problem=e["msg"])
                  for e in exc.errors()]
        first = errors[0]
        return document(request, Problem(422, "invalid_request",
                                         f"{first.field}: {first.problem}",
                                         field=first.field, errors=errors))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code,
                                                                            "Error")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return document(request, Problem(exc.status_code, code, detail,
                                          headers=dict(exc.headers or {})))

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed", extra={"path": request.url.path})
        return document(request, Problem(500, "internal", "the gateway failed to answer; "
                                         "the failure is in its log"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(ValidationError, on_message)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
