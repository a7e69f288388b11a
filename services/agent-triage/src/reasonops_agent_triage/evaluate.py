"""Evaluate the triage agent over labelled cases (JSONL): accuracy per field, a confusion
matrix for category, latency and cost per provider."""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Literal

from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field

from reasonops_contracts.agents import Category, TriageOutput, TriageRequested
from reasonops_contracts.ingest import Severity
from reasonops_llm import LlmMetrics, LlmSettings, PromptTemplate, Router, build_router, evaluation
from reasonops_llm.evaluation import CaseError, Progress, count_cases

from . import tune as tune_module
from .app import PROMPTS
from .domain import triage
from .handlers import prompt_input
from .signals import CATEGORIES
from .tune import LeaveOneOut
from .vocabulary import build

__all__ = ["CaseError", "count_cases", "leave_one_source_out", "load_cases", "render",
           "render_leave_one_out", "run", "tune"]

# How monitoring tools spell severity, onto the canonical four levels.
SEVERITY_WORDS: dict[str, Severity] = {
    "critical": "critical", "crit": "critical", "disaster": "critical", "fatal": "critical",
    "emergency": "critical", "emerg": "critical", "alert": "critical", "p1": "critical",
    "sev1": "critical", "sev-1": "critical", "1": "critical", "high": "error",
    "major": "error", "error": "error", "err": "error", "p2": "error", "sev2": "error",
    "sev-2": "error", "2": "error", "average": "warning", "warning": "warning",
    "warn": "warning", "minor": "warning", "medium": "warning", "moderate": "warning",
    "p3": "warning", "sev3": "warning", "sev-3": "warning", "3": "warning", "low": "info",
    "info": "info", "information": "info", "informational": "info", "notice": "info",
    "ok": "info", "p4": "info", "p5": "info", "sev4": "info", "4": "info", "5": "info",
    "debug": "info", "not classified": "info",
    # States some tools send instead of a severity.
    "down": "critical", "red": "critical", "health_err": "critical", "unavailable": "critical",
    "alarm": "error", "alerting": "error", "triggered": "error", "yellow": "warning",
    "health_warn": "warning", "degraded": "warning", "block": "warning", "up": "info",
    "green": "info", "resolved": "info",
}


