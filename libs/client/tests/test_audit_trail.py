"""Which AUDIT messages belong to an incident's chain, and how the trail is printed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from reasonops_cli.audit import render
from reasonops_client.summaries import actor, summary
from reasonops_client.trail import TrailEntry, _causation, _Chain
from reasonops_contracts import Envelope
from reasonops_contracts.finance import LedgerEntryPosted, PostingLine
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentOpened,
)
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.slm import SlaBreached
from reasonops_contracts.workflows import WorkflowStarted

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def alert(fingerprint: str, at: datetime = T0, status: str = "firing") -> Envelope:
    event = EventAccepted(fingerprint=fingerprint, status=status, name="HighErrorRate",  # type: ignore[arg-type]
                          severity="critical", service="checkout", summary="5xx",
                          received_at=at, source_format="alertmanager")
    return Envelope.wrap(event, source="ingest", subject=fingerprint, time=at)


def opened(cause: Envelope, incident: str = "INC0000001") -> Envelope:
    event = IncidentOpened(incident_id=incident, title="checkout 5xx", severity="critical",
                           impact=1, urgency=1, priority=1, priority_reason="critical",
                           fingerprint=cause.data["fingerprint"], opened_at=T0)
    return cause.caused(event, source="incidents", subject=incident,
                        time=cause.time + timedelta(seconds=1))


class Feed:
    """Messages in stream order, as the AUDIT reader offers them."""

    def __init__(self, incident: str = "INC0000001", lookback: int = 100) -> None:
        self.chain = _Chain(incident, lookback)
        self.seq = 0

    def __call__(self, *envelopes: Envelope) -> None:
        from reasonops_contracts.registry import EVENTS

        for env in envelopes:
            self.seq += 1
            self.chain.offer(self.seq, EVENTS[env.type].SUBJECT, env.to_bytes())

    def types(self) -> list[str]:
        return [e.type.split(".")[-2] for e in self.chain.entries()]


def test_chain_starts_at_the_alert_that_opened_the_incident_and_skips_others() -> None:
    feed = Feed()
    mine, other = alert("fp-mine"), alert("fp-other")
    feed(other, mine, opened(other, "INC0000002"), opened(mine))
    entries = feed.chain.entries()
    assert [e.id for e in entries] == [mine.id, entries[1].id]
    assert entries[1].summary == "opened P1: checkout 5xx"


def test_repeat_alerts_join_while_open_and_not_after_close() -> None:
    feed = Feed()
    first = alert("fp-1")
    opening = opened(first)
    repeat = alert("fp-1", T0 + timedelta(minutes=2))
    close = opening.caused(IncidentClosed(incident_id="INC0000001", closed_at=T0,
                                          actor="user:ana"), source="incidents",
                           subject="INC0000001", time=T0 + timedelta(minutes=3))
    later = alert("fp-1", T0 + timedelta(minutes=9))
    feed(first, opening, repeat, close, later)
    ids = [e.id for e in feed.chain.entries()]
    assert repeat.id in ids
    assert later.id not in ids
    assert ids[-1] == close.id


def test_events_naming_the_incident_are_linked_with_actors() -> None:
    feed = Feed()
    first = alert("fp-1")
    opening = opened(first)
    ack = Envelope.wrap(IncidentAcknowledged(incident_id="INC0000001", acknowledged_at=T0,
                                             actor="user:ana"), source="incidents",
                        subject="INC0000001", correlation_id=first.id,
                        time=T0 + timedelta(seconds=30))
    started = opening.caused(WorkflowStarted(workflow_id="WF-1", workflow="incident-response",
                                             version=1, incident_id="INC0000001",
                                             started_at=T0),
                             source="orchestrator", subject="WF-1",
                             time=T0 + timedelta(minutes=5))
    denied = Envelope.wrap(AccessDenied(principal="agent:triage", action="incident.resolve",
                                        roles=["triage"], reason="not allowed",
                                        incident_id="INC0000001", service_name="incidents",
                                        denied_at=T0),
                           source="incidents", time=T0 + timedelta(seconds=40))
    elsewhere = Envelope.wrap(IncidentAcknowledged(incident_id="INC0000002", acknowledged_at=T0,
                                                   actor="bob"), source="incidents",
                              subject="INC0000002", time=T0 + timedelta(seconds=5))
    feed(first, opening, elsewhere, ack, denied, started)
    entries = {e.type.split(".")[-2]: e for e in feed.chain.entries()}
    assert set(entries) == {"accepted", "opened", "acknowledged", "denied", "started"}
    assert entries["acknowledged"].actor == "user:ana"
    assert entries["denied"].actor == "agent:triage"
    assert entries["denied"].summary == "denied incident.resolve to agent:triage: not allowed"
    assert entries["started"].actor == "orchestrator"
    assert feed.types()[-1] == "started"  # ordered by time, not by stream position


def test_consequence_without_incident_id_follows_its_causation() -> None:
    feed = Feed()
    first = alert("fp-1")
    opening = opened(first)
    breach = opening.caused(SlaBreached(clock_id="c1", incident_id="INC0000001", policy="P1",
                                        kind="response", priority=1, target_seconds=60,
                                        deadline=T0, breached_at=T0),
                            source="slm", subject="INC0000001", time=T0 + timedelta(minutes=1))
    entry = breach.caused(LedgerEntryPosted(
        entry_id="E1", posted_at=T0, period="2026-11", service="checkout",
        amount=Decimal("500"), currency="EUR", causation_id=breach.id,
        lines=[PostingLine(account="a", debit=Decimal("500"))]),
        source="finance", subject="E1", time=T0 + timedelta(minutes=2))
    feed(first, opening, breach, entry)
    assert feed.types() == ["accepted", "opened", "breached", "posted"]
    assert feed.chain.entries()[-1].summary == "ledger penalty 500 EUR, entry E1"

    # AUDIT interleaves its sources: a consequence may be stored before its cause, and
    # the alert after the incident it opened.
    reordered = Feed()
    reordered(entry, breach, opening, first)
    assert reordered.types() == ["accepted", "opened", "breached", "posted"]


def test_alerts_older_than_the_lookback_are_forgotten() -> None:
    feed = Feed(lookback=2)
    first = alert("fp-1")
    feed(first, alert("fp-2"), alert("fp-3"), opened(first))
    assert feed.types() == ["opened"]


def test_unknown_incident_has_no_entries() -> None:
    feed = Feed("INC0000404")
    first = alert("fp-1")
    feed(first, opened(first))
    assert feed.chain.entries() == []


def test_causation_is_read_from_the_envelope_not_the_data() -> None:
    env = Envelope.wrap(LedgerEntryPosted(
        entry_id="E1", posted_at=T0, period="2026-11", service="checkout",
        amount=Decimal("1"), currency="EUR", causation_id="DATA-CAUSE", lines=[]),
        source="finance", causation_id="ENVELOPE-CAUSE")
    assert _causation(env.to_bytes()) == "ENVELOPE-CAUSE"
    assert _causation(Envelope.wrap(WorkflowStarted(
        workflow_id="W", workflow="w", version=1, incident_id="I", started_at=T0),
        source="x").to_bytes()) is None


def test_workflow_events_read_as_sentences() -> None:
    assert summary("itsm.workflow.approval.requested.v1",
                   {"step": "approve", "default": "reject", "summary": "Block it?"}) == (
        "approval approve requested (default reject): Block it?")
    assert summary("itsm.workflow.instance.resumed.v1",
                   {"workflow": "major-incident", "gap_seconds": 42.0,
                    "waiting_steps": ["rca"]}) == (
        "major-incident resumed after 42.0s without progress, waiting on rca")
    assert summary("itsm.workflow.notification.delivered.v1",
                   {"group": "stakeholders", "target": "slack", "ok": False, "attempts": 3,
                    "error": "HTTP 500"}) == (
        "notified stakeholders via slack: failed after 3 attempts: HTTP 500")
    assert summary("itsm.workflow.proposal.applied.v1",
                   {"action": "block_source", "target": "198.51.100.23", "agent": "security",
                    "approved_by": "user:carol"}) == (
        "applied block_source on 198.51.100.23 from agent:security, approved by user:carol")


def test_unknown_type_falls_back_to_its_name_and_telling_fields() -> None:
    assert summary("itsm.workflow.something_new.v1",
                   {"step": "contain", "incident_id": "INC0000001"}) == (
        "workflow.something_new step=contain")
    assert summary("itsm.slm.sla.breached.v1", {"nonsense": True}).startswith("SLA")
    assert actor("itsm.agent.proposal.recorded.v1", "agent-security",
                 {"agent": "security"}) == "agent:security"
    assert actor("itsm.workflow.approved.v1", "orchestrator",
                 {"actor": "user:ana"}) == "user:ana"


def entry(at: datetime, type_: str = "itsm.incident.opened.v1") -> TrailEntry:
    return TrailEntry(at=at, type=type_, subject="INC0000001", actor="incidents",
                      summary="s", id=str(at.timestamp()))


def test_render_shows_offsets_and_long_pauses() -> None:
    out = render([entry(T0), entry(T0 + timedelta(seconds=2.5)),
                  entry(T0 + timedelta(seconds=44.5), "itsm.workflow.instance.resumed.v1")],
                 gap_seconds=30)
    lines = out.splitlines()
    assert "+2.5s" in lines[3]
    assert "… 42s without activity …" in lines[4]
    assert "workflow.instance.resumed" in lines[5]
    assert "+44.5s" in lines[5]
    assert "without activity" not in render([entry(T0), entry(T0 + timedelta(seconds=20))],
                                            gap_seconds=30)

