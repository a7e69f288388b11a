"""Root-cause hypotheses from what happened around an incident. Pure: no I/O, no clock.

Evidence, strongest first: a change shortly before on the service or something it
depends on; a dependency alerting at the same time; a similar past incident and what
resolved it; and the incident's own alerts, the default when nothing else is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reasonops_contracts.agents import EvidenceRef, Hypothesis, RcaOutput

MAX_HYPOTHESES = 5


@dataclass(frozen=True)
class AlertSeen:
    fingerprint: str
    name: str
    service: str | None
    summary: str
    at: datetime


@dataclass(frozen=True)
class ChangeSeen:
    change_id: str
    summary: str
    service: str | None
    at: datetime
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class PastIncident:
    incident_id: str
    title: str
    resolution: str | None
    score: float
    method: str = "lexical"


@dataclass(frozen=True)
class Context:
    incident_id: str
    title: str
    service: str | None
    opened_at: datetime
    own_alerts: Sequence[AlertSeen]
    dependencies: Sequence[str]
    dependency_alerts: Sequence[AlertSeen]
    changes: Sequence[ChangeSeen]
    similar: Sequence[PastIncident]
    category: str | None = None
    timeline: Sequence[tuple[datetime, str, str]] = ()
    refs: set[str] = field(default_factory=set)

    def known_refs(self) -> set[str]:
        return ({a.fingerprint for a in [*self.own_alerts, *self.dependency_alerts]}
                | {c.change_id for c in self.changes} | {p.incident_id for p in self.similar}
                | {self.incident_id})


def _hours_before(at: datetime, opened: datetime) -> float:
    return (opened - at).total_seconds() / 3600


def _change_hypothesis(ctx: Context, change: ChangeSeen) -> Hypothesis:
    hours = max(0.0, _hours_before(change.at, ctx.opened_at))
    on_service = change.service == ctx.service
    base = 0.8 if on_service else 0.6
    confidence = max(0.15, base * (1 - min(hours, 24) / 24) if hours > 1 else base)
    where = "the service itself" if on_service else f"its dependency {change.service}"
    evidence = [EvidenceRef(kind="change", ref=change.change_id,
                            note=f"{change.summary} ({hours:.1f}h before the incident)")]
    evidence += [EvidenceRef(kind="alert", ref=a.fingerprint, note=a.name)
                 for a in ctx.own_alerts[:2]]
    return Hypothesis(cause=f"Change on {where}: {change.summary}",
                      confidence=round(confidence, 2), evidence=evidence)


def _dependency_hypothesis(ctx: Context, dependency: str,
                           alerts: Sequence[AlertSeen]) -> Hypothesis:
    before = any(a.at <= ctx.opened_at for a in alerts)
    names = ", ".join(sorted({a.name for a in alerts}))
    return Hypothesis(
        cause=f"{dependency} is failing ({names}) and {ctx.service} depends on it",
        confidence=0.65 if before else 0.5,
        evidence=[EvidenceRef(kind="dependency_alert", ref=a.fingerprint,
                              note=f"{a.service}: {a.summary}") for a in alerts[:3]])


def _recurrence_hypothesis(past: PastIncident) -> Hypothesis:
    fix = f"; resolved with: {past.resolution}" if past.resolution else ""
    return Hypothesis(cause=f"Recurrence of {past.incident_id} ('{past.title}'){fix}",
                      confidence=round(min(0.6, 0.6 * past.score + 0.1), 2),
                      evidence=[EvidenceRef(kind="similar_incident", ref=past.incident_id,
                                            note=f"similarity {past.score:.2f} ({past.method})")])


def _own_fault(ctx: Context) -> Hypothesis:
    names = ", ".join(sorted({a.name for a in ctx.own_alerts})) or ctx.title
    evidence = [EvidenceRef(kind="alert", ref=a.fingerprint, note=a.summary)
                for a in ctx.own_alerts[:3]] or [
        EvidenceRef(kind="incident", ref=ctx.incident_id, note=ctx.title)]
    return Hypothesis(cause=f"Fault within {ctx.service or 'the service'} itself ({names})",
                      confidence=0.25, evidence=evidence)


def next_check(ctx: Context, top: Hypothesis) -> str:
    ref = top.evidence[0]
    if ref.kind == "change":
        change = next(c for c in ctx.changes if c.change_id == ref.ref)
        link = f" ({change.links[0]})" if change.links else ""
        return (f"Compare {change.service or ctx.service} before and after change "
                f"{change.change_id}{link}; roll it back if the errors started with it.")
    if ref.kind == "dependency_alert":
        return f"Check the health, dashboards and own alerts of {top.cause.split(' ')[0]}."
    if ref.kind == "similar_incident":
        return f"Read how {ref.ref} was resolved and check whether the same fix applies."
    return (f"Check {ctx.service or 'the service'}'s logs and error rates around "
            f"{ctx.opened_at:%Y-%m-%d %H:%M} UTC.")


def analyse(ctx: Context) -> RcaOutput:
    """Ranked hypotheses, most likely first, each with the evidence behind it."""
    found = [_change_hypothesis(ctx, c) for c in ctx.changes]
    by_dependency: dict[str, list[AlertSeen]] = {}
    for alert in ctx.dependency_alerts:
        by_dependency.setdefault(alert.service or "?", []).append(alert)
    found += [_dependency_hypothesis(ctx, dep, alerts) for dep, alerts in by_dependency.items()]
    found += [_recurrence_hypothesis(p) for p in ctx.similar]
    found.append(_own_fault(ctx))
    ranked = sorted(found, key=lambda h: -h.confidence)[:MAX_HYPOTHESES]
    top = ranked[0]
    return RcaOutput(
        hypotheses=ranked, next_check=next_check(ctx, top),
        similar_incidents=[p.incident_id for p in ctx.similar],
        summary=(f"{ctx.incident_id} ({ctx.title}): most likely {top.cause[0].lower()}"
                 f"{top.cause[1:]} (confidence {top.confidence:.0%}); "
                 f"{len(ranked) - 1} other hypotheses."))


def keep_known_evidence(output: RcaOutput, ctx: Context) -> RcaOutput:
    """A model may only cite evidence we gave it; unsupported hypotheses lose weight."""
    known = ctx.known_refs()
    kept = []
    for h in output.hypotheses:
        evidence = [e for e in h.evidence if e.ref in known]
        confidence = h.confidence if evidence else min(h.confidence, 0.2)
        kept.append(h.model_copy(update={"evidence": evidence, "confidence": confidence}))
    kept.sort(key=lambda h: -h.confidence)
    return output.model_copy(update={"hypotheses": kept})
