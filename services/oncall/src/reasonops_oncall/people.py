"""The people on call: their contacts and how each wants to be reached when paged.
Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class Contact:
    kind: str
    address: str


@dataclass(frozen=True)
class Rule:
    """Notify by ``contact`` (a kind of contact) ``after`` the person is paged."""

    contact: str
    after: timedelta = timedelta(0)


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    time_zone: str
    contacts: tuple[Contact, ...] = ()
    rules: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    """By urgency (high, low); a missing one: ``default_rules``."""

    def rules_for(self, urgency: str) -> tuple[Rule, ...]:
        """What to do when paged: the person's rules, else every contact at once (high)
        or the first e-mail, else the first contact (low)."""
        if urgency in self.rules:
            return self.rules[urgency]
        if urgency == "high":
            return tuple(Rule(kind) for kind in dict.fromkeys(c.kind for c in self.contacts))
        kinds = [c.kind for c in self.contacts]
        first = "email" if "email" in kinds else (kinds[0] if kinds else None)
        return (Rule(first),) if first else ()

    def address(self, kind: str) -> str | None:
        return next((c.address for c in self.contacts if c.kind == kind), None)
