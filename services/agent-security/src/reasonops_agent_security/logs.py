"""Authentication logs drawn from a labelled case's description (for the evaluation): the
benign noise of an organisation and the attacks in it, each with its source, start and
kind; the same logs every run for the same seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reasonops_contracts.ingest import EventAccepted

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

    def origins(self) -> list[str]:
        """The addresses it comes from: its source, then the others of a distributed one."""
        return [self.source, *(f"203.0.113.{n + 1}" for n in range(self.sources - 1))]


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
        origins = attack.origins()
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
