"""JetStream streams, one per owning domain, declared from the event contracts."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import subjects
from .registry import EVENTS

DAY = 24 * 3600


@dataclass(frozen=True)
class StreamSpec:
    """Broker-neutral description of a stream; the runtime turns it into a StreamConfig."""

    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_seconds: int = 30 * DAY
    duplicate_window_seconds: int = 120
    sources: tuple[str, ...] = field(default=())


def _events_under(prefix: str) -> tuple[str, ...]:
    return tuple(sorted({m.SUBJECT for m in EVENTS.values() if m.SUBJECT.startswith(prefix)}))


INGEST = StreamSpec(
    name="INGEST",
    subjects=(*subjects.INGEST_RAW_SUBJECTS, *_events_under("itsm.ingest.")),
    description="Raw monitoring payloads published directly, and normalised accepted events",
    max_age_seconds=7 * DAY,
    # Senders' retries (Alertmanager within its group_interval, PagerDuty clients'
    # back-off) carry the same Nats-Msg-Id and are stored once within this window.
    duplicate_window_seconds=300,
)
INCIDENTS = StreamSpec("INCIDENTS", _events_under("itsm.incident."), "Incident lifecycle events")
SLM = StreamSpec("SLM", _events_under("itsm.slm."), "SLA clocks, breaches and penalties")
FINANCE = StreamSpec("FINANCE", _events_under("itsm.finance."), "Ledger postings",
                     max_age_seconds=400 * DAY)
AGENTS = StreamSpec("AGENTS", _events_under("itsm.agent."), "Agent requests and decisions")
WORKFLOWS = StreamSpec("WORKFLOWS", _events_under("itsm.workflow."), "Workflow progress")
GATEWAY = StreamSpec("GATEWAY", _events_under("itsm.gateway."),
                     "API tokens issued and revoked", max_age_seconds=365 * DAY)
ONCALL = StreamSpec("ONCALL", _events_under("itsm.oncall."), "On-call overrides, pages "
                    "and notifications", max_age_seconds=365 * DAY)
CHANGES = StreamSpec("CHANGES", _events_under("itsm.change."), "Change requests, approvals, "
                     "implementation and the incidents that followed",
                     max_age_seconds=730 * DAY)
SERVICENOW = StreamSpec("SERVICENOW", _events_under("itsm.servicenow."), "Incidents kept in "
                        "step with ServiceNow: records created, updated, changes applied, "
                        "failures", max_age_seconds=365 * DAY)
POLICY = StreamSpec("POLICY", _events_under("itsm.policy."), "Role policy denials",
                    max_age_seconds=365 * DAY)
DEADLETTER = StreamSpec("DEADLETTER", (f"{subjects.DEAD_LETTER_PREFIX}.>",),
                        "Messages consumers gave up on", max_age_seconds=90 * DAY)

DOMAIN_STREAMS: tuple[StreamSpec, ...] = (INGEST, INCIDENTS, SLM, FINANCE, AGENTS, WORKFLOWS,
                                          GATEWAY, ONCALL, SERVICENOW, CHANGES, POLICY,
                                          DEADLETTER)

AUDIT = StreamSpec(
    name="AUDIT",
    subjects=(),
    description="Every domain event, sourced from the domain streams, kept for a year",
    max_age_seconds=365 * DAY,
    sources=tuple(s.name for s in DOMAIN_STREAMS if s is not DEADLETTER),
)

ALL_STREAMS: tuple[StreamSpec, ...] = (*DOMAIN_STREAMS, AUDIT)


def stream_for(subject: str) -> StreamSpec:
    """The domain stream that stores ``subject``."""
    for spec in DOMAIN_STREAMS:
        for pattern in spec.subjects:
            if pattern == subject or (pattern.endswith(".>") and subject.startswith(pattern[:-1])):
                return spec
    raise KeyError(f"no stream stores {subject!r}")
