"""The role policy applied to incident, problem and silence commands, to agents' effects,
and to reading incidents (a principal reads what its roles' scopes cover).

The scope of an incident is its assignment group (else its service's owner in the
catalog) and its service; a problem's is its service and that service's owner; a
silence's is the service its ``service=<name>`` matcher names, if it names one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reasonops_contracts import Envelope
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_runtime import Clock
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import Visibility

from .incident.domain import Incident
from .incident.topology import owner_of
from .problem.domain import Problem

_SERVICE_MATCHER = re.compile(r"^\s*service\s*=\s*['\"]?([^~'\"]+?)['\"]?\s*$")


class Access:
    def __init__(self, enforcer: Enforcer, catalog: ServiceCatalog | None,
                 clock: Clock) -> None:
        self.enforcer = enforcer
        self.catalog = catalog
        self.clock = clock

    def owner(self, service: str | None) -> str | None:
        return owner_of(self.catalog, service)

    def team_of(self, incident: Incident) -> str | None:
        return incident.assignment_group or self.owner(incident.service)

    def owned_by(self, teams: frozenset[str]) -> list[str]:
        """The catalog's services whose owner is one of ``teams``."""
        return sorted(s.name for s in (self.catalog.services if self.catalog else ())
                      if s.owner in teams)

    def visibility(self, actor: str, reading: str) -> Visibility:
        """What ``actor`` may read (``Forbidden`` when nothing)."""
        return self.enforcer.visibility(actor, at=self.clock.now(), reading=reading)

    def read_incident(self, actor: str, incident: Incident) -> None:
        self.enforcer.readable(actor, at=self.clock.now(), reading="incident",
                               team=self.team_of(incident), service=incident.service,
                               incident_id=incident.incident_id)

    def incident(self, actor: str, action: str, incident: Incident) -> None:
        """``Forbidden`` unless ``actor`` may do ``incident.<action>`` on ``incident``."""
        self.enforcer.require(actor, f"incident.{action}", at=self.clock.now(),
                              team=self.team_of(incident), service=incident.service,
                              incident_id=incident.incident_id,
                              correlation_id=incident.correlation_id)

    def read(self, actor: str, reading: str, service: str | None,
             target: str | None = None) -> None:
        """``Forbidden`` (on record) unless ``actor`` may read what ``service`` (and its
        owning team) covers; something of no one service (a silence of every service)
        is read by anyone who may read anything."""
        if service is None:
            self.visibility(actor, reading)
            return
        self.enforcer.readable(actor, at=self.clock.now(), reading=target or reading,
                               team=self.owner(service), service=service)

    def covers(self, visible: Visibility, service: str | None) -> bool:
        return service is None or visible.covers(self.owner(service), service)

    def problem(self, actor: str, problem: Problem) -> None:
        self.enforcer.require(actor, "problem.update", at=self.clock.now(),
                              team=self.owner(problem.service), service=problem.service,
                              target=problem.problem_id)

    def silence(self, actor: str, action: str, matchers: Sequence[str],
                target: str | None = None) -> None:
        service = silenced_service(matchers)
        self.enforcer.require(actor, f"silence.{action}", at=self.clock.now(),
                              team=self.owner(service), service=service, target=target)

    def agent_assignment(self, agent: str, incident: Incident, cause: Envelope
                         ) -> Envelope | None:
        """None if ``agent`` may assign ``incident`` now, else the record of the refusal."""
        team = self.team_of(incident)
        verdict = self.enforcer.decide(agent, "incident.assign", team=team,
                                       service=incident.service)
        if verdict.allowed:
            return None
        return self.enforcer.denial(verdict, at=self.clock.now(), team=team,
                                    service=incident.service,
                                    incident_id=incident.incident_id, cause=cause)


def silenced_service(matchers: Sequence[str]) -> str | None:
    """The one service a silence's ``service=<name>`` matcher names, if any."""
    named = {m.group(1) for text in matchers if (m := _SERVICE_MATCHER.match(text))}
    return named.pop() if len(named) == 1 else None
