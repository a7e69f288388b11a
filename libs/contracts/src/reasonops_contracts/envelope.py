"""The envelope every message on the broker travels in (CloudEvents 1.0 attributes)."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .ids import new_id
from .messages import Event

E = TypeVar("E", bound=Event)

MSG_ID_HEADER = "Nats-Msg-Id"
TYPE_HEADER = "ce-type"


class Envelope(BaseModel):
    """A message with its identity and causal history.

    ``id`` is unique and sortable and doubles as ``Nats-Msg-Id`` for broker-side
    de-duplication; ``correlation_id`` names the monitoring event or workflow that
    started the chain; ``causation_id`` the message that directly caused this one.
    """

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    source: str = Field(min_length=1)
    time: AwareDatetime
    subject: str | None = None
    correlation_id: str
    causation_id: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        source: str,
        subject: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        id: str | None = None,
        time: datetime | None = None,
    ) -> Envelope:
        """Wrap ``event``; without a correlation id the message starts a new chain."""
        message_id = id or new_id()
        return cls(
            id=message_id,
            type=event.TYPE,
            source=source,
            time=time or datetime.now(UTC),
            subject=subject,
            correlation_id=correlation_id or message_id,
            causation_id=causation_id,
            data=event.model_dump(mode="json"),
        )

    def caused(self, event: Event, *, source: str, subject: str | None = None,
               id: str | None = None, time: datetime | None = None) -> Envelope:
        """Wrap ``event`` as a consequence of this message (same correlation, causation = us)."""
        return Envelope.wrap(
            event,
            source=source,
            subject=subject,
            correlation_id=self.correlation_id,
            causation_id=self.id,
            id=id,
            time=time,
        )

    def decode(self, model: builtins.type[E]) -> E:
        """Validate ``data`` as ``model``; raises ``ValueError`` on a type mismatch."""
        if self.type != model.TYPE:
            raise ValueError(f"envelope type {self.type!r} is not {model.TYPE!r}")
        return model.model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)

    def headers(self) -> dict[str, str]:
        """Headers to publish with: broker de-dup id and the type for cheap routing."""
        return {MSG_ID_HEADER: self.id, TYPE_HEADER: self.type}
