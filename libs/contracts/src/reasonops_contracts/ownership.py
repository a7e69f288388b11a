"""Which service owns which event subjects, and so may be an event's ``source``.

A consumer accepts an envelope only if its ``type`` belongs to the subject it arrived
on and its ``source`` is a service that owns that subject: a sender able to publish on
a subject still cannot pass one domain's event off as another's, or as another
service's. The broker's permissions (who may publish where) are derived from the same
table.
"""

from __future__ import annotations

import re

from . import durables as d
from . import streams, subjects
from .registry import EVENTS

ENGINE = ("ingest", "incidents", "slm", "finance", "orchestrator")
AGENTS = ("agent-triage", "agent-rca", "agent-security", "agent-capacity", "agent-slm")
PEOPLE = ("oncall", "servicenow", "changes")
FACES = ("gateway",)
SERVICES: tuple[str, ...] = (*ENGINE, *AGENTS, *PEOPLE, *FACES)
"""Every ReasonOps service, in start-up order."""

_OWNERS: tuple[tuple[str, frozenset[str]], ...] = (
    # Most specific prefix first.
    ("itsm.agent.decision.", frozenset(AGENTS)),
    ("itsm.agent.proposal.", frozenset(AGENTS)),
    ("itsm.agent.query.", frozenset(AGENTS)),  # every agent answers for itself
    ("itsm.agent.", frozenset({"orchestrator"})),  # requests to the agents
    ("itsm.ingest.", frozenset({"ingest"})),
    ("itsm.incident.", frozenset({"incidents"})),
    ("itsm.slm.", frozenset({"slm"})),
    ("itsm.finance.", frozenset({"finance"})),
    ("itsm.workflow.", frozenset({"orchestrator"})),
    ("itsm.gateway.", frozenset({"gateway"})),
    ("itsm.oncall.", frozenset({"oncall"})),
    ("itsm.servicenow.", frozenset({"servicenow"})),
    ("itsm.change.", frozenset({"changes"})),
    ("itsm.policy.", frozenset(SERVICES)),  # every service records its own refusals
    ("itsm.deadletter.", frozenset(SERVICES)),
    # Each service with consumers answers the commands about its own dead letters.
    ("itsm.deadletters.", frozenset((*ENGINE, *AGENTS, *PEOPLE))),
)
_VERSION = re.compile(r"\.v\d+$")

DURABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "ingest": ((streams.INGEST.name, d.INGEST_RAW),),
    "incidents": ((streams.INGEST.name, d.INCIDENTS_ALERTS),
                  (streams.AGENTS.name, d.INCIDENTS_AGENTS),
                  (streams.SLM.name, d.INCIDENTS_SLM),
                  (streams.ONCALL.name, d.INCIDENTS_ONCALL)),
    "slm": ((streams.INCIDENTS.name, d.SLM_INCIDENTS),),
    "finance": ((streams.SLM.name, d.FINANCE_SLM),
                (streams.INCIDENTS.name, d.FINANCE_INCIDENTS)),
    "orchestrator": ((streams.INCIDENTS.name, d.ORCHESTRATOR_INCIDENTS),
                     (streams.AGENTS.name, d.ORCHESTRATOR_AGENTS),
                     (streams.SLM.name, d.ORCHESTRATOR_SLM),
                     (streams.FINANCE.name, d.ORCHESTRATOR_FINANCE),
                     (streams.CHANGES.name, d.ORCHESTRATOR_CHANGES)),
    "agent-triage": ((streams.AGENTS.name, d.AGENT_TRIAGE),),
    "agent-rca": ((streams.INGEST.name, d.AGENT_RCA_ALERTS),
                  (streams.INCIDENTS.name, d.AGENT_RCA_INCIDENTS),
                  (streams.AGENTS.name, d.AGENT_RCA_REQUESTS),
                  (streams.CHANGES.name, d.AGENT_RCA_CHANGES)),
    "agent-security": ((streams.INGEST.name, d.AGENT_SECURITY_EVENTS),
                       (streams.AGENTS.name, d.AGENT_SECURITY_REQUESTS)),
    "agent-capacity": ((streams.INGEST.name, d.AGENT_CAPACITY_ALERTS),
                       (streams.INCIDENTS.name, d.AGENT_CAPACITY_INCIDENTS),
                       (streams.AGENTS.name, d.AGENT_CAPACITY_REQUESTS)),
    "agent-slm": ((streams.SLM.name, d.AGENT_SLM_CLOCKS),
                  (streams.INCIDENTS.name, d.AGENT_SLM_INCIDENTS)),
    "oncall": ((streams.INCIDENTS.name, d.ONCALL_INCIDENTS),),
    "servicenow": ((streams.INCIDENTS.name, d.SERVICENOW_INCIDENTS),),
    "changes": ((streams.INCIDENTS.name, d.CHANGES_INCIDENTS),),
    "gateway": (),
}
"""(stream, durable) of every service's consumers: each consumes only its own (the
gateway reads streams with ephemeral consumers only, see ``READERS``)."""

