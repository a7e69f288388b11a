"""What the domain refuses: each error becomes a typed error reply (``rpc``), an API
error (the gateway) or a CLI message, with its code and the field it names."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; becomes a typed error reply."""

    code: str = "invalid_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class IllegalTransition(DomainError):
    code = "illegal_transition"
