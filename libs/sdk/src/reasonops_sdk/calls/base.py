"""A call of the REST API as data: method, path, query, body and the model of the answer.

Every command (``POST``, ``PUT``, ``PATCH``, ``DELETE``) carries an ``Idempotency-Key`` of
its own, the same on every retry, so retrying one whose answer was lost applies it once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote
from uuid import uuid4

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    result: TypeAdapter[T]
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    key: str | None = None
    """The command's ``Idempotency-Key`` (None for a read)."""

    @property
    def idempotent(self) -> bool:
        """Safe to send again: a read, or a command with its key."""
        return self.method in ("GET", "HEAD") or self.key is not None

    def query(self) -> list[tuple[str, str]]:
        """Query parameters without the unset ones; lists repeat their name."""
        found: list[tuple[str, str]] = []
        for name, value in self.params.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                if item is None:
                    continue
                text = (item.isoformat() if isinstance(item, datetime) else
                        str(item).lower() if isinstance(item, bool) else str(item))
                found.append((name, text))
        return found


def call(method: str, path: str, result: Any, *, body: dict[str, Any] | None = None,
         **params: Any) -> Call[Any]:
    key = None if method in ("GET", "HEAD") else str(uuid4())
    return Call(method, path, TypeAdapter(result), params, body, key)


def quoted(value: str) -> str:
    return quote(value, safe="")


def json_body(**fields: Any) -> dict[str, Any]:
    """The fields given, as JSON carries them (a datetime as ISO 8601, a Decimal as
    text, a model as its fields)."""
    found: dict[str, Any] = to_jsonable_python({k: v for k, v in fields.items()
                                                if v is not None})
    return found
