"""ServiceNow's Table API (``/api/now/table/<table>``), as the sync uses it: read records by
encoded query (``sysparm_query``, ``sysparm_fields``, ``sysparm_limit``/``offset``),
create (POST) and update (PATCH) one, with basic or OAuth client-credentials
authentication.

ServiceNow's limits are honoured: at most ``per_second`` requests leave, a 429 or 503
waits for its ``Retry-After`` (a short one here; a long one is handed back as
``Unavailable`` so the caller tries again later without holding anything), other 5xx and
lost connections back off exponentially. Credentials never appear in errors or logs.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)

INCIDENT = "incident"
JOURNAL = "sys_journal_field"
RECORD_FIELDS = ("sys_id", "number", "sys_mod_count", "sys_updated_on", "sys_updated_by",
                 "correlation_id")
"""What the sync reads of every record besides the mapped fields."""
RETRY_IN_PLACE = 2.0
"""A Retry-After up to this many seconds is waited out in place; a longer one is handed
back as ``Unavailable``."""
ATTEMPTS = 4


def mod_count(record: dict[str, Any]) -> int:
    """A record's ``sys_mod_count`` (0 when it does not say)."""
    try:
        return int(record.get("sys_mod_count") or 0)
    except ValueError:
        return 0


class TableError(Exception):
    """ServiceNow refused a request (4xx other than 429): its status and message, and
    the field it names, when it names one of those sent."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(f"ServiceNow answered {status}: {message}")
        self.status = status
        self.message = message
        self.field = field


class Unavailable(Exception):
    """ServiceNow cannot take requests now (rate limited, down, unreachable): try again
    after ``retry_after`` seconds."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Credentials:
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        if self.client_id and self.client_secret:
            return "oauth"
        return "basic" if self.user and self.password else "none"


