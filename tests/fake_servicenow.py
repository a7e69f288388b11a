"""A small ServiceNow instance for tests and the benchmark, speaking the Table API as the
sync uses it: ``/api/now/table/{table}`` (GET with ``sysparm_query``, ``sysparm_fields``,
``sysparm_limit``, ``sysparm_offset``, answering ``X-Total-Count`` and a ``Link`` header;
POST; GET, PATCH and PUT of ``/{sys_id}``), ``/oauth_token.do`` (client credentials),
basic or bearer authentication (401), an ACL refusal (403), rate limiting (429 with
``Retry-After``), 32-hex ``sys_id``s, ``sys_mod_count``, ``sys_updated_on``/``_by``,
priority from impact and urgency, journal fields (``work_notes``) kept in
``sys_journal_field``, and the data policy that a resolved or closed incident has a
resolution code and notes."""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_runtime.http import HttpServer

USER, PASSWORD = "reasonops.integration", "sn-test-password"
CLIENT_ID, CLIENT_SECRET = "0123456789abcdef0123456789abcdef", "sn-client-secret"
JOURNAL_FIELDS = ("work_notes", "comments")
PRIORITY = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3, (2, 3): 4,
            (3, 2): 4, (3, 3): 5}


def _error(status: int, message: str, detail: str = "") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "detail": detail},
                         "status": "failure"}, status_code=status)


