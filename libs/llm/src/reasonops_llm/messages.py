"""What a provider is asked and what it answers, independent of any wire format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class CompletionRequest:
    """One structured-output call: the reply must be JSON matching ``schema``."""

    system: str
    messages: tuple[ChatMessage, ...]
    schema: dict[str, Any]
    schema_name: str
    max_tokens: int = 1024
    temperature: float = 0.0

    def texts(self) -> list[str]:
        return [self.system, *(m.content for m in self.messages)]


@dataclass(frozen=True)
class Completion:
    """The provider's reply: JSON text (or an already-decoded object for tool calls)."""

    text: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str
    models: tuple[str, ...] = field(default=())
