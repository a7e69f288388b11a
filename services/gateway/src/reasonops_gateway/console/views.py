"""What the console's pages show, from the API's read models: the actions a person may
take on an incident now, the list's filters from its URL, and where each number of the
overview leads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from reasonops_contracts.api import Dashboard, IncidentPage, Me
from reasonops_contracts.incidents import IncidentView

STATES = ("new", "acknowledged", "on_hold", "resolved", "closed")
OPEN = ("new", "acknowledged", "on_hold")
SORTS = ("opened_at", "updated_at", "priority", "alert_count")


@dataclass(frozen=True)
class Action:
    verb: str
    label: str
    key: str
    """Keyboard shortcut on the incident page."""
    policy: str
    """The policy action the API checks (``Me.can``)."""
    states: tuple[str, ...]
    """The states it applies in (the service refuses it in any other)."""
    note: str = "optional"
    """Whether the form asks for a note: optional, required or none."""


ACTIONS: dict[str, Action] = {a.verb: a for a in (
    Action("acknowledge", "Acknowledge", "a", "incident.acknowledge", ("new",), "none"),
    Action("assign", "Assign", "g", "incident.assign", OPEN),
    Action("comment", "Comment", "c", "incident.comment", STATES, "required"),
    Action("hold", "Hold", "h", "incident.hold", ("new", "acknowledged")),
    Action("resume", "Resume", "u", "incident.resume", ("on_hold",), "none"),
    Action("resolve", "Resolve", "r", "incident.resolve", OPEN),
    Action("close", "Close", "x", "incident.close", ("resolved",), "none"),
    Action("reopen", "Reopen", "o", "incident.reopen", ("resolved",)),
    Action("declare-major", "Declare major", "m", "incident.declare_major", OPEN),
)}


def actions_for(incident: IncidentView, me: Me) -> list[Action]:
    """The actions shown: those the person may take and the incident's state allows
    (the API refuses the others anyway)."""
    return [a for a in ACTIONS.values()
            if me.can.get(a.policy, False) and incident.state in a.states
            and not (a.verb == "declare-major" and incident.major)]


def list_filters(query: QueryParams) -> tuple[dict[str, Any], list[str]]:
    """The list's filters from its URL, as the API takes them, and what is wrong with
    them (the API names the rest)."""
    problems: list[str] = []
    states = [s for s in query.getlist("state") if s]
    for s in states:
        if s not in STATES:
            problems.append(f"state: {s!r} is not one of {', '.join(STATES)}")
    priorities = []
    for p in query.getlist("priority"):
        if p.isdigit() and 1 <= int(p) <= 5:
            priorities.append(int(p))
        elif p:
            problems.append(f"priority: {p!r} is not 1 to 5")
    sort = query.get("sort") or "opened_at"
    if sort not in SORTS:
        problems.append(f"sort: {sort!r} is not one of {', '.join(SORTS)}")
        sort = "opened_at"
    order = query.get("order") or "desc"
    if order not in ("asc", "desc"):
        problems.append(f"order: {order!r} is not asc or desc")
        order = "desc"
    found: dict[str, Any] = {
        "state": [s for s in states if s in STATES] or None,
        "priority": priorities or None,
        "service": query.get("service") or None,
        "assignment_group": query.get("assignment_group") or None,
        "text": (query.get("text") or "").strip() or None,
        "major": True if query.get("major") == "true" else None,
        "sort": sort, "order": order}
    return {k: v for k, v in found.items() if v is not None}, problems


def list_link(query: QueryParams, found: IncidentPage | None) -> str | None:
    """The next page of the list, the filters kept."""
    if found is None or not found.next_cursor:
        return None
    kept = [(k, v) for k, v in query.multi_items() if k not in ("cursor", "part")]
    return "/incidents?" + urlencode([*kept, ("cursor", found.next_cursor)])


def overview_links(board: Dashboard) -> dict[str, str]:
    """Each number of the overview -> the list behind it."""
    open_states = [("state", s) for s in OPEN]
    links = {"open": "/incidents?" + urlencode(open_states)}
    for label in board.open_by_priority:
        links[label] = "/incidents?" + urlencode([*open_states, ("priority", label[1:])])
    for state in board.incidents_by_state:
        links[f"state:{state}"] = "/incidents?" + urlencode([("state", state)])
    for line in board.service_levels:
        links[f"service:{line.service}"] = "/incidents?" + urlencode([("service",
                                                                       line.service)])
    return links