class Case(BaseModel):
    """One labelled case. Besides what is scored, a case may carry an ``id``, a
    ``split`` (dev: tuned on; test: held out), a ``difficulty`` and a ``language``
    (accuracy is reported by each when present), the ``reason`` for its label (shown
    with a miss), and any other fields (notes): kept, named in the report, not used."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    split: str | None = None
    difficulty: str | None = None
    language: str | None = None
    reason: str | None = None
    title: str = Field(min_length=1)
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    severity: str
    source_tool: str
    expected_category: Category
    expected_priority: int | None = Field(default=None, ge=1, le=5)

    def severity_level(self) -> Severity:
        return SEVERITY_WORDS.get(self.severity.strip().lower(), "warning")

    def request(self, n: int) -> TriageRequested:
        labels = {k: str(v) for k, v in self.labels.items()}
        return TriageRequested(
            request_id=f"eval-{n}", workflow_id="eval", incident_id=f"INC{n:07d}",
            title=self.title, service=labels.get("service"),
            resource=labels.get("instance") or labels.get("host"),
            severity=self.severity_level(), priority=3, labels=labels,
            annotations={"description": self.description, "source_tool": self.source_tool})


def load_cases(*paths: Path) -> list[Case]:
    """Every line of every file a case; a bad line is reported with its number and field."""
    return evaluation.load_cases(Case, *paths)


@dataclass
class ProviderFigures:
    latencies_ms: list[float] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost: Decimal = Decimal(0)


GROUPINGS = ("split", "difficulty", "language")
"""Case fields the category accuracy is also reported by, when cases carry them."""


@dataclass
class Report:
    cases: int = 0
    correct: Counter[str] = field(default_factory=Counter)
    scored: Counter[str] = field(default_factory=Counter)
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    providers: dict[str, ProviderFigures] = field(default_factory=dict)
    fallbacks: int = 0
    misses: list[str] = field(default_factory=list)
    groups: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """grouping -> value -> [correct, scored] of category, e.g. difficulty -> hard."""
    unused_fields: set[str] = field(default_factory=set)

    def accuracy(self, name: str) -> float | None:
        return self.correct[name] / self.scored[name] if self.scored[name] else None

    def count(self, case: Case, correct: bool) -> None:
        for grouping in GROUPINGS:
            value = getattr(case, grouping)
            if value is not None:
                tally = self.groups.setdefault(grouping, {}).setdefault(value, [0, 0])
                tally[0] += correct
                tally[1] += 1
        self.unused_fields.update(case.model_extra or {})

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases, "fallbacks": self.fallbacks,
            "accuracy": {f: self.accuracy(f) for f in ("category", "priority")},
            "category_accuracy_by": {
                grouping: {value: {"accuracy": right / scored, "correct": right,
                                   "cases": scored}
                           for value, (right, scored) in sorted(values.items())}
                for grouping, values in self.groups.items()},
            "fields_not_used": sorted(self.unused_fields),
            "confusion": {k: dict(v) for k, v in self.confusion.items()},
            "providers": {name: {"decisions": len(p.latencies_ms),
                                 "latency_ms_mean": round(statistics.fmean(p.latencies_ms), 3),
                                 "latency_ms_p95": round(_p95(p.latencies_ms), 3),
                                 "tokens_in": p.tokens_in, "tokens_out": p.tokens_out,
                                 "cost": str(p.cost)}
                          for name, p in self.providers.items()},
        }


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def evaluate(cases: Sequence[Case], router: Router, template: PromptTemplate,
                   progress: Progress | None = None) -> Report:
    report = Report(cases=len(cases))
    for n, case in enumerate(cases, start=1):
        request = case.request(n)
        started = time.perf_counter()
        answer = await router.decide(template.render(prompt_input(request)), TriageOutput,
                                     partial(triage, request))
        elapsed = (time.perf_counter() - started) * 1000
        out: TriageOutput = answer.output
        figures = report.providers.setdefault(answer.provider, ProviderFigures())
        figures.latencies_ms.append(elapsed)
        figures.tokens_in += answer.tokens_in
        figures.tokens_out += answer.tokens_out
        figures.cost += answer.cost
        report.fallbacks += answer.fallback
        report.scored["category"] += 1
        report.confusion[case.expected_category][out.category] += 1
        right = out.category == case.expected_category
        report.correct["category"] += right
        report.count(case, right)
        if not right:
            named = f"{case.id}: " if case.id else ""
            why = f" ({case.reason})" if case.reason else ""
            report.misses.append(f"{named}{case.title!r}: expected {case.expected_category}"
                                 f"{why}, got {out.category}")
        if case.expected_priority is not None:
            report.scored["priority"] += 1
            report.correct["priority"] += out.suggested_priority == case.expected_priority
            if out.suggested_priority != case.expected_priority:
                named = f"{case.id}: " if case.id else ""
                report.misses.append(f"{named}{case.title!r}: expected P{case.expected_priority}"
                                     f", got P{out.suggested_priority} ("
                                     f"{'; '.join(out.reasons[-2:])})")
        if progress is not None:
            progress(n)
    return report


def render(report: Report) -> str:
    lines = [f"{report.cases} cases, {report.fallbacks} decided after a fallback", ""]
    for name in ("category", "priority"):
        acc = report.accuracy(name)
        shown = f"{acc:.1%} ({report.correct[name]}/{report.scored[name]})" if acc is not None \
            else "n/a (no expectations)"
        lines.append(f"accuracy {name:<9} {shown}")
    for grouping, values in report.groups.items():
        lines += ["", f"category accuracy by {grouping}"]
        lines += [f"  {value:<16} {right / scored:6.1%} ({right}/{scored})"
                  for value, (right, scored) in sorted(values.items())]
    if report.unused_fields:
        lines += ["", "fields kept but not used: " + ", ".join(sorted(report.unused_fields))]
    lines += ["", "confusion (rows: expected, columns: decided)"]
    width = max(len(c) for c in CATEGORIES) + 1
    lines.append(" " * width + " ".join(f"{c[:5]:>5}" for c in CATEGORIES))
    for expected in CATEGORIES:
        row = report.confusion.get(expected, Counter())
        lines.append(f"{expected:<{width}}" + " ".join(f"{row[c]:>5}" for c in CATEGORIES))
    lines += ["", "provider      decisions  latency ms mean    p95  tokens in/out   cost"]
    for name, p in report.providers.items():
        mean = statistics.fmean(p.latencies_ms)
        lines.append(f"{name:<13} {len(p.latencies_ms):>9}  {mean:>15.3f}"
                     f" {_p95(p.latencies_ms):>6.3f}  {p.tokens_in:>6}/{p.tokens_out:<6}  "
                     f"{p.cost}")
    return "\n".join(lines)


Format = Literal["text", "json"]


async def run(paths: Sequence[Path], *, chain: str, llm: LlmSettings | None = None,
              progress: Progress | None = None) -> Report:
    """The entry point ``reasonops agents eval`` calls."""
    cases = load_cases(*paths)
    router = build_router("triage", chain, llm or LlmSettings(),
                          LlmMetrics(CollectorRegistry()))
    return await evaluate(cases, router, PromptTemplate.latest(PROMPTS, "triage"), progress)


def leave_one_source_out(paths: Sequence[Path]) -> LeaveOneOut:
    """``reasonops agents eval --leave-one-source-out``: the rules only, learning again
    without each source tool (see :mod:`.tune`)."""
    return tune_module.leave_one_source_out(load_cases(*paths))


render_leave_one_out = tune_module.render_leave_one_out


def tune(paths: Sequence[Path]) -> tuple[str, str]:
    """``reasonops agents tune``: the learned vocabulary (YAML) and what was done."""
    cases = load_cases(*paths)
    dev, skipped = tune_module.dev_only(cases)
    learned = tune_module.learn(dev, build(tune_module.base_documents()))
    names = ", ".join(p.name for p in paths)
    doc = tune_module.document(learned, f"learned from the {len(dev)} dev cases of {names}")
    words = sum(len(w) for w in learned.values())
    return tune_module.dump(doc), (f"learned {words} words from {len(dev)} dev cases; "
                                   f"{skipped} cases of other splits left unread")
