"""Carrying a call out: the URL and token, retries on 429 and 503 as ``Retry-After``
says (and on connection errors: a command carries its ``Idempotency-Key``, so it is
applied once however often it is sent), and the answer parsed into its model, or an
``ApiError`` with the problem document."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from reasonops_contracts.api import MonthlySummary, ProblemDocument

from .calls import DEFAULT_URL, Call
from .errors import ApiError, TransportError

T = TypeVar("T")
RETRIED = frozenset({429, 503})


@dataclass(frozen=True)
class Settings:
    url: str
    token: str | None
    timeout: float
    retries: int
    max_wait: float

    @classmethod
    def of(cls, url: str | None, token: str | None, timeout: float, retries: int,
           max_wait: float) -> Settings:
        """Arguments first, then ``REASONOPS_URL`` and ``REASONOPS_TOKEN``."""
        return cls(url=(url or os.environ.get("REASONOPS_URL") or DEFAULT_URL).rstrip("/"),
                   token=token or os.environ.get("REASONOPS_TOKEN") or None,
                   timeout=timeout, retries=retries, max_wait=max_wait)

    def headers(self) -> dict[str, str]:
        found = {"Accept": "application/json", "User-Agent": "reasonops-sdk/0.1"}
        if self.token:
            found["Authorization"] = f"Bearer {self.token}"
        return found


def request_of(call: Call[Any]) -> dict[str, Any]:
    """The keyword arguments of ``httpx.Client.request`` for ``call``."""
    found: dict[str, Any] = {"method": call.method, "url": call.path, "params": call.query()}
    if call.body is not None:
        found["json"] = call.body
    if call.key is not None:
        found["headers"] = {"Idempotency-Key": call.key}
    return found


def wait_before_retry(settings: Settings, call: Call[Any], attempt: int,
                      response: httpx.Response | None) -> float | None:
    """Seconds to wait before trying ``call`` again, or None to stop: a 429 or 503 (after
    its ``Retry-After``), or no answer at all for a call safe to repeat."""
    if attempt >= settings.retries:
        return None
    if response is None:
        return min(settings.max_wait, 0.5 * 2 ** attempt) if call.idempotent else None
    if response.status_code not in RETRIED:
        return None
    header = response.headers.get("Retry-After", "")
    try:
        wait = float(header)
    except ValueError:
        wait = 1.0 * 2 ** attempt
    return min(settings.max_wait, max(0.0, wait))


def parse(call: Call[T], response: httpx.Response) -> T:
    if response.status_code >= 400:
        try:
            problem = ProblemDocument.model_validate_json(response.content)
        except ValidationError:
            problem = ProblemDocument(type="about:blank", title=response.reason_phrase,
                                      status=response.status_code,
                                      detail=response.text[:500] or response.reason_phrase)
        raise ApiError(response.status_code, problem)
    return call.result.validate_json(response.content)


def unreachable(settings: Settings, exc: Exception) -> TransportError:
    return TransportError(f"cannot reach ReasonOps at {settings.url} ({exc.__class__.__name__}"
                          f"); is the gateway running, and REASONOPS_URL right?")


PAGE = 500
"""Page size of the iterators."""


def write_summary(summary: MonthlySummary, out_file: str | Path | None) -> None:
    """Write the summary as JSON, creating the folder."""
    if out_file is None:
        return
    path = Path(out_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary.model_dump(mode="json"), indent=2) + "\n")


def filters_of(**found: Any) -> dict[str, Any]:
    return {k: v for k, v in found.items() if v is not None}