class TableClient:
    def __init__(self, base_url: str, credentials: Credentials, *, per_second: float = 20.0,
                 timeout: float = 10.0, counted: Callable[[str], None] | None = None
                 ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout,
                                      headers={"Accept": "application/json"})
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next_slot = 0.0
        self._slot_lock = asyncio.Lock()
        self._token: str | None = None
        self._token_until = 0.0
        self.closed_until = 0.0
        """Monotonic time before which ServiceNow asked not to be called (Retry-After)."""
        self.counted = counted or (lambda method: None)
        """Told the method of each request sent (the metrics)."""

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- the calls --------------------------------------------------------------------
    async def query(self, table: str, query: str, fields: list[str], *,
                    limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """One page of records matching ``query``, and ``X-Total-Count``."""
        response = await self._send("GET", f"/api/now/table/{table}", params={
            "sysparm_query": query, "sysparm_fields": ",".join(fields),
            "sysparm_limit": str(limit), "sysparm_offset": str(offset),
            "sysparm_exclude_reference_link": "true"})
        body = response.json()
        records = body.get("result") or []
        total = int(response.headers.get("X-Total-Count", len(records)))
        return [_flat(r) for r in records], total

    async def get(self, table: str, sys_id: str, fields: list[str]) -> dict[str, Any] | None:
        try:
            response = await self._send("GET", f"/api/now/table/{table}/{sys_id}", params={
                "sysparm_fields": ",".join(fields), "sysparm_exclude_reference_link": "true"})
        except TableError as exc:
            if exc.status == 404:
                return None
            raise
        return _flat(response.json().get("result") or {})

    async def create(self, table: str, values: dict[str, str]) -> dict[str, Any]:
        """Not repeated on an answer that may hide a done request (a 5xx, a lost
        connection): ``Unavailable``, and the caller looks for the record first."""
        response = await self._send("POST", f"/api/now/table/{table}", json=values, params={
            "sysparm_exclude_reference_link": "true"}, idempotent=False)
        return _flat(response.json()["result"])

    async def update(self, table: str, sys_id: str, values: dict[str, str], *,
                     idempotent: bool = True) -> dict[str, Any]:
        """``idempotent``: False when ``values`` append (a journal field such as
        ``work_notes``): then treated as ``create`` is."""
        response = await self._send("PATCH", f"/api/now/table/{table}/{sys_id}", json=values,
                                    params={"sysparm_exclude_reference_link": "true"},
                                    idempotent=idempotent)
        return _flat(response.json()["result"])

    async def journal(self, sys_id: str) -> list[dict[str, Any]]:
        """The record's work notes, oldest first (``sys_journal_field``)."""
        records, _ = await self.query(
            JOURNAL, f"element_id={sys_id}^element=work_notes^ORDERBYsys_created_on",
            ["sys_id", "value", "sys_created_by", "sys_created_on"], limit=200)
        return records

    # -- sending ------------------------------------------------------------------------
    async def _send(self, method: str, path: str, *, params: dict[str, str] | None = None,
                    json: dict[str, str] | None = None, idempotent: bool = True
                    ) -> httpx.Response:
        """The answer, after waiting out short rate limits and, for a request that may be
        repeated, short outages; ``Unavailable`` or ``TableError`` otherwise."""
        wait = self.closed_until - time.monotonic()
        if wait > 0:
            raise Unavailable(f"ServiceNow asked to wait {wait:.1f}s more", wait)
        refreshed = False
        for attempt in range(ATTEMPTS):
            await self._pace()
            try:
                headers = await self._auth_headers()
                self.counted(method)
                response = await self.http.request(method, path, params=params, json=json,
                                                   headers=headers)
            except httpx.TransportError as exc:
                delay = 0.25 * 2 ** attempt
                if attempt == ATTEMPTS - 1 or not idempotent:
                    raise Unavailable(f"ServiceNow unreachable: {type(exc).__name__}",
                                      30.0) from None
                await asyncio.sleep(delay)
                continue
            if response.status_code < 400:
                return response
            if response.status_code == 401 and self.credentials.kind == "oauth" \
                    and not refreshed:
                self._token, refreshed = None, True  # expired early, or revoked: once more
                continue
            if response.status_code == 429 or response.status_code >= 500:
                # A 429 was not carried out; a 5xx may have been.
                delay = _retry_after(response, 0.5 * 2 ** attempt)
                if delay > RETRY_IN_PLACE or attempt == ATTEMPTS - 1 or (
                        response.status_code != 429 and not idempotent):
                    self.closed_until = time.monotonic() + delay
                    raise Unavailable(f"ServiceNow answered {response.status_code}", delay)
                await asyncio.sleep(delay)
                continue
            raise TableError(response.status_code, _message(response),
                             _field_named(response, json))
        raise AssertionError("unreachable")

    async def _pace(self) -> None:
        """At most one request per ``interval``, across every caller of this client."""
        if not self.interval:
            return
        async with self._slot_lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _auth_headers(self) -> dict[str, str]:
        creds = self.credentials
        if creds.kind == "basic":
            pair = f"{creds.user}:{creds.password}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
        if creds.kind != "oauth":
            return {}
        if self._token is None or time.monotonic() >= self._token_until:
            self.counted("POST")
            response = await self.http.post("/oauth_token.do", data={
                "grant_type": "client_credentials", "client_id": creds.client_id,
                "client_secret": creds.client_secret})
            if response.status_code != 200:
                raise TableError(response.status_code, "OAuth token refused: "
                                 + _message(response))
            body = response.json()
            self._token = str(body["access_token"])
            self._token_until = time.monotonic() + max(30.0, float(
                body.get("expires_in", 1800)) - 60.0)
        return {"Authorization": f"Bearer {self._token}"}


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A reference field read with its link (``{"value": ..., "link": ...}``) as its
    value."""
    return {k: (v.get("value", "") if isinstance(v, dict) else v) for k, v in record.items()}


def _retry_after(response: httpx.Response, fallback: float) -> float:
    value = response.headers.get("Retry-After")
    try:
        return min(3600.0, max(0.0, float(value))) if value is not None else fallback
    except ValueError:
        return fallback


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return response.text[:200] or response.reason_phrase
    parts = [str(error.get("message") or ""), str(error.get("detail") or "")]
    return ": ".join(p for p in parts if p) or response.reason_phrase


def _field_named(response: httpx.Response, sent: dict[str, str] | None) -> str | None:
    text = _message(response)
    for name in sent or {}:
        if name in text:
            return name
    return None
