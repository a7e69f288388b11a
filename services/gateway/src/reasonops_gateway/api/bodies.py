"""Request bodies made from the contracts' commands: the same fields, types, limits and
descriptions, less the principal (taken from the token, never from a client) and what
the path already names (an incident's id)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from reasonops_contracts import Command


def body_of(command: type[Command], *, without: tuple[str, ...] = (),
            name: str | None = None) -> type[BaseModel]:
    """A body model of ``command``'s fields but its principal and ``without``; unknown
    fields are refused, as the command refuses them."""
    dropped = {command.PRINCIPAL_FIELD, *without}
    fields: dict[str, Any] = {n: (f.annotation, f) for n, f in command.model_fields.items()
                              if n not in dropped}
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        name or f"{command.__name__}Body", __config__=ConfigDict(extra="forbid"),
        __doc__=command.__doc__, **fields)
    return model
