"""An incident's briefing: the agents' latest views of it combined into one summary, with
where they disagree, what to do next and each view's evidence. Pure: no I/O, no clock.

A view is an agent's latest decision about the incident: triage's category, group and
priority; the root cause ranked; the service-level forecast of a clock; a security
finding on the address the incident is about; a capacity forecast. The briefing is
made once two agents have spoken (one view is the decision itself)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reasonops_contracts.agents import (
    CapacityOutput,
    RcaOutput,
    SecurityOutput,
    TriageOutput,
)
from reasonops_contracts.briefings import AgentView, BriefingOutput, ViewedBy
from reasonops_contracts.forecasts import SlmOutput

VIEWED: tuple[ViewedBy, ...] = ("triage", "rca", "slm", "security", "capacity")
"""The order views are shown and summed up in."""
EXPECTED: tuple[ViewedBy, ...] = ("triage", "rca", "slm", "security")
"""The views a briefing says are missing when an agent has not spoken."""
VIEWS_TO_BRIEF = 2
UNCERTAIN = 0.5
REASONS_SHOWN = 3


@dataclass(frozen=True)
class Seen:
    """A decision the agent kept: who, when, and its output as recorded."""

    agent: ViewedBy
    decision_id: str
    decided_at: datetime
    provider: str
    summary: str
    output: dict[str, Any]


@dataclass(frozen=True)
class Subject:
    """The incident briefed, as the read model knows it."""

    incident_id: str
    title: str
    service: str | None
    priority: int


def latest_views(seen: Sequence[Seen]) -> dict[ViewedBy, Seen]:
    """Each agent's newest decision (a later one replaces what it said before)."""
    found: dict[ViewedBy, Seen] = {}
    for decision in sorted(seen, key=lambda s: s.decided_at):
        found[decision.agent] = decision
    return found


def brief(subject: Subject, seen: Sequence[Seen]) -> BriefingOutput:
    """The briefing of ``subject`` from the decisions ``seen`` about it (at least one)."""
    views = latest_views(seen)
    read = {agent: _READERS[agent](views[agent].output) for agent in VIEWED if agent in views}
    said: list[str] = []
    concerns: list[str] = []
    steps: list[str] = []
    asks: list[int] = []
    for _agent, facts in read.items():
        said.extend(facts.said)
        concerns.extend(facts.concerns)
        steps.extend(facts.steps)
        asks.extend(facts.asks(subject.priority))
    concerns.extend(_disagreements(read, subject))
    head = f"{subject.incident_id} (P{subject.priority}"
    head += f", {subject.service})" if subject.service else ")"
    summary = f"{head}: {'; '.join(said)}." if said else f"{head}: {subject.title}."
    wanted = min(asks, default=None)
    return BriefingOutput(
        incident_id=subject.incident_id, summary=summary[:2000],
        views=[AgentView(agent=agent, decision_id=views[agent].decision_id,
                         decided_at=views[agent].decided_at,
                         provider=views[agent].provider, summary=views[agent].summary,
                         evidence=read[agent].evidence) for agent in read],
        references=[views[agent].decision_id for agent in read],
        suggested_priority=wanted if wanted is not None and wanted < subject.priority
        else None,
        concerns=concerns, next_steps=list(dict.fromkeys(steps)),
        missing=[agent for agent in EXPECTED if agent not in views])


def keep_known_views(answer: BriefingOutput, first: BriefingOutput) -> BriefingOutput:
    """A model writes the summary, concerns and next steps; the views, references and
    missing agents are always the decisions' own (a model cannot cite a decision that
    was not made, nor drop one), and a priority it suggests stays within the views'."""
    asked = first.suggested_priority
    suggested = answer.suggested_priority
    if suggested is not None and (asked is None or suggested < asked):
        suggested = asked
    return answer.model_copy(update={
        "incident_id": first.incident_id, "views": first.views,
        "references": first.references, "missing": first.missing,
        "suggested_priority": suggested})


@dataclass
class Facts:
    """What one view contributes: evidence shown with it, a phrase of the summary,
    concerns, next steps and the priorities it asks for."""

    evidence: list[str]
    said: list[str]
    concerns: list[str]
    steps: list[str]
    priorities: list[int]
    raise_by_one: bool = False
    category: str | None = None

    def asks(self, current: int) -> list[int]:
        return [*self.priorities, *([max(1, current - 1)] if self.raise_by_one else [])]


def _triage(output: dict[str, Any]) -> Facts:
    t = TriageOutput.model_validate(output)
    return Facts(
        evidence=[f"category {t.category}, group {t.assignment_group}",
                  f"suggested P{t.suggested_priority} (impact {t.suggested_impact}, "
                  f"urgency {t.suggested_urgency}), confidence {t.confidence:.0%}",
                  *t.reasons[:REASONS_SHOWN]],
        said=[f"triage files it as {t.category} for {t.assignment_group}"],
        concerns=[], steps=[], priorities=[t.suggested_priority], category=t.category)


