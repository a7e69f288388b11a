"""Security patterns over windows of events. Pure: no I/O, no broker, no clock.

Brute force: many failed logins from one source on a few accounts, in five minutes or,
slower, in an hour. Credential stuffing: one source failing against many different
accounts, a few tries each (a leaked list), in five minutes; password spraying: the same
over an hour (one password tried across an organisation, slowly). Distributed brute
force: one account failing from many sources. People behind one address (an office)
fail too, but then log in: a many-account pattern needs most of its accounts never to
have logged in from the source afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from reasonops_contracts.agents import SecurityOutput, SecurityPattern
from reasonops_contracts.ingest import EventAccepted

EventKind = Literal["login_failure", "login_success", "waf_block", "privilege_change"]

SOURCE_LABELS = ("source_ip", "src_ip", "client_ip", "remote_addr", "ip", "source_address")
ACCOUNT_LABELS = ("user", "username", "user_name", "account", "target_user", "login", "email")
_FAILED_LOGIN = re.compile(
    r"(failed|failure|invalid|denied|rejected|unsuccessful|bad)[ ._-]*(login|logon|sign[ -]?in|"
    r"auth\w*|password|credential)|(login|logon|sign[ -]?in|auth\w*)[ ._-]*"
    r"(failed|failure|denied|rejected|error)", re.IGNORECASE)
_SUCCESSFUL_LOGIN = re.compile(
    r"(accepted|successful|succeeded|success)[ ._-]*(login|logon|sign[ -]?in|password|"
    r"publickey|auth\w*)|(login|logon|sign[ -]?in|auth\w*)[ ._-]*(succeeded|successful|"
    r"success)", re.IGNORECASE)
_WAF = re.compile(r"\bwaf\b|web application firewall|modsecurity", re.IGNORECASE)
_PRIVILEGE = re.compile(r"privilege|role (granted|changed)|sudo|admin rights|escalat",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Thresholds:
    window_seconds: int = 300
    brute_force_failures: int = 100
    stuffing_accounts: int = 20
    stuffing_tries_per_account: float = 5.0
    cooldown_seconds: int = 1800
    privilege_after_failures: int = 10
    long_window_seconds: int = 3600
    slow_brute_force_failures: int = 120
    """In the long window: twice what a job retrying a stale password every minute makes."""
    spraying_accounts: int = 40
    recovered_share: float = 0.5
    """A many-account pattern needs fewer than this share of its accounts to have logged
    in from the source in the window (people behind an office address do)."""
    distributed_failures: int = 50
    distributed_sources: int = 5


@dataclass(frozen=True)
class SecurityEvent:
    kind: EventKind
    source: str
    account: str | None
    service: str | None
    at: datetime


@dataclass(frozen=True)
class WindowStats:
    source: str
    failures: int
    accounts: int
    waf_blocks: int
    top_accounts: tuple[str, ...]
    service: str | None
    first_at: datetime | None
    last_at: datetime
    privileged: tuple[str, ...] = ()
    """Accounts given privileges from this source in the window."""
    recovered: int = 0
    """Accounts that failed and then logged in from this source in the window."""
    seconds: int = 300
    """The window's length."""
    sources: int = 1
    """Sources the failures came from (an account's window: more than one)."""

    @property
    def tries(self) -> float:
        return self.failures / self.accounts if self.accounts else float(self.failures)

    def mostly_strangers(self, share: float) -> bool:
        """Fewer than ``share`` of the accounts tried logged in afterwards."""
        return self.recovered < share * self.accounts


@dataclass(frozen=True)
class Finding:
    pattern: SecurityPattern
    stats: WindowStats

    @property
    def key(self) -> str:
        """What the finding is about: its source, or the account many sources are at."""
        if self.pattern == "distributed_brute_force":
            return f"account:{self.stats.top_accounts[0]}"[:128]  # the findings' column
        return self.stats.source


