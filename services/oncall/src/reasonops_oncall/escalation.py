"""Escalation policies: whom an incident pages, level by level; and whom a major
incident pages at once. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .people import Contact


@dataclass(frozen=True)
class Target:
    kind: str
    """schedule, user or team"""
    name: str


@dataclass(frozen=True)
class Level:
    after: timedelta
    """Since the level before (the first: 0)."""
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class EscalationPolicy:
    name: str
    team: str | None
    services: tuple[str, ...]
    repeat: int
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Major:
    """Who a major incident pages at once (the incident commanders), and where it is
    announced (stakeholders' channels)."""

    targets: tuple[Target, ...]
    announce: tuple[Contact, ...] = ()
