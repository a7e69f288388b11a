"""Labelled cases for the evaluation: an incident, what happened around it (alerts,
changes, past incidents, which service depends on which) and its known cause."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reasonops_contracts.catalog import CatalogService, ServiceCatalog

CauseKind = Literal["change", "dependency", "recurrence", "own"]
CAUSE_KINDS: tuple[CauseKind, ...] = ("change", "dependency", "recurrence", "own")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentPart(Strict):
    title: str = Field(min_length=1)
    service: str = Field(min_length=1)
    alertname: str = Field(min_length=1)


class AlertPart(Strict):
    service: str
    name: str
    summary: str
    minutes: float = Field(description="From the incident's opening; negative: before")


class ChangePart(Strict):
    id: str
    service: str
    summary: str
    minutes: float


class PastPart(Strict):
    id: str = Field(pattern=r"^INC\d{7}$")
    title: str
    service: str
    alertname: str
    resolution: str


class Cause(Strict):
    kind: CauseKind
    ref: str = Field(min_length=1, description="change id, dependency service, past "
                     "incident id, or the incident's own service")


class Case(BaseModel):
    """One incident with a known cause; ``id``, ``split`` and ``reason`` say which, where
    and why. Other fields are kept and not used."""

    model_config = ConfigDict(extra="allow")

    id: str
    split: str | None = None
    reason: str | None = None
    incident: IncidentPart
    depends_on: dict[str, list[str]] = Field(default_factory=dict)
    alerts: list[AlertPart] = Field(default_factory=list)
    changes: list[ChangePart] = Field(default_factory=list)
    past: list[PastPart] = Field(default_factory=list)
    cause: Cause

    def catalog(self) -> ServiceCatalog:
        names = {self.incident.service, *self.depends_on,
                 *(d for deps in self.depends_on.values() for d in deps),
                 *(a.service for a in self.alerts), *(c.service for c in self.changes)}
        return ServiceCatalog(services=tuple(
            CatalogService(name=n, depends_on=tuple(self.depends_on.get(n, ())))
            for n in sorted(names)))
