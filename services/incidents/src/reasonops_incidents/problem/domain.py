"""A problem and its states: new -> investigating -> known_error (with a workaround) ->
resolved. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# state -> states it may move to
PROBLEM_TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"investigating", "known_error", "resolved"}),
    "investigating": frozenset({"known_error", "resolved"}),
    "known_error": frozenset({"investigating", "resolved"}),
    "resolved": frozenset({"investigating"}),
}


class ProblemError(ValueError):
    def __init__(self, message: str, field_: str) -> None:
        super().__init__(message)
        self.field = field_


@dataclass
class Problem:
    problem_id: str
    title: str
    group_key: str
    service: str | None
    state: str
    opened_at: datetime
    updated_at: datetime
    workaround: str | None = None
    resolved_at: datetime | None = None
    history: list[dict[str, str]] = field(default_factory=list)

    def move(self, state: str, *, at: datetime, actor: str, workaround: str | None,
             note: str | None) -> str:
        """Change state or raise ``ProblemError``; returns the previous state."""
        if state == self.state and workaround is None:
            raise ProblemError(f"{self.problem_id} is already {state}", "state")
        if state != self.state and state not in PROBLEM_TRANSITIONS[self.state]:
            allowed = ", ".join(sorted(PROBLEM_TRANSITIONS[self.state]))
            raise ProblemError(f"cannot move {self.problem_id} from {self.state} to {state} "
                               f"(allowed: {allowed})", "state")
        if state == "known_error" and not (workaround or self.workaround):
            raise ProblemError("a known error needs a workaround", "workaround")
        previous = self.state
        self.state = state
        self.workaround = workaround or self.workaround
        self.updated_at = at
        self.resolved_at = at if state == "resolved" else None
        self.history.append({"at": at.isoformat(), "actor": actor, "kind": "state_changed",
                             "detail": f"{previous} -> {state}" + (f": {note}" if note else "")
                             + (f" (workaround: {workaround})" if workaround else "")})
        return previous
