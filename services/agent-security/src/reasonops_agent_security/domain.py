"""Security patterns over windows of events. Pure: no I/O, no broker, no clock.

Brute force: many failed logins from one source in a window. Credential stuffing: one
source failing against many different accounts, a few tries each (a leaked list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from reasonops_contracts.agents import SecurityOutput, SecurityPattern
from reasonops_contracts.ingest import EventAccepted

EventKind = Literal["login_failure", "waf_block", "privilege_change"]

SOURCE_LABELS = ("source_ip", "src_ip", "client_ip", "remote_addr", "ip", "source_address")
ACCOUNT_LABELS = ("user", "username", "user_name", "account", "target_user", "login", "email")
_FAILED_LOGIN = re.compile(
    r"(failed|failure|invalid|denied|rejected|unsuccessful|bad)[ ._-]*(login|logon|sign[ -]?in|"
    r"auth\w*|password|credential)|(login|logon|sign[ -]?in|auth\w*)[ ._-]*"
    r"(failed|failure|denied|rejected|error)", re.IGNORECASE)
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


@dataclass(frozen=True)
class Finding:
    pattern: SecurityPattern
    stats: WindowStats


def _first(values: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if values.get(key):
            return values[key].strip()
    return None


def security_event(event: EventAccepted) -> SecurityEvent | None:
    """The security reading of an accepted event, or None if it is not one."""
    if event.status != "firing":
        return None
    fields = {**event.annotations, **event.labels}
    source = _first(fields, SOURCE_LABELS) or (event.resource if event.resource else None)
    text = " ".join(filter(None, [event.name, event.summary, fields.get("event_type"),
                                  fields.get("action"), fields.get("outcome")]))
    outcome = (fields.get("outcome") or fields.get("result") or "").lower()
    kind: EventKind | None = None
    if _FAILED_LOGIN.search(text) or (outcome in {"failure", "failed", "denied"}
                                      and re.search(r"login|auth|sign", text, re.I)):
        kind = "login_failure"
    elif _WAF.search(text):
        kind = "waf_block"
    elif _PRIVILEGE.search(text):
        kind = "privilege_change"
    if kind is None or not source:
        return None
    at = event.starts_at or event.received_at
    return SecurityEvent(kind, source, _first(fields, ACCOUNT_LABELS), event.service, at)


def detect(stats: WindowStats, limits: Thresholds) -> Finding | None:
    """Which pattern, if any, the window shows. A normal failure rate shows none."""
    if stats.privileged and stats.failures >= limits.privilege_after_failures:
        return Finding("privilege_escalation", stats)
    tries = stats.failures / stats.accounts if stats.accounts else float(stats.failures)
    if stats.accounts >= limits.stuffing_accounts and tries <= limits.stuffing_tries_per_account:
        return Finding("credential_stuffing", stats)
    if stats.failures >= limits.brute_force_failures:
        return Finding("brute_force", stats)
    if stats.accounts >= limits.stuffing_accounts:
        return Finding("credential_stuffing", stats)
    return None


def assess(stats: WindowStats, finding: Finding | None, limits: Thresholds) -> SecurityOutput:
    """The rules' assessment: facts, severity, recommended containment."""
    minutes = limits.window_seconds // 60
    base = (f"{stats.failures} failed logins for {stats.accounts} accounts from "
            f"{stats.source} in {minutes} minutes")
    reasons = [base]
    if stats.waf_blocks:
        reasons.append(f"{stats.waf_blocks} WAF blocks from the same source")
    if finding is None:
        reasons.append(f"below thresholds ({limits.brute_force_failures} failures or "
                       f"{limits.stuffing_accounts} accounts in {minutes} minutes)")
        return SecurityOutput(pattern=None, source=stats.source, failures=stats.failures,
                              accounts=stats.accounts, window_seconds=limits.window_seconds,
                              severity="info", recommended_actions=["monitor"],
                              reasons=reasons, summary=f"No attack pattern: {base}.")
    actions: list[Literal["block_source", "force_password_reset", "monitor"]] = ["block_source"]
    if finding.pattern == "privilege_escalation":
        reasons.append(f"privileges granted to {', '.join(stats.privileged)} from a source "
                       f"with {stats.failures} failed logins: a takeover, not administration")
        actions.append("force_password_reset")
    elif finding.pattern == "credential_stuffing":
        reasons.append(f"{stats.failures / max(stats.accounts, 1):.1f} tries per account "
                       "across many accounts looks like a replayed credential list")
        actions.append("force_password_reset")
    else:
        reasons.append(f">= {limits.brute_force_failures} failures in {minutes} minutes "
                       "from one source is password guessing")
        if stats.accounts <= 5:
            actions.append("force_password_reset")
    severity: Literal["critical", "error"] = (
        "critical" if stats.failures >= 5 * limits.brute_force_failures
        or finding.pattern != "brute_force" else "error")
    name = finding.pattern.replace("_", " ")
    return SecurityOutput(
        pattern=finding.pattern, source=stats.source, failures=stats.failures,
        accounts=stats.accounts, window_seconds=limits.window_seconds, severity=severity,
        recommended_actions=actions, reasons=reasons,
        summary=f"{name.capitalize()} from {stats.source}: {base}. Proposed: "
                f"{', '.join(a.replace('_', ' ') for a in actions)} (needs approval).")
