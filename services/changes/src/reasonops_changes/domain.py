"""The rules of a change, pure: its risk, what its window collides with, and which
lifecycle step it may take."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reasonops_contracts.catalog import ServiceCatalog

from .config import FreezeSpec

LEVELS = ("low", "medium", "high")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "approve": ("requested",), "reject": ("requested",), "start": ("approved",),
    "complete": ("implementing",), "cancel": ("requested", "approved"),
}
OPEN = ("requested", "approved", "implementing")
"""States whose window still holds a place in the calendar."""


@dataclass
class Change:
    change_id: str
    type: str
    state: str
    title: str
    services: list[str]
    risk: str
    risk_reason: str
    impact: int
    planned_start: datetime
    planned_end: datetime
    requested_by: str
    requested_at: datetime
    description: str | None = None
    implementation_plan: str | None = None
    backout_plan: str | None = None
    template: str | None = None
    approved_by: list[str] = field(default_factory=list)
    decided_at: datetime | None = None
    decision: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: str | None = None
    note: str | None = None
    silence_ids: list[str] = field(default_factory=list)
    review_due: bool = False
    reviewed_by: str | None = None


class ChangeRefused(ValueError):
    """A change the calendar or its lifecycle refuses: the field and why."""

    def __init__(self, field_: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_


def assess(type_: str, impact: int, services: list[str], catalog: ServiceCatalog,
           backout_plan: str | None) -> tuple[str, str]:
    """The risk of a change and why: its impact sets a level (1 high, 2 medium, 3 low); a
    business-critical (tier 1) service lifts it to medium at least; an emergency, or no
    back-out plan, lifts it one level. A standard change is low: its template is."""
    if type_ == "standard":
        return "low", "a pre-approved template"
    level = {1: 2, 2: 1, 3: 0}[impact]
    reasons = [f"impact {impact}"]
    critical = [s for s in services if (entry := catalog.get(s)) and entry.tier == 1]
    if critical and level < 1:
        level = 1
        reasons.append(f"tier-1 service {', '.join(critical)}")
    if type_ == "emergency":
        level = min(2, level + 1)
        reasons.append("an emergency")
    if not (backout_plan or "").strip():
        level = min(2, level + 1)
        reasons.append("no back-out plan")
    return LEVELS[level], "; ".join(reasons)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def collisions(change: Change, others: list[Change], freezes: list[FreezeSpec]) -> None:
    """Refuse a window that overlaps another open change on one of its services, or a
    freeze covering one of them (an emergency may go into a freeze)."""
    for other in others:
        if other.change_id == change.change_id or other.state not in OPEN:
            continue
        shared = sorted(set(other.services) & set(change.services))
        if shared and overlaps(change.planned_start, change.planned_end,
                               other.planned_start, other.planned_end):
            raise ChangeRefused("planned_start", (
                f"conflict: {other.change_id} ({other.title}) changes {', '.join(shared)} "
                f"from {_at(other.planned_start)} to {_at(other.planned_end)}"))
    if change.type == "emergency":
        return
    for freeze in freezes:
        frozen = [s for s in change.services if freeze.covers(s)]
        if frozen and overlaps(change.planned_start, change.planned_end,
                               freeze.start, freeze.end):
            raise ChangeRefused("planned_start", (
                f"freeze: {freeze.name} covers {', '.join(frozen)} from "
                f"{_at(freeze.start)} to {_at(freeze.end)}"
                + (f" ({freeze.reason})" if freeze.reason else "")))


def step(change: Change, action: str, now: datetime) -> None:
    """Check ``action`` against the lifecycle (and, to start, the window)."""
    allowed = TRANSITIONS[action]
    if change.state not in allowed:
        raise ChangeRefused("change_id", f"cannot {action} {change.change_id}: it is "
                            f"{change.state} (needs {' or '.join(allowed)})")
    if action == "start" and change.type != "emergency" and not (
            change.planned_start <= now < change.planned_end):
        raise ChangeRefused("change_id", (
            f"{change.change_id} may start within its window, {_at(change.planned_start)} "
            f"to {_at(change.planned_end)}; it is {_at(now)}"))


def _at(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()
