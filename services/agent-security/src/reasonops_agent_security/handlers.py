"""Security-category events in; findings queued; decisions, proposals and an alert out."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

from reasonops_contracts import Envelope, durables, new_id, subjects
from reasonops_contracts.agents import (
    AgentProposalRecorded,
    SecurityOutput,
    SecurityReviewRequested,
)
from reasonops_contracts.ingest import EventAccepted, NativeEvent
from reasonops_llm import Decided, PromptTemplate, Router, decision_from
from reasonops_llm.queue import AgentQueue
from reasonops_runtime import Clock, EventRouter, Transaction
from reasonops_runtime.store import OutboxMessage, Session, Store

from . import store
from .domain import (
    Finding,
    SecurityEvent,
    Thresholds,
    WindowStats,
    assess,
    detect,
    detect_distributed,
    detect_slow,
    security_event,
)

SOURCE = "agent-security"
CONSUMER = durables.AGENT_SECURITY_EVENTS
REQUESTS_CONSUMER = durables.AGENT_SECURITY_REQUESTS

log = logging.getLogger(__name__)


def _stats_payload(stats: WindowStats, pattern: str | None, incident_id: str | None,
                   request_id: str) -> dict[str, Any]:
    data = asdict(stats)
    data.update(first_at=stats.first_at.isoformat() if stats.first_at else None,
                last_at=stats.last_at.isoformat(), top_accounts=list(stats.top_accounts),
                privileged=list(stats.privileged),
                pattern=pattern, incident_id=incident_id, request_id=request_id)
    return data


def _stats_from(payload: dict[str, Any]) -> WindowStats:
    return WindowStats(
        source=payload["source"], failures=payload["failures"], accounts=payload["accounts"],
        waf_blocks=payload["waf_blocks"], top_accounts=tuple(payload["top_accounts"]),
        service=payload["service"],
        first_at=datetime.fromisoformat(payload["first_at"]) if payload["first_at"] else None,
        last_at=datetime.fromisoformat(payload["last_at"]),
        privileged=tuple(payload.get("privileged") or ()),
        recovered=payload.get("recovered", 0), seconds=payload.get("seconds", 300),
        sources=payload.get("sources", 1))


def finding_id(finding: Finding) -> str:
    return f"security:{finding.pattern}:{finding.key}:{finding.stats.last_at.isoformat()}"


SLOW_AFTER_FAILURES = 3
"""A source's long window is looked at when its short one has this many failures (below:
slower than the slowest pattern the long window finds, 40 accounts an hour)."""


async def source_window(session: Session, source: str, at: datetime,
                        limits: Thresholds, *, slow_after: int = SLOW_AFTER_FAILURES
                        ) -> tuple[WindowStats, Finding | None]:
    """A source's last five minutes and the pattern they show; when none, and they hold
    ``slow_after`` failures or more, its last hour and the slow pattern it shows."""
    stats = await store.window(session, source, at, limits.window_seconds)
    finding = detect(stats, limits)
    if finding is None and stats.failures >= slow_after:
        hour = await store.window(session, source, at, limits.long_window_seconds)
        if (finding := detect_slow(hour, limits)) is not None:
            return hour, finding
    return stats, finding


async def newly_found(session: Session, found: Sequence[SecurityEvent],
                      limits: Thresholds, now: datetime) -> list[Finding]:
    """Add security events to the window (stored ``now``); for each source, the pattern
    its window shows now (five minutes, else the hour), and for each account failing,
    whether many sources are at it; unless the same pattern on the same source or
    account was already found within the cooldown (the open incident carries it). What
    is returned is recorded as found."""
    await store.add(session, found, now)
    latest: dict[str, datetime] = {}
    failing: dict[str, datetime] = {}
    for event in found:
        latest[event.source] = max(event.at, latest.get(event.source, event.at))
        if event.kind == "login_failure" and event.account:
            failing[event.account] = max(event.at, failing.get(event.account, event.at))
    candidates: list[Finding] = []
    for source, at in latest.items():
        if (finding := (await source_window(session, source, at, limits))[1]) is not None:
            candidates.append(finding)
    if failing:
        for stats in await store.accounts_under_fire(
                session, list(failing), max(failing.values()), limits.long_window_seconds,
                limits.distributed_failures):
            if (finding := detect_distributed(stats, limits)) is not None:
                candidates.append(finding)
    new: list[Finding] = []
    for finding in candidates:
        at = finding.stats.last_at
        since = at - timedelta(seconds=limits.cooldown_seconds)
        if await store.recently_found(session, finding.key, finding.pattern, since):
            continue
        await store.record_finding(session, finding.key, finding.pattern, at,
                                   finding_id(finding))
        new.append(finding)
    if latest:
        kept = timedelta(seconds=max(limits.long_window_seconds, limits.cooldown_seconds) * 2)
        await store.forget_before(session, max(latest.values()) - kept, now - kept)
    return new


class SecurityAgent:
    def __init__(self, router: Router, template: PromptTemplate, clock: Clock,
                 limits: Thresholds, db: Store,
                 caught_up: Callable[[], Awaitable[int]] | None = None) -> None:
        self.router = router
        self.template = template
        self.clock = clock
        self.limits = limits
        self.db = db
        self.caught_up = caught_up
        """Waits (a while) until every event ingest had accepted is stored; how many were
        still to be read when it stopped waiting (None: nothing to wait for)."""
        self.queue: AgentQueue | None = None

    def events(self) -> EventRouter:
        router = EventRouter()
        router.on_many(EventAccepted,
                       wanted=lambda e: security_event(e) is not None)(self.on_events)
        return router

    def requests(self) -> EventRouter:
        router = EventRouter()
        router.on(SecurityReviewRequested)(self.on_review)
        return router

    async def on_events(self, tx: Transaction,
                        batch: list[tuple[Envelope, EventAccepted]]) -> None:
        """Add the batch's security events to the window, then look at each source once."""
        found = [(env, e) for env, e in ((env, security_event(ev)) for env, ev in batch) if e]
        if not found:
            return
        latest: dict[str, tuple[Envelope, datetime]] = {}
        for envelope, event in found:
            if event.source not in latest or event.at >= latest[event.source][1]:
                latest[event.source] = (envelope, event.at)
        for finding in await newly_found(tx.session, [e for _, e in found], self.limits,
                                         self.clock.now()):
            await self._found(tx, latest[finding.stats.source][0], finding)

    async def _found(self, tx: Transaction, envelope: Envelope, finding: Finding) -> None:
        stats = finding.stats
        assert self.queue is not None
        request_id = finding_id(finding)
        await self.queue.enqueue(tx, envelope, request_id, "finding",
                                 _stats_payload(stats, finding.pattern, None, request_id))
        log.warning("security pattern detected", extra={"pattern": finding.pattern,
                                                        "failures": stats.failures})

    async def on_review(self, tx: Transaction, envelope: Envelope,
                        request: SecurityReviewRequested) -> None:
        """Queued; its window is read when it is decided (``_reviewed``)."""
        assert self.queue is not None
        await self.queue.enqueue(tx, envelope, request.request_id, "review", {
            "source": request.source, "incident_id": request.incident_id,
            "request_id": request.request_id})

    async def _reviewed(self, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """A review's window (the hour too, even after a pause in the last five minutes),
        read once the agent has stored the events ingest had accepted when it was asked,
        so a review during an attack counts the attack's logins still being read; and
        how many events were still to be read if the agent stopped waiting for them."""
        behind = await self.caught_up() if self.caught_up is not None else 0
        async with self.db.read() as session:
            stats, finding = await source_window(session, payload["source"], self.clock.now(),
                                                 self.limits, slow_after=0)
        return _stats_payload(stats, finding.pattern if finding else None,
                              payload.get("incident_id"), payload["request_id"]), behind

    async def decide(self, kind: str, payload: dict[str, Any], cause: Envelope) -> Decided:
        behind = 0
        if kind == "review" and "failures" not in payload:  # (queued before: measured)
            payload, behind = await self._reviewed(payload)
        stats = _stats_from(payload)
        pattern = payload["pattern"]
        finding = Finding(pattern, stats) if pattern else None
        prompt = self.template.render(payload)
        answer = await self.router.decide(prompt, SecurityOutput,
                                          lambda: assess(stats, finding, self.limits))
        # Measured facts are ours; a model may word the assessment, not change the counts.
        output = answer.output.model_copy(update=dict(
            pattern=pattern, source=stats.source, failures=stats.failures,
            accounts=stats.accounts, window_seconds=stats.seconds))
        if behind:
            output = output.model_copy(update={"reasons": [
                *output.reasons, f"{behind} events that had arrived were not read yet when "
                "this was decided; a later review may count more"]})
        answer = replace(answer, output=output)
        now = self.clock.now()
        decision = decision_from(answer, prompt, agent="security",
                                 request_id=payload["request_id"],
                                 incident_id=payload.get("incident_id"),
                                 summary=f"Security ({answer.provider}): {output.summary}",
                                 decided_at=now)
        decided = Decided(decision)
        if finding is None:
            return decided
        for action in output.recommended_actions:
            if action == "monitor":
                continue
            params = {"window_seconds": str(stats.seconds),
                      "failures": str(stats.failures)}
            target = stats.source
            if action == "force_password_reset":
                accounts = stats.privileged if finding.pattern == "privilege_escalation" \
                    else stats.top_accounts
                params["accounts"] = ",".join(accounts)
                target = accounts[0] if len(accounts) == 1 else stats.source
            decided.events.append(AgentProposalRecorded(
                proposal_id=new_id(), decision_id=decision.decision_id, agent="security",
                incident_id=payload.get("incident_id"), action=action, target=target,
                parameters=params, reason=output.summary, proposed_at=now))
        decided.raw.append(self._alert(finding, output))
        return decided

    def _alert(self, finding: Finding, output: SecurityOutput) -> OutboxMessage:
        """Open a security incident the way any monitoring sender does, with an event on
        the ingest subject; one fingerprint per source, so a later finding (stuffing that
        turns into brute force) enriches the same incident."""
        stats = finding.stats
        name = "".join(p.capitalize() for p in finding.pattern.split("_")) + "Detected"
        event = NativeEvent(
            name=name, severity=output.severity, service=stats.service,
            resource=stats.source, summary=output.summary[:1024],
            description="\n".join(output.reasons)[:8192],
            labels={"category": "security", "source_ip": stats.source,
                    "pattern": finding.pattern, "failures": str(stats.failures),
                    "accounts": str(stats.accounts), "detected_by": SOURCE},
            fingerprint=f"security-{stats.source}", source=SOURCE)
        body = json.dumps(event.model_dump(mode="json", exclude_none=True)).encode()
        return OutboxMessage(new_id(), subjects.INGEST_RAW_EVENT, body)