RAW_SENDERS: dict[str, frozenset[str]] = {
    "ingest": frozenset(subjects.INGEST_RAW_SUBJECTS),
    "agent-security": frozenset({subjects.INGEST_RAW_EVENT}),
}
"""Services that publish raw alerts: ingest (payloads taken over HTTP go through its
stream) and the security agent, which raises its findings as any monitoring tool does."""

REQUESTERS: dict[str, frozenset[str]] = {
    "orchestrator": frozenset({"*"}), "gateway": frozenset({"*"}),
    "oncall": frozenset({subjects.INCIDENT_CMD_ACKNOWLEDGE, subjects.INCIDENT_CMD_RESOLVE,
                         subjects.SILENCE_QUERY_COVERING}),
    "servicenow": frozenset({
        subjects.INCIDENT_QUERY_GET, subjects.INCIDENT_CMD_ACKNOWLEDGE,
        subjects.INCIDENT_CMD_RESOLVE, subjects.INCIDENT_CMD_CLOSE,
        subjects.INCIDENT_CMD_REOPEN, subjects.INCIDENT_CMD_HOLD,
        subjects.INCIDENT_CMD_RESUME, subjects.INCIDENT_CMD_ASSIGN,
        subjects.INCIDENT_CMD_CHANGE_PRIORITY, subjects.INCIDENT_CMD_COMMENT}),
    "changes": frozenset({subjects.SILENCE_CMD_CREATE, subjects.SILENCE_CMD_EXPIRE,
                          subjects.INCIDENT_CMD_COMMENT})}
"""Services that send commands or queries to others: the orchestrator runs workflow
steps, which may be any command or query; the gateway speaks for the people it
authenticated; the on-call service acknowledges and resolves for a paged person who used
the signed link in the page; the ServiceNow sync reads the incidents it keeps in step and
applies what people changed in ServiceNow, as itself; change management opens and ends the
maintenance window of a change it implements and notes a change on the incidents that
followed it."""

READERS: frozenset[str] = frozenset({"gateway"})
"""Services that read the streams as a client does (the audit trail, agent decisions,
the live event stream): ephemeral ordered consumers, never a durable."""

CONFIG_WRITERS: frozenset[str] = frozenset({"gateway"})
"""Services that write the agents' configuration bucket (for a person allowed
``agent.configure``); every agent watches its own key there."""

SPEAKS_FOR: dict[str, tuple[str, ...]] = {"gateway": ("user:*",), "oncall": ("user:*",)}
"""Services that may sign requests for principals other than their own: the gateway
for the people it authenticated (ADR 0030), the on-call service for a paged person who
used the link signed for them (ADR 0038)."""


def owners(subject: str) -> frozenset[str]:
    """The services that may publish events on ``subject``, or answer a command or query
    sent to it (none: no service may)."""
    for prefix, services in _OWNERS:
        if subject.startswith(prefix):
            return services
    return frozenset()


def refusal(subject: str, type_: str, source: str) -> str | None:
    """Why an envelope of ``type_`` from ``source`` does not belong on ``subject``;
    None when it does. A type this version does not know (a newer version) must at
    least belong to the subject's domain."""
    known = EVENTS.get(type_)
    if known is not None:
        if subject != known.SUBJECT and not (
                known.SUBJECT.endswith(".>") and subject.startswith(known.SUBJECT[:-1])):
            return f"type {type_} belongs to {known.SUBJECT}, not to {subject}"
    elif _domain(_VERSION.sub("", type_)) != _domain(subject):
        return f"type {type_} is not of the domain of {subject}"
    allowed = owners(subject)
    if source not in allowed:
        return (f"source {source!r} does not own {subject} "
                f"(owned by {', '.join(sorted(allowed)) or 'no service'})")
    return None


def _domain(name: str) -> str:
    return ".".join(name.split(".")[:2])
