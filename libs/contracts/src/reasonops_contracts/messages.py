"""Base classes for the three kinds of message: events, commands and queries."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


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


class Query(BaseModel):
    """A request to read state. Unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    SUBJECT: ClassVar[str]


class View(BaseModel):
    """A read model returned by a query or a command."""

    model_config = ConfigDict(frozen=True, extra="ignore")
