"""Base classes for the three kinds of message: events, commands and queries."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

Actor = Annotated[str, Field(max_length=128, description=(
    "Who sends it. The answering service sets it to the principal the request's signed "
    "claim proves; a sender may name only a principal its identity speaks for (ADR 0030)"))]
"""The principal of a command or query: never taken from the payload on trust."""


class Event(BaseModel):
    """Something that happened. Past tense, immutable, versioned by ``TYPE``.

    Readers ignore fields they don't know, so adding a field is not a breaking change.
    A model declares its ``SUBJECT`` (from ``subjects``) and, after a breaking change,
    a higher ``VERSION``; its ``TYPE`` is ``<SUBJECT>.v<VERSION>``, so the two cannot
    disagree. Only an event published on a subject pattern (a dead letter goes to the
    subject of what died) declares its ``TYPE``.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    SUBJECT: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        subject = cls.__dict__.get("SUBJECT")
        if subject is None:
            return
        declared = cls.__dict__.get("TYPE")
        if "*" in subject or ">" in subject:
            if declared is None:
                raise TypeError(f"{cls.__name__} is published on the pattern {subject!r}: "
                                "it declares its TYPE")
            return
        derived = f"{subject}.v{cls.VERSION}"
        if declared is not None and declared != derived:
            raise TypeError(f"{cls.__name__}: TYPE {declared!r} disagrees with its SUBJECT; "
                            f"it is {derived!r}, derived (leave TYPE out)")
        cls.TYPE = derived


class Command(BaseModel):
    """A request to change state. Imperative; unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    SUBJECT: ClassVar[str]
    PRINCIPAL_FIELD: ClassVar[str] = "actor"
    """The field naming who sends it, set by the answering service (see ``Actor``)."""

    def destination(self) -> str:
        """The subject this command is sent to: ``SUBJECT``, or where that is a pattern
        (a command to one service of many), the subject it names."""
        return self.SUBJECT


class Query(BaseModel):
    """A request to read state. Unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    SUBJECT: ClassVar[str]
    PRINCIPAL_FIELD: ClassVar[str] = "actor"


class View(BaseModel):
    """A read model returned by a query or a command."""

    model_config = ConfigDict(frozen=True, extra="ignore")
