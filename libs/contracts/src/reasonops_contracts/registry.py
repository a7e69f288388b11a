"""Every message model, by type and by subject, for routing and schema export."""

from __future__ import annotations

from pydantic import BaseModel

from . import (
    agents,
    deadletter,
    finance,
    gateway,
    ingest,
    oncall,
    policy,
    reviews,
    servicenow,
    workflows,
)
from .changes import commands as change_commands
from .changes import events as change_events
from .changes import queries as change_queries
from .envelope import Envelope
from .incidents import commands as incident_commands
from .incidents import correlation, problems, silences
from .incidents import events as incident_events
from .incidents import queries as incident_queries
from .messages import Command, Event, Query, View
from .replies import Reply
from .slm import events as slm_events
from .slm import queries as slm_queries

_MODULES = (ingest, incident_events, incident_commands, incident_queries, correlation, problems,
            silences, slm_events, slm_queries, finance, agents, workflows, reviews, gateway, policy,
            deadletter, oncall, servicenow, change_events, change_commands, change_queries)


def _subclasses(base: type[BaseModel]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for module in _MODULES:
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, base) and obj is not base
                    and obj.__module__ == module.__name__ and not obj.__name__.startswith("_")):
                found.append(obj)
    return found


EVENTS: dict[str, type[Event]] = {
    m.TYPE: m for m in _subclasses(Event) if issubclass(m, Event)
}
EVENTS_BY_SUBJECT: dict[str, type[Event]] = {m.SUBJECT: m for m in EVENTS.values()}
COMMANDS: dict[str, type[Command]] = {
    m.SUBJECT: m for m in _subclasses(Command) if issubclass(m, Command)
}
QUERIES: dict[str, type[Query]] = {m.SUBJECT: m for m in _subclasses(Query) if issubclass(m, Query)}


def all_models() -> dict[str, type[BaseModel]]:
    """Name -> model for schema export: events by type, the rest by class name."""
    models: dict[str, type[BaseModel]] = {"Envelope": Envelope, "Reply": Reply,
                                          "NativeEvent": ingest.NativeEvent}
    models.update(EVENTS)
    for model in [*COMMANDS.values(), *QUERIES.values(), *_subclasses(View)]:
        models[model.__name__] = model
    return dict(sorted(models.items()))
