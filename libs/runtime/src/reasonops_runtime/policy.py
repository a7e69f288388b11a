"""Role policy: which principal may run which command or apply which proposal, where.

INTERFACE STUB — the policy issue's work replaces the body; the signatures stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .rpc import DomainError


@dataclass(frozen=True)
class Verdict:
    """The answer to one check; ``reason`` says why, for the error and the audit record."""

    allowed: bool
    principal: str
    action: str
    roles: tuple[str, ...] = ()
    reason: str = ""
    requires_approval: bool = False


class Forbidden(DomainError):
    """A command refused by the role policy: a ``forbidden`` error reply."""

    code = "forbidden"


class Policy:
    """Principals -> roles -> allowed actions, with an optional team/service scope."""

    @classmethod
    def load(cls, path: Path) -> Policy:
        raise NotImplementedError

    @classmethod
    def default(cls) -> Policy:
        return cls()

    def check(self, principal: str, action: str, *, team: str | None = None,
              service: str | None = None) -> Verdict:
        """May ``principal`` do ``action`` (``incident.resolve``, ``proposal.block_source``,
        ``workflow.approve``...) on something owned by ``team`` / ``service``?"""
        return Verdict(True, principal, action, reason="stub: everything allowed")
