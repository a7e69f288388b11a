"""Base classes for the three kinds of message: events, commands and queries."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

Actor = Annotated[str, Field(max_length=128, description=(
    "Who sends it. The answering service sets it to the principal the request's signed "
    "claim proves; a sender may name only a principal its identity speaks for (ADR 0030)"))]
"""The principal of a command or query: never taken from the payload on trust."""


class Event(BaseModel):
    """Something that happened. Past tense, immutable, versioned by ``TYPE``.

    Readers ignore fields they don't know, so adding a field is not a breaking change.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    SUBJECT: ClassVar[str]


class Command(BaseModel):
    """A request to change state. Imperative; unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    SUBJECT: ClassVar[str]
    PRINCIPAL_FIELD: ClassVar[str] = "actor"
    """The field naming who sends it, set by the answering service (see ``Actor``)."""


class Query(BaseModel):
    """A request to read state. Unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    SUBJECT: ClassVar[str]
    PRINCIPAL_FIELD: ClassVar[str] = "actor"


class View(BaseModel):
    """A read model returned by a query or a command."""

    model_config = ConfigDict(frozen=True, extra="ignore")
