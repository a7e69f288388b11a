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

import random
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reasonops_contracts.ingest import EventAccepted
from reasonops_llm import evaluation
from reasonops_llm.evaluation import CaseError, Progress, count_cases
from reasonops_runtime.store import Store

from . import store
from .domain import Finding, Thresholds, security_event
from .handlers import newly_found

__all__ = ["CaseError", "count_cases", "load_cases", "render", "run"]

BATCH = 100
"""Events per replayed batch (what the consumer fetches at a time under load)."""

AttackKind = Literal["brute_force", "credential_stuffing", "password_spraying",
                     "privilege_escalation", "distributed_brute_force"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rush(Strict):
    """People arriving at the office behind one address, each mistyping once or twice."""

    at_hour: float
    users: int = Field(ge=1)
    minutes: float = Field(gt=0)


class ServiceAccount(Strict):
    """A job retrying with a stale password: one failure every ``every_minutes``."""

    source: str
    user: str
    every_minutes: float = Field(gt=0)


class Noise(Strict):
    users: int = Field(default=300, ge=1)
    typos_per_hour: float = Field(default=20, ge=0)
    sources: int = Field(default=40, ge=1, description="Addresses people log in from")
    office: str = "198.51.100.10"
    rushes: list[Rush] = Field(default_factory=list)
    service_accounts: list[ServiceAccount] = Field(default_factory=list)
    grants_per_day: float = Field(default=4, ge=0)
    waf_blocks_per_hour: float = Field(default=0, ge=0)


class Attack(Strict):
    kind: AttackKind
    source: str = Field(description="The address it comes from (the first of several "
                        "for a distributed one)")
    start_minute: float = Field(ge=0)
    minutes: float = Field(gt=0)
    tries: int = Field(ge=1, description="Failed logins in all")
    accounts: int = Field(default=1, ge=1)
    sources: int = Field(default=1, ge=1)
    granted: str | None = Field(default=None, description="privilege_escalation: the "
                                "account given rights at the end")


class Case(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    split: str | None = None
    reason: str | None = None
    start: datetime
    hours: float = Field(gt=0)
    seed: int = 0
    noise: Noise = Field(default_factory=Noise)
    attacks: list[Attack] = Field(default_factory=list)



def load_cases(*paths: Path) -> list[Case]:
    return evaluation.load_cases(Case, *paths)


def _event(at: datetime, source: str, user: str, kind: str) -> EventAccepted:
    name, summary = {
        "failure": ("LoginFailed", f"Failed password for {user} from {source}"),
        "success": ("LoginSucceeded", f"Accepted password for {user} from {source}"),
        "grant": ("RoleGranted", f"Privilege admin role granted to {user}"),
        "waf": ("WafBlock", f"WAF blocked a request from {source}"),
    }[kind]
    return EventAccepted(fingerprint=f"auth-{source}", status="firing", name=name,
                         severity="warning", service="sso", resource=source, summary=summary,
                         labels={"source_ip": source, "user": user}, starts_at=at,
                         received_at=at, source_format="event")


def logs(case: Case) -> Iterator[EventAccepted]:
    """The case's log lines, drawn from its description with its seed, in time order."""
    rng = random.Random(case.seed)
    noise, start, span = case.noise, case.start, case.hours * 3600
    users = [f"user{n:04d}" for n in range(noise.users)]
    sources = [f"10.20.{n // 250}.{n % 250 + 1}" for n in range(noise.sources)]
    lines: list[tuple[datetime, str, str, str]] = []

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    for _ in range(int(noise.typos_per_hour * case.hours)):
        moment, user, source = rng.uniform(0, span), rng.choice(users), rng.choice(sources)
        for n in range(rng.choice((1, 1, 1, 2, 3))):
            lines.append((at(moment + 8 * n), source, user, "failure"))
        lines.append((at(moment + 30), source, user, "success"))
    for day in range(int(case.hours // 24) + 1):
        for rush in noise.rushes:
            base = day * 86400 + rush.at_hour * 3600
            if base >= span:
                continue
            for user in rng.sample(users, min(rush.users, len(users))):
                moment = base + rng.uniform(0, rush.minutes * 60)
                for n in range(rng.choice((1, 1, 2))):
                    lines.append((at(moment + 10 * n), noise.office, user, "failure"))
                lines.append((at(moment + 40), noise.office, user, "success"))
    for account in noise.service_accounts:
        moment = rng.uniform(0, account.every_minutes * 60)
        while moment < span:
            lines.append((at(moment), account.source, account.user, "failure"))
            moment += account.every_minutes * 60
    for _ in range(int(noise.grants_per_day * case.hours / 24)):
        lines.append((at(rng.uniform(0, span)), "10.0.0.5", rng.choice(users), "grant"))
    for _ in range(int(noise.waf_blocks_per_hour * case.hours)):
        lines.append((at(rng.uniform(0, span)), f"192.0.2.{rng.randint(1, 254)}", "-", "waf"))
    for attack in case.attacks:
        targets = [f"victim{n:04d}" for n in range(attack.accounts)] \
            if attack.kind != "password_spraying" else rng.sample(users, min(
                attack.accounts, len(users)))
        origins = [attack.source, *(f"203.0.113.{n + 1}" for n in range(attack.sources - 1))]
        first = attack.start_minute * 60
        for n in range(attack.tries):
            moment = first + attack.minutes * 60 * n / attack.tries
            lines.append((at(moment), origins[n % len(origins)], targets[n % len(targets)],
                          "failure"))
        if attack.granted:
            lines.append((at(first + attack.minutes * 60 + 5), attack.source, attack.granted,
                          "grant"))
    lines.sort()
    for when, source, user, kind in lines:
        yield _event(when, source, user, kind)




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
    origins = {attack.source, *(f"203.0.113.{n + 1}" for n in range(attack.sources - 1))}
    return finding.stats.source in origins and began <= finding.stats.last_at <= ended


async def replay(case: Case, db: Store, limits: Thresholds) -> list[Finding]:
    found: list[Finding] = []
    batch = []
    for event in logs(case):
        read = security_event(event)
        if read is not None:
            batch.append(read)
        if len(batch) >= BATCH:
            async with db.transaction() as tx:
                found += await newly_found(tx.session, batch, limits)
            batch = []
    if batch:
        async with db.transaction() as tx:
            found += await newly_found(tx.session, batch, limits)
    return found


async def evaluate(cases: Sequence[Case], limits: Thresholds,
                   progress: Progress | None = None) -> Report:
    report = Report(cases=len(cases))
    with tempfile.TemporaryDirectory(prefix="security-eval-") as folder:
        for n, case in enumerate(cases, start=1):
            db = Store(f"sqlite+aiosqlite:///{folder}/case-{n}.db", store.metadata)
            await db.create_all()
            try:
                found = await replay(case, db, limits)
            finally:
                await db.close()
            report.noise_days += case.hours / 24
            report.findings += len(found)
            matched: set[int] = set()
            for attack in case.attacks:
                report.attacks += 1
                tally = report.by_kind.setdefault(attack.kind, [0, 0])
                tally[1] += 1
                hits = [i for i, f in enumerate(found)
                        if _matches(f, attack, case.start, limits.window_seconds)]
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