def _first(values: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if values.get(key):
            return values[key].strip()
    return None


SKEW = timedelta(minutes=5)
"""How far a sender's clock may run ahead of ingest's: an event said to happen later
than this after it arrived is placed at its arrival (one future-dated login would
otherwise move its source's window past the attack's other events)."""


def security_event(event: EventAccepted) -> SecurityEvent | None:
    """The security reading of an accepted event, or None if it is not one."""
    if event.status != "firing" or event.labels.get("detected_by", "").startswith("agent-"):
        return None  # resolved, or an agent's own finding come back as an alert: no evidence
    fields = {**event.annotations, **event.labels}
    source = _first(fields, SOURCE_LABELS) or (event.resource if event.resource else None)
    text = " ".join(filter(None, [event.name, event.summary, fields.get("event_type"),
                                  fields.get("action"), fields.get("outcome")]))
    outcome = (fields.get("outcome") or fields.get("result") or "").lower()
    kind: EventKind | None = None
    if _FAILED_LOGIN.search(text) or (outcome in {"failure", "failed", "denied"}
                                      and re.search(r"login|auth|sign", text, re.I)):
        kind = "login_failure"
    elif _SUCCESSFUL_LOGIN.search(text) or (outcome in {"success", "succeeded"}
                                            and re.search(r"login|auth|sign", text, re.I)):
        kind = "login_success"
    elif _WAF.search(text):
        kind = "waf_block"
    elif _PRIVILEGE.search(text):
        kind = "privilege_change"
    if kind is None or not source:
        return None
    at = event.starts_at or event.received_at
    if at > event.received_at + SKEW:
        at = event.received_at  # after its own arrival: a wrong clock, or a lie
    return SecurityEvent(kind, source, _first(fields, ACCOUNT_LABELS), event.service, at)


def detect(stats: WindowStats, limits: Thresholds) -> Finding | None:
    """Which pattern, if any, the short window shows. A normal failure rate shows none."""
    if stats.privileged and stats.failures >= limits.privilege_after_failures:
        return Finding("privilege_escalation", stats)
    strangers = stats.mostly_strangers(limits.recovered_share)
    if stats.accounts >= limits.stuffing_accounts and strangers \
            and stats.tries <= limits.stuffing_tries_per_account:
        return Finding("credential_stuffing", stats)
    if stats.failures >= limits.brute_force_failures \
            and stats.tries > limits.stuffing_tries_per_account:
        return Finding("brute_force", stats)
    if stats.accounts >= limits.stuffing_accounts and strangers:
        return Finding("credential_stuffing", stats)
    return None


def detect_slow(stats: WindowStats, limits: Thresholds) -> Finding | None:
    """Which pattern, if any, the long window shows: the same attacks, slower."""
    if stats.failures >= limits.slow_brute_force_failures \
            and stats.tries > limits.stuffing_tries_per_account:
        return Finding("brute_force", stats)
    if stats.accounts >= limits.spraying_accounts \
            and stats.mostly_strangers(limits.recovered_share):
        return Finding("password_spraying", stats)
    return None


def detect_distributed(stats: WindowStats, limits: Thresholds) -> Finding | None:
    """One account's long window (``stats.source`` is its busiest source): many failures
    from many sources is a distributed brute force."""
    if stats.failures >= limits.distributed_failures \
            and stats.sources >= limits.distributed_sources:
        return Finding("distributed_brute_force", stats)
    return None


def _facts(stats: WindowStats) -> str:
    minutes = stats.seconds // 60
    if stats.sources > 1:
        return (f"{stats.failures} failed logins for {stats.top_accounts[0]} from "
                f"{stats.sources} sources (most from {stats.source}) in {minutes} minutes")
    return (f"{stats.failures} failed logins for {stats.accounts} accounts from "
            f"{stats.source} in {minutes} minutes")


_WHY: dict[str, str] = {
    "privilege_escalation": "privileges granted to {privileged} from a source with "
                            "{failures} failed logins: a takeover, not administration",
    "credential_stuffing": "{tries:.1f} tries per account across many accounts looks like "
                           "a replayed credential list",
    "password_spraying": "{accounts} accounts tried {tries:.1f} times each in an hour, "
                         "{recovered} of them logged in afterwards: one password sprayed "
                         "across the organisation",
    "brute_force": "{failures} failures on {accounts} account(s) in {minutes} minutes from "
                   "one source is password guessing",
    "distributed_brute_force": "{failures} failures on one account from {sources} "
                               "sources: password guessing spread to stay under per-source "
                               "limits",
}


def assess(stats: WindowStats, finding: Finding | None, limits: Thresholds) -> SecurityOutput:
    """The rules' assessment: facts, severity, recommended containment."""
    minutes = stats.seconds // 60
    base = _facts(stats)
    reasons = [base]
    if stats.waf_blocks:
        reasons.append(f"{stats.waf_blocks} WAF blocks from the same source")
    if stats.recovered:
        reasons.append(f"{stats.recovered} of the accounts logged in afterwards")
    if finding is None:
        reasons.append(f"below thresholds ({limits.brute_force_failures} failures or "
                       f"{limits.stuffing_accounts} accounts in {minutes} minutes)")
        return SecurityOutput(pattern=None, source=stats.source, failures=stats.failures,
                              accounts=stats.accounts, window_seconds=stats.seconds,
                              severity="info", recommended_actions=["monitor"],
                              reasons=reasons, summary=f"No attack pattern: {base}.")
    pattern = finding.pattern
    reasons.append(_WHY[pattern].format(
        privileged=", ".join(stats.privileged), failures=stats.failures, tries=stats.tries,
        accounts=stats.accounts, recovered=stats.recovered, minutes=minutes,
        sources=stats.sources))
    actions: list[Literal["block_source", "force_password_reset", "monitor"]] = ["block_source"]
    if pattern != "brute_force" or stats.accounts <= 5:
        actions.append("force_password_reset")
    severity: Literal["critical", "error"] = (
        "critical" if stats.failures >= 5 * limits.brute_force_failures
        or pattern != "brute_force" else "error")
    name = pattern.replace("_", " ")
    return SecurityOutput(
        pattern=pattern, source=stats.source, failures=stats.failures,
        accounts=stats.accounts, window_seconds=stats.seconds, severity=severity,
        recommended_actions=actions, reasons=reasons,
        summary=f"{name.capitalize()} from {stats.source}: {base}. Proposed: "
                f"{', '.join(a.replace('_', ' ') for a in actions)} (needs approval).")
