"""Incidents: the fields their messages share."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator

IncidentState = Literal["new", "acknowledged", "on_hold", "resolved", "closed"]
"""``on_hold``: waiting on the caller or a supplier; SLA clocks with a pause condition stop."""
INCIDENT_ID_PATTERN = r"^INC\d{7,}$"


def _link(value: str) -> str:
    if not value.startswith(("https://", "http://")) or len(value) > 2048 \
            or any(c.isspace() for c in value):
        raise ValueError(f"{value[:80]!r} is not an http(s) link")
    return value


Link = Annotated[str, AfterValidator(_link)]
"""An http(s) link."""


def _said(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Said = Annotated[str, AfterValidator(_said)]
"""Text that says something (not only spaces)."""
