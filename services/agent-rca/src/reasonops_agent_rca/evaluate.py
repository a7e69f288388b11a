"""Evaluate the root-cause agent over incidents whose cause is known (JSONL): how often
the cause is the first hypothesis, and among the first three.

Each case is replayed into the agent's own store (a fresh SQLite file per case: the
alerts, changes and past incidents as the agent would have consumed them) and answered
by the agent's own ``decide``, so the windows, the dependency catalog, the similarity
search and the provider chain are the ones the service uses.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from reasonops_contracts import Envelope
from reasonops_contracts.agents import RcaOutput, RcaRequested
from reasonops_llm import LlmMetrics, LlmSettings, PromptTemplate, build_router, evaluation
from reasonops_llm.evaluation import CaseError, Progress, count_cases
from reasonops_runtime import FrozenClock
from reasonops_runtime.store import Store

from . import store
from .app import PROMPTS
from .cases import CAUSE_KINDS, Case
from .events import INCIDENT, history
from .handlers import RcaAgent

__all__ = ["CaseError", "count_cases", "load_cases", "render", "run"]

OPENED = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
"""Every case's incident opens at this moment; case times are minutes from it."""


def load_cases(*paths: Path) -> list[Case]:
    return evaluation.load_cases(Case, *paths)




@dataclass
class Report:
    cases: int = 0
    top1: Counter[str] = field(default_factory=Counter)
    top3: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    providers: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"cases": self.cases,
                "top1": sum(self.top1.values()) / self.cases if self.cases else None,
                "top3": sum(self.top3.values()) / self.cases if self.cases else None,
                "by_cause": {k: {"cases": self.by_kind[k], "top1": self.top1[k],
                                 "top3": self.top3[k]} for k in CAUSE_KINDS if self.by_kind[k]},
                "providers": dict(self.providers),
                "latency_ms_mean": round(statistics.fmean(self.latencies_ms), 3)
                if self.latencies_ms else None}


def render(report: Report) -> str:
    def share(hits: int, of: int) -> str:
        return f"{hits / of:6.1%} ({hits}/{of})" if of else "n/a"
    lines = [f"{report.cases} incidents with a known cause",
             f"cause ranked first      {share(sum(report.top1.values()), report.cases)}",
             f"cause in the first 3    {share(sum(report.top3.values()), report.cases)}",
             "", "by cause         first            first 3"]
    lines += [f"  {kind:<12} {share(report.top1[kind], report.by_kind[kind]):<16} "
              f"{share(report.top3[kind], report.by_kind[kind])}"
              for kind in CAUSE_KINDS if report.by_kind[kind]]
    mean = statistics.fmean(report.latencies_ms) if report.latencies_ms else 0.0
    lines += ["", "provider      decisions  latency ms mean"]
    lines += [f"{name:<13} {n:>9}  {mean:>15.3f}" for name, n in report.providers.items()]
    return "\n".join(lines)


def named_cause(hypothesis_refs: tuple[str, str], own_service: str) -> tuple[str, str]:
    """(kind, ref) of a hypothesis from its first evidence, as a case names causes."""
    kind, ref = hypothesis_refs
    if kind == "change":
        return "change", ref
    if kind == "dependency_alert":
        return "dependency", ref.split("/", 1)[0]
    if kind == "similar_incident":
        return "recurrence", ref
    return "own", own_service


async def _replay(case: Case, db: Store) -> None:
    alerts, changes, past, opened, resolutions = history(case, OPENED)
    async with db.transaction() as tx:
        await store.add_alerts(tx.session, alerts)
        await store.add_changes(tx.session, changes)
        await store.add_incidents(tx.session, [*past, opened])
        await store.resolved(tx.session, resolutions)


async def evaluate(cases: Sequence[Case], chain: str, llm: LlmSettings,
                   progress: Progress | None = None) -> Report:
    report = Report(cases=len(cases))
    router = build_router("rca", chain, llm, LlmMetrics(CollectorRegistry()))
    template = PromptTemplate.latest(PROMPTS, "rca")
    for n, case in enumerate(cases, start=1):
        async with evaluation.case_store(store.metadata) as db:
            await _replay(case, db)
            agent = RcaAgent(db, router, template, FrozenClock(OPENED), case.catalog())
            request = RcaRequested(request_id=f"eval-{n}", workflow_id="eval",
                                   incident_id=INCIDENT)
            started = time.perf_counter()
            decided = await agent.decide("rca", request.model_dump(mode="json"),
                                         Envelope.wrap(request, source="eval"))
            report.latencies_ms.append((time.perf_counter() - started) * 1000)
        output = decided.decision.output
        assert isinstance(output, RcaOutput)
        report.providers[decided.decision.provider] += 1
        named = [named_cause((h.evidence[0].kind, h.evidence[0].ref), case.incident.service)
                 if h.evidence else ("own", case.incident.service)
                 for h in output.hypotheses]
        expected = (case.cause.kind, case.cause.ref)
        report.by_kind[case.cause.kind] += 1
        report.top1[case.cause.kind] += named[:1] == [expected]
        report.top3[case.cause.kind] += expected in named[:3]
        if named[:1] != [expected]:
            where = named.index(expected) + 1 if expected in named else None
            report.misses.append(
                f"{case.id}: cause {expected[0]} {expected[1]} ranked "
                f"{where or 'nowhere'}; first: {output.hypotheses[0].cause}")
        if progress is not None:
            progress(n)
    return report


async def run(paths: Sequence[Path], *, chain: str, llm: LlmSettings | None = None,
              progress: Progress | None = None) -> Report:
    """The entry point ``reasonops agents eval --agent rca`` calls."""
    return await evaluate(load_cases(*paths), chain, llm or LlmSettings(), progress)