def _rca(output: dict[str, Any]) -> Facts:
    r = RcaOutput.model_validate(output)
    top = r.hypotheses[0]
    evidence = []
    for h in r.hypotheses[:REASONS_SHOWN]:
        notes = [e.note for e in h.evidence[:2] if e.note not in h.cause]
        evidence.append(f"{h.cause} ({h.confidence:.0%})"
                        + (": " + "; ".join(notes) if notes else ""))
    concerns = [f"the root cause is uncertain: the likeliest, {top.cause}, at "
                f"{top.confidence:.0%}"] if top.confidence < UNCERTAIN else []
    return Facts(evidence=[*evidence, f"next check: {r.next_check}"],
                 said=[f"the likeliest cause is {top.cause} ({top.confidence:.0%})"],
                 concerns=concerns, steps=[r.next_check], priorities=[])


_SLM_STEPS = {"escalate": "escalate to the group's next level",
              "reassign": "hand it to an overflow group",
              "raise_priority": "raise the priority",
              "notify_supplier": "tell the supplier"}


def _slm(output: dict[str, Any]) -> Facts:
    s = SlmOutput.model_validate(output)
    clock = f"the {s.kind} clock"
    late = s.minutes_needed - s.minutes_left
    evidence = [f"{s.kind} clock ({s.agreement}{', ' + s.party if s.party else ''}): "
                f"deadline {s.deadline:%Y-%m-%d %H:%M} UTC, {s.minutes_left:.0f} min left, "
                f"about {s.minutes_needed:.0f} min needed, {s.progress_percent:.0f}% used",
                f"{s.queue_ahead} incident(s) queued before it"
                + (f" in {s.assignment_group}" if s.assignment_group else ""),
                *s.reasons[:REASONS_SHOWN]]
    if not s.predicted_breach:
        return Facts(evidence=evidence, said=[f"{clock} is on track"], concerns=[],
                     steps=[], priorities=[])
    return Facts(evidence=evidence,
                 said=[f"{clock} is forecast to breach, about {late:.0f} min late"],
                 concerns=[f"{clock} is forecast to breach at {s.deadline:%H:%M} UTC "
                           f"({s.queue_ahead} queued before it)"],
                 steps=[_SLM_STEPS[a] for a in s.recommended_actions],
                 priorities=[], raise_by_one="raise_priority" in s.recommended_actions)


_SECURITY_STEPS = {"block_source": "block {source}", "force_password_reset":
                   "reset the passwords of the accounts tried",
                   "monitor": "keep watching {source}"}


def _security(output: dict[str, Any]) -> Facts:
    s = SecurityOutput.model_validate(output)
    if s.pattern is None:
        return Facts(evidence=[f"{s.source}: {s.failures} failure(s) on {s.accounts} "
                               "account(s), no attack pattern", *s.reasons[:REASONS_SHOWN]],
                     said=[f"security finds no attack from {s.source}"], concerns=[],
                     steps=[], priorities=[])
    attack = s.pattern.replace("_", " ")
    return Facts(
        evidence=[f"{attack} from {s.source}: {s.failures} failure(s) on {s.accounts} "
                  f"account(s) in {s.window_seconds} s, severity {s.severity}",
                  *s.reasons[:REASONS_SHOWN]],
        said=[f"security sees {attack} from {s.source}"],
        concerns=[f"an attack is under way: {attack} from {s.source}"]
        if s.severity == "critical" else [],
        steps=[_SECURITY_STEPS[a].format(source=s.source) for a in s.recommended_actions],
        priorities=[1] if s.severity == "critical" else [], category="security")


def _capacity(output: dict[str, Any]) -> Facts:
    c = CapacityOutput.model_validate(output)
    what = c.resource or c.series
    evidence = [f"{c.metric} on {what}: {c.latest_value:g} of {c.limit:g}, "
                f"{c.slope_per_hour:+g} an hour over {c.points} point(s)",
                *c.reasons[:REASONS_SHOWN]]
    hours = c.hours_to_exhaustion
    if hours is None:
        return Facts(evidence=evidence, said=[f"{what} is not running out"], concerns=[],
                     steps=[], priorities=[])
    concerns = []
    if c.resolution_target_hours is not None and hours < c.resolution_target_hours:
        concerns = [f"{what} runs out in {hours:.1f} h, before the resolution target "
                    f"({c.resolution_target_hours:g} h)"]
    return Facts(evidence=evidence, said=[f"{what} runs out in {hours:.1f} h"],
                 concerns=concerns, steps=[f"free or add {c.metric} on {what}"],
                 priorities=[])


_READERS: dict[ViewedBy, Callable[[dict[str, Any]], Facts]] = {
    "triage": _triage, "rca": _rca, "slm": _slm, "security": _security,
    "capacity": _capacity}


def _disagreements(read: dict[ViewedBy, Facts], subject: Subject) -> list[str]:
    """Where the views disagree with the incident or with each other."""
    found = []
    triage = read.get("triage")
    if triage is not None and triage.priorities and triage.priorities[0] < subject.priority:
        found.append(f"triage suggests P{triage.priorities[0]}; the incident is "
                     f"P{subject.priority}")
    security = read.get("security")
    if triage is not None and security is not None and security.category == "security" \
            and triage.category != "security":
        found.append(f"security sees an attack; triage filed it as {triage.category}")
    return found
