"""The rules triage: category, assignment group, priority, confidence, reasons, summary.

Pure: no I/O, no broker, no clock. This is the ``rules`` provider's brain and the
last resort of every provider chain, so it must always produce a valid answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from reasonops_contracts.agents import Category, TriageOutput, TriageRequested

from .classify import Classification, classify
from .priority import Suggestion, suggest

CATEGORY_GROUPS: Mapping[Category, str] = {
    "network": "network-operations",
    "database": "database-administration",
    "application": "application-support",
    "security": "security-operations",
    "infrastructure": "infrastructure-operations",
    "storage": "storage-operations",
}

MAX_EVIDENCE_REASONS = 6


def _slug(value: str) -> str:
    return "-".join(value.strip().lower().split())


def assignment_group(category: Category, labels: Mapping[str, str]) -> tuple[str, str]:
    """The group to route to, and why.

    An explicit ``assignment_group`` label wins; otherwise the owning ``team`` label,
    except for security incidents, which the security team handles whoever owns the
    service; otherwise the category's default group.
    """
    explicit = _slug(labels.get("assignment_group", ""))
    if explicit:
        return explicit, f"assignment_group label -> {explicit}"
    team = _slug(labels.get("team", ""))
    default = CATEGORY_GROUPS[category]
    if team and category != "security":
        return team, f"team label -> {team}"
    if team:
        return default, f"security incidents go to {default}, not the owning team {team}"
    return default, f"{category} -> {default}"


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _score_line(result: Classification) -> str:
    ranked = sorted(result.scores.items(), key=lambda kv: -kv[1])
    shown = [f"{name} {score:g}" for name, score in ranked if score > 0]
    return "scores: " + (", ".join(shown) if shown else "no signal matched")


def _confidence_line(result: Classification) -> str:
    if not result.signals:
        return f"confidence {result.confidence:.2f}: no signal matched"
    if result.runner_up is None:
        return f"confidence {result.confidence:.2f}: no competing category"
    best = result.scores[result.category]
    second = result.scores[result.runner_up]
    return (f"confidence {result.confidence:.2f}: {result.category} {best:g} "
            f"vs {result.runner_up} {second:g}")


def _summary(request: TriageRequested, result: Classification, group: str,
             advice: Suggestion) -> str:
    where = request.service or request.resource or "an unnamed service"
    if result.signals:
        terms = ", ".join(dict.fromkeys(f"'{s.term}'" for s in result.signals[:3]))
        finding = f"looks like {_a(result.category)} problem ({terms})"
    else:
        finding = f"matched no known signal, so it is treated as {_a(result.category)} problem"
    doubt = (f"; {result.runner_up} is the runner-up" if result.runner_up else "")
    return (f"{request.title} on {where} {finding}. Route to {group} at "
            f"P{advice.priority} (impact {advice.impact}, urgency {advice.urgency}); "
            f"confidence {result.confidence:.0%}{doubt}.")


def triage(request: TriageRequested) -> TriageOutput:
    """Decide category, routing and priority for one incident."""
    result = classify(request)
    group, group_reason = assignment_group(result.category, request.labels)
    advice = suggest(request.severity, request.labels, result.category, result.words,
                     result.text)
    reasons = [s.describe() for s in result.signals[:MAX_EVIDENCE_REASONS]]
    reasons += [_score_line(result), _confidence_line(result), group_reason, *advice.reasons]
    return TriageOutput(
        category=result.category,
        assignment_group=group,
        suggested_impact=advice.impact,
        suggested_urgency=advice.urgency,
        suggested_priority=advice.priority,
        confidence=result.confidence,
        reasons=reasons,
        summary=_summary(request, result, group, advice),
    )
