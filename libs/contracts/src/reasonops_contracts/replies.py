"""Replies to commands and queries: a typed result, or a typed error."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

ErrorCode = Literal[
    "invalid_request",
    "not_found",
    "illegal_transition",
    "conflict",
    "forbidden",
    "internal",
]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: ErrorCode
    message: str
    field: str | None = None


class Reply(BaseModel):
    """Wire shape of every command and query reply."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    result: dict[str, Any] | None = None
    error: ErrorDetail | None = None

    @classmethod
    def success(cls, result: BaseModel) -> Reply:
        return cls(ok=True, result=result.model_dump(mode="json"))

    @classmethod
    def failure(cls, code: ErrorCode, message: str, field: str | None = None) -> Reply:
        return cls(ok=False, error=ErrorDetail(code=code, message=message, field=field))


class ReplyError(Exception):
    """Raised by clients when a command or query was answered with an error."""

    def __init__(self, detail: ErrorDetail) -> None:
        super().__init__(f"{detail.code}: {detail.message}")
        self.detail = detail
