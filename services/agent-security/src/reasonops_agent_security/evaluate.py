"""Evaluate the security agent over authentication logs with labelled attacks and benign
noise: recall, precision, false alarms per day of noise and time to detect.

A case describes a stretch of logs: the benign noise of an organisation (people
mistyping passwords, an office behind one address arriving at nine, a service account
with a stale password, administrators granting roles) and the attacks in it, each with
its source, start and kind. The logs are drawn from the description with the case's
seed, so a case is small to write and the same every run; they are replayed in time
order, in batches as the consumer fetches them, through the agent's own detection
(:func:`.handlers.newly_found`) on its own store.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from reasonops_llm import evaluation
from reasonops_llm.evaluation import CaseError, Progress, count_cases
from reasonops_runtime.store import Store

from . import store
from .domain import Finding, SecurityEvent, Thresholds, security_event
from .handlers import newly_found
from .logs import Attack, Case, logs

__all__ = ["CaseError", "count_cases", "load_cases", "render", "run"]

BATCH = 100
"""Events per replayed batch (what the consumer fetches at a time under load)."""

def load_cases(*paths: Path) -> list[Case]:
    return evaluation.load_cases(Case, *paths)


@dataclass
class Report:
    cases: int = 0
    attacks: int = 0
    detected: int = 0
    findings: int = 0
    true_findings: int = 0
    noise_days: float = 0.0
    false_alarms: int = 0
    minutes_to_detect: list[float] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    """attack kind -> [detected, attacks]"""
    misses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases, "attacks": self.attacks, "detected": self.detected,
            "recall": self.detected / self.attacks if self.attacks else None,
            "findings": self.findings,
            "precision": self.true_findings / self.findings if self.findings else None,
            "noise_days": round(self.noise_days, 2), "false_alarms": self.false_alarms,
            "false_alarms_per_day": round(self.false_alarms / self.noise_days, 2)
            if self.noise_days else None,
            "minutes_to_detect_median": statistics.median(self.minutes_to_detect)
            if self.minutes_to_detect else None,
            "minutes_to_detect_max": max(self.minutes_to_detect)
            if self.minutes_to_detect else None,
            "by_attack": {k: {"detected": d, "attacks": n} for k, (d, n) in
                          sorted(self.by_kind.items())},
        }


def render(report: Report) -> str:
    figures = report.as_dict()

    def share(value: object) -> str:
        return f"{value:.1%}" if isinstance(value, float) else "n/a"
    lines = [f"{report.cases} cases, {report.noise_days:.1f} days of logs, "
             f"{report.attacks} attacks",
             f"recall                {share(figures['recall'])} "
             f"({report.detected}/{report.attacks} attacks detected)",
             f"precision             {share(figures['precision'])} "
             f"({report.true_findings}/{report.findings} findings were attacks)",
             f"false alarms per day  {figures['false_alarms_per_day']} "
             f"({report.false_alarms} in {report.noise_days:.1f} days)"]
    if report.minutes_to_detect:
        lines.append(f"time to detect        median "
                     f"{statistics.median(report.minutes_to_detect):.1f} min, "
                     f"longest {max(report.minutes_to_detect):.1f} min")
    lines += ["", "by attack"]
    lines += [f"  {kind:<24} {d}/{n}" for kind, (d, n) in sorted(report.by_kind.items())]
    return "\n".join(lines)


def _matches(finding: Finding, attack: Attack, start: datetime, window: int) -> bool:
    began = start + timedelta(minutes=attack.start_minute)
    ended = began + timedelta(minutes=attack.minutes, seconds=window)
    return finding.stats.source in attack.origins() and began <= finding.stats.last_at <= ended


def _live(batch: list[SecurityEvent]) -> datetime:
    """When a live agent would have stored ``batch``: as its last event happened."""
    return max(e.at for e in batch)


async def replay(case: Case, db: Store, limits: Thresholds) -> list[Finding]:
    found: list[Finding] = []
    batch = []
    for event in logs(case):
        read = security_event(event)
        if read is not None:
            batch.append(read)
        if len(batch) >= BATCH:
            async with db.transaction() as tx:
                found += await newly_found(tx.session, batch, limits, _live(batch))
            batch = []
    if batch:
        async with db.transaction() as tx:
            found += await newly_found(tx.session, batch, limits, _live(batch))
    return found


async def evaluate(cases: Sequence[Case], limits: Thresholds,
                   progress: Progress | None = None) -> Report:
    report = Report(cases=len(cases))
    for n, case in enumerate(cases, start=1):
        async with evaluation.case_store(store.metadata) as db:
            found = await replay(case, db, limits)
        report.noise_days += case.hours / 24
        report.findings += len(found)
        matched: set[int] = set()
        for attack in case.attacks:
            report.attacks += 1
            tally = report.by_kind.setdefault(attack.kind, [0, 0])
            tally[1] += 1
            hits = [i for i, f in enumerate(found)
                    if _matches(f, attack, case.start, limits.long_window_seconds)]
            matched.update(hits)
            if hits:
                report.detected += 1
                tally[0] += 1
                first = min(found[i].stats.last_at for i in hits)
                report.minutes_to_detect.append(round((first - case.start).total_seconds()
                                                      / 60 - attack.start_minute, 2))
            else:
                report.misses.append(f"{case.id}: {attack.kind} from {attack.source} "
                                     f"({attack.tries} tries, {attack.accounts} accounts, "
                                     f"{attack.minutes:g} min) not detected")
        report.true_findings += len(matched)
        for i, finding in enumerate(found):
            if i not in matched:
                report.false_alarms += 1
                report.misses.append(
                    f"{case.id}: false alarm {finding.pattern} from {finding.stats.source} "
                    f"at {finding.stats.last_at:%H:%M} ({finding.stats.failures} failures, "
                    f"{finding.stats.accounts} accounts)")
        if progress is not None:
            progress(n)
    return report


async def run(paths: Sequence[Path], *, chain: str, llm: object = None,
              progress: Progress | None = None) -> Report:
    """The entry point ``reasonops agents eval --agent security`` calls. Detection is the
    rules' alone (a provider words the assessment, it does not detect), so ``chain`` is
    not used; the thresholds are the service's defaults."""
    return await evaluate(load_cases(*paths), Thresholds(), progress)