class FakeServiceNow:
    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {"incident": {},
                                                              "sys_journal_field": {}}
        self.requests: list[tuple[str, str, str]] = []
        """(method, path, the user it was authenticated as) of every request."""
        self.limited = 0
        """The next this many requests are answered 429."""
        self.retry_after = "1"
        self.hold: asyncio.Event | None = None
        """When set to an unset event: the next record created is kept, but its answer
        waits for the event (``holding`` is set meanwhile), as when the caller dies."""
        self.holding = asyncio.Event()
        self.lose_next = 0
        """The next this many records created are answered 502 (the answer lost)."""
        self.forbidden: set[str] = set()
        """Fields whose write the integration user's ACLs refuse (403)."""
        self.tokens: dict[str, float] = {}
        self.clock = clock or (lambda: datetime.now(UTC))
        self.latency = 0.0
        """Seconds each answer takes (a real instance takes tens to hundreds of ms)."""
        self.created_at: dict[str, float] = {}
        """correlation_id -> when its record was created (``time.time()``)."""
        self.sent_at: list[float] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._numbers = 10000
        self._tick = 0
        self.server = HttpServer(Starlette(routes=[
            Route("/oauth_token.do", self.token, methods=["POST"]),
            Route("/api/now/table/{table}", self._timed(self.collection),
                  methods=["GET", "POST"]),
            Route("/api/now/table/{table}/{sys_id}", self._timed(self.record),
                  methods=["GET", "PATCH", "PUT", "DELETE"]),
        ]), "127.0.0.1", 0)
        self.port = 0

    async def start(self) -> FakeServiceNow:
        self.port = self.server.bind()
        await self.server.start()
        return self

    async def stop(self) -> None:
        await self.server.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what a person does in ServiceNow's UI -------------------------------------------
    def update_as(self, user: str, sys_id: str, values: dict[str, str]) -> dict[str, Any]:
        return self._write("incident", self.tables["incident"][sys_id], values, user)

    def incidents(self) -> list[dict[str, Any]]:
        return list(self.tables["incident"].values())

    def notes(self, sys_id: str) -> list[dict[str, Any]]:
        return sorted((j for j in self.tables["sys_journal_field"].values()
                       if j["element_id"] == sys_id and j["element"] == "work_notes"),
                      key=lambda j: j["sys_created_on"])

    def writes(self, method: str = "PATCH") -> int:
        return sum(1 for m, path, _ in self.requests
                   if m == method and path.startswith("/api/now/table/incident"))

    def _timed(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def timed(request: Request) -> Response:
            self.sent_at.append(time.time())
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
                response: Response = await handler(request)
                return response
            finally:
                self.in_flight -= 1
        return timed

    # -- the API ------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        form = await request.form()
        if form.get("grant_type") != "client_credentials" or \
                form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse({"error": "access_denied",
                                 "error_description": "access_denied"}, status_code=401)
        token = secrets.token_hex(16)
        self.tokens[token] = time.monotonic() + 1799
        return JSONResponse({"access_token": token, "token_type": "Bearer",
                             "expires_in": 1799, "scope": "useraccount"})

    def _authenticated(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            if header == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode():
                return USER
            return None
        if header.startswith("Bearer "):
            until = self.tokens.get(header[7:])
            return f"oauth.{CLIENT_ID[:6]}" if until and until > time.monotonic() else None
        return None

    def _gate(self, request: Request) -> tuple[str | None, Response | None]:
        user = self._authenticated(request)
        self.requests.append((request.method, request.url.path, user or "-"))
        if user is None:
            return None, _error(401, "User Not Authenticated",
                                "Required to provide Auth information")
        if self.limited > 0:
            self.limited -= 1
            return None, JSONResponse(
                {"error": {"message": "Too many requests", "detail":
                           "Rate limit exceeded for this user"}, "status": "failure"},
                status_code=429, headers={"Retry-After": self.retry_after,
                                          "X-RateLimit-Limit": "100"})
        return user, None

    async def collection(self, request: Request) -> Response:
        user, refused = self._gate(request)
        if refused is not None:
            return refused
        table = self.tables.setdefault(request.path_params["table"], {})
        if request.method == "POST":
            body = await request.json()
            refused = self._refused(body)
            if refused is not None:
                return refused
            record = self._write(request.path_params["table"], {}, body, str(user))
            if record.get("correlation_id"):
                self.created_at.setdefault(record["correlation_id"], time.time())
            if self.hold is not None and not self.hold.is_set():
                self.holding.set()
                await self.hold.wait()
            if self.lose_next > 0:
                self.lose_next -= 1
                return _error(502, "Bad Gateway", "the answer did not reach the caller")
            return JSONResponse({"result": self._fields(record, request)}, status_code=201,
                                headers={"Location": f"{self.url}{request.url.path}/"
                                                     f"{record['sys_id']}"})
        params = request.query_params
        matched = _select(list(table.values()), params.get("sysparm_query", ""))
        offset = int(params.get("sysparm_offset", "0"))
        limit = int(params.get("sysparm_limit", "10000"))
        page = matched[offset:offset + limit]
        headers = {"X-Total-Count": str(len(matched))}
        if offset + limit < len(matched):
            headers["Link"] = (f'<{self.url}{request.url.path}?sysparm_offset='
                               f'{offset + limit}&sysparm_limit={limit}>;rel="next"')
        return JSONResponse({"result": [self._fields(r, request) for r in page]},
                            headers=headers)

    async def record(self, request: Request) -> Response:
        user, refused = self._gate(request)
        if refused is not None:
            return refused
        table = self.tables.setdefault(request.path_params["table"], {})
        found = table.get(request.path_params["sys_id"])
        if found is None:
            return _error(404, "No Record found",
                          "Record doesn't exist or ACL restricts the record retrieval")
        if request.method == "GET":
            return JSONResponse({"result": self._fields(found, request)})
        if request.method == "DELETE":
            del table[found["sys_id"]]
            return Response(status_code=204)
        body = await request.json()
        refused = self._refused(body, found)
        if refused is not None:
            return refused
        record = self._write(request.path_params["table"], found, body, str(user))
        return JSONResponse({"result": self._fields(record, request)})

    def _refused(self, body: dict[str, Any], current: dict[str, Any] | None = None
                 ) -> Response | None:
        if not isinstance(body, dict):
            return _error(400, "Invalid request body", "expected a JSON object")
        for name in body:
            if name in self.forbidden:
                return _error(403, "Operation Failed",
                              f"ACL Exception Update Failed due to security constraints: "
                              f"{name}")
        merged = {**(current or {}), **body}
        if str(merged.get("state")) in ("6", "7"):
            missing = [f for f in ("close_code", "close_notes") if not merged.get(f)]
            if missing:
                return _error(403, "Operation Failed", "Data Policy Exception: The following "
                              f"fields are mandatory: {', '.join(missing)}")
        return None

    def _write(self, table_name: str, record: dict[str, Any], values: dict[str, Any],
               user: str) -> dict[str, Any]:
        table = self.tables.setdefault(table_name, {})
        now = self._now()
        if not record:
            record.update(sys_id=secrets.token_hex(16), sys_created_on=now,
                          sys_created_by=user, sys_mod_count=-1)
            if table_name == "incident":
                self._numbers += 1
                record.update(number=f"INC{self._numbers:07d}", state="1", impact="3",
                              urgency="3")
            table[record["sys_id"]] = record
        for name, value in values.items():
            if name in JOURNAL_FIELDS and table_name == "incident":
                if str(value).strip():
                    entry = self._write("sys_journal_field", {}, {
                        "element_id": record["sys_id"], "element": name, "name": "incident",
                        "value": str(value)}, user)
                    entry["sys_mod_count"] = 0
                continue
            if name not in ("sys_id", "number", "sys_mod_count", "sys_updated_on"):
                record[name] = "" if value is None else str(value)
        if table_name == "incident":
            record["priority"] = str(PRIORITY.get(
                (int(record.get("impact") or 3), int(record.get("urgency") or 3)), 5))
        record.update(sys_mod_count=int(record["sys_mod_count"]) + 1, sys_updated_on=now,
                      sys_updated_by=user)
        return record

    def _now(self) -> str:
        """``sys_updated_on``: whole seconds, as ServiceNow keeps it (ties happen)."""
        return self.clock().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

    def _fields(self, record: dict[str, Any], request: Request) -> dict[str, Any]:
        wanted = request.query_params.get("sysparm_fields")
        shown: dict[str, Any] = {k: str(v) for k, v in record.items()
                                 if k not in JOURNAL_FIELDS}
        if request.query_params.get("sysparm_exclude_reference_link") != "true" and \
                shown.get("assignment_group"):
            shown["assignment_group"] = {"link": f"{self.url}/api/now/table/sys_user_group/"
                                                 f"{shown['assignment_group']}",
                                         "value": shown["assignment_group"]}
        if wanted:
            return {k: shown.get(k, "") for k in wanted.split(",")}
        return shown


def _select(records: list[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    """An encoded query of ``^``-joined conditions (=, !=, >=, >, <=, <, STARTSWITH,
    LIKE) and ``ORDERBY``/``ORDERBYDESC``."""
    order: list[tuple[str, bool]] = []
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for part in filter(None, query.split("^")):
        if part.startswith("ORDERBYDESC"):
            order.append((part[11:], True))
            continue
        if part.startswith("ORDERBY"):
            order.append((part[7:], False))
            continue
        for op in ("STARTSWITH", "LIKE", "!=", ">=", "<=", "=", ">", "<"):
            if op in part:
                name, value = part.split(op, 1)
                tests.append(_test(name, op, value))
                break
        else:
            raise ValueError(f"cannot read condition {part!r}")
    found = [r for r in records if all(t(r) for t in tests)]
    for name, descending in reversed(order):
        found.sort(key=lambda r: _key(r.get(name, "")), reverse=descending)
    return found


def _key(value: Any) -> Any:
    text = str(value)
    return (0, int(text), "") if text.lstrip("-").isdigit() else (1, 0, text)


def _test(name: str, op: str, value: str) -> Callable[[dict[str, Any]], bool]:
    def test(record: dict[str, Any]) -> bool:
        have = str(record.get(name, ""))
        if op == "=":
            return have == value
        if op == "!=":
            return have != value
        if op == "STARTSWITH":
            return have.startswith(value)
        if op == "LIKE":
            return value in have
        a, b = _key(have), _key(value)
        return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]
    return test
