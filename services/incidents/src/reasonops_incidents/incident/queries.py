"""Incident queries: filtered, sorted, paginated lists; counts for dashboards; one incident
with its timeline; the active correlation rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select

from reasonops_contracts.incidents import (
    CountIncidents,
    GetCorrelationRules,
    GetIncident,
    IncidentCounts,
    IncidentList,
    IncidentView,
    ListIncidents,
)
from reasonops_runtime import NotFound, Service, Store
from reasonops_runtime.policy import Visibility
from reasonops_runtime.store import Session

from ..access import Access
from . import store
from .rules import RuleFile
from .views import incident_view, rules_view

OPEN = ("new", "acknowledged", "on_hold")
t = store.incidents


def _filtered(query: Select[Any], q: ListIncidents | CountIncidents) -> Select[Any]:
    if q.service:
        query = query.where(t.c.service == q.service)
    if q.assignment_group:
        query = query.where(t.c.assignment_group == q.assignment_group)
    if q.opened_from:
        query = query.where(t.c.opened_at >= q.opened_from)
    if q.opened_to:
        query = query.where(t.c.opened_at < q.opened_to)
    if isinstance(q, ListIncidents):
        if q.states:
            query = query.where(t.c.state.in_(q.states))
        if q.priorities:
            query = query.where(t.c.priority.in_(q.priorities))
        if q.major is not None:
            query = query.where(t.c.major.is_(q.major))
        if q.problem_id:
            query = query.where(t.c.problem_id == q.problem_id)
        if q.text:
            like = f"%{q.text.lower()}%"
            query = query.where(or_(func.lower(t.c.title).like(like),
                                    func.lower(t.c.service).like(like),
                                    func.lower(t.c.resource).like(like),
                                    func.lower(t.c.incident_id).like(like)))
    return query


def _within(query: Select[Any], visible: Visibility, access: Access) -> Select[Any]:
    """Only the incidents ``visible`` covers: an incident's team is its assignment group,
    else its service's owner in the catalog (``Access.team_of``)."""
    if visible.everything:
        return query
    def covered(teams: frozenset[str], services: frozenset[str]) -> ColumnElement[bool]:
        return or_(t.c.assignment_group.in_(sorted(teams)),
                   and_(t.c.assignment_group.is_(None),
                        t.c.service.in_(access.owned_by(teams))),
                   t.c.service.in_(sorted(services)))
    return query.where(or_(false(), *(and_(*(covered(s.teams, s.services) for s in held))
                                     for held in visible.scopes)))


async def list_incidents(store_: Store, q: ListIncidents, visible: Visibility | None = None,
                         access: Access | None = None) -> IncidentList:
    """One page and the total that matches, in one statement (the total a scalar
    subquery, counted once): one snapshot, one round trip."""
    column = {"opened_at": t.c.seq, "updated_at": t.c.updated_at, "priority": t.c.priority,
              "alert_count": t.c.alert_count}[q.sort]
    order = [column.desc() if q.descending else column.asc(), t.c.seq.desc()]
    def scoped(query: Select[Any]) -> Select[Any]:
        query = _filtered(query, q)
        return query if visible is None or access is None else _within(query, visible, access)
    total = scoped(select(func.count()).select_from(t)).scalar_subquery()
    page = scoped(select(t, total.label("total_matching"))).order_by(*order) \
        .offset(q.offset).limit(q.limit)
    rows = await store_.rows(page)
    if rows:
        matching = int(rows[0].total_matching)
    else:  # past the end, or nothing matches: the page again and the count alone, both
        # in one snapshot (an incident committed between two bare reads made a total
        # with an empty first page)
        async with store_.read() as session:
            rows = list((await session.execute(page)).all())
            matching = int(rows[0].total_matching) if rows else int((await session.execute(
                scoped(select(func.count()).select_from(t)))).scalar_one())
    return IncidentList(items=[incident_view(store._from_row(r)) for r in rows],
                        total=matching, offset=q.offset)


async def count_incidents(session: Session, q: CountIncidents,
                          visible: Visibility | None = None,
                          access: Access | None = None) -> IncidentCounts:
    query = _filtered(select(t.c.state, t.c.priority, func.count()).select_from(t), q)
    if visible is not None and access is not None:
        query = _within(query, visible, access)
    rows = (await session.execute(query.group_by(t.c.state, t.c.priority))).all()
    by_state = {s: 0 for s in ("new", "acknowledged", "on_hold", "resolved", "closed")}
    by_priority = {f"P{p}": 0 for p in range(1, 6)}
    open_by_priority = dict(by_priority)
    for state, priority, n in rows:
        by_state[state] = by_state.get(state, 0) + n
        by_priority[f"P{priority}"] += n
        if state in OPEN:
            open_by_priority[f"P{priority}"] += n
    return IncidentCounts(total=sum(by_state.values()), by_state=by_state,
                          by_priority=by_priority, open_by_priority=open_by_priority)


class IncidentQueries:
    """Each query answers with what its actor's roles cover (see ``Access``)."""

    def __init__(self, service: Service, rules: RuleFile, access: Access) -> None:
        self.service = service
        self.rules = rules
        self.access = access

    async def get(self, query: GetIncident) -> IncidentView:
        async with self.service.store.read() as session:
            incident = await store.get_incident(session, query.incident_id)
            if incident is None:
                raise NotFound(f"no incident {query.incident_id}", "incident_id")
            self.access.read_incident(query.actor, incident)
            entries = await store.timeline_of(session, query.incident_id)
            resources = await store.resources_of(session, query.incident_id)
        return incident_view(incident, entries, resources)

    async def list_(self, query: ListIncidents) -> IncidentList:
        visible = self.access.visibility(query.actor, "incidents")
        return await list_incidents(self.service.store, query, visible, self.access)

    async def counts(self, query: CountIncidents) -> IncidentCounts:
        visible = self.access.visibility(query.actor, "incident counts")
        async with self.service.store.read() as session:
            return await count_incidents(session, query, visible, self.access)

    async def active_rules(self, query: GetCorrelationRules) -> Any:
        self.access.visibility(query.actor, "correlation rules")
        return rules_view(self.rules)

    def register(self) -> None:
        self.service.respond(GetIncident, self.get)
        self.service.respond(ListIncidents, self.list_)
        self.service.respond(CountIncidents, self.counts)
        self.service.respond(GetCorrelationRules, self.active_rules)


def register_queries(service: Service, rules: RuleFile, access: Access) -> None:
    IncidentQueries(service, rules, access).register()
