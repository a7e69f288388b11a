"""The actions a role policy may name: the commands that enter the system and the
proposals agents make, and the patterns (``*``, ``incident.*``, ``incident.resolve``)
that name them."""

from __future__ import annotations

from typing import get_args

from reasonops_contracts.agents import ProposalAction

# Every action a policy may name: the commands that enter the system, and the
# proposals agents make (``proposal.<action>``, applied by the orchestrator).
ACTIONS: frozenset[str] = frozenset({
    *(f"incident.{verb}" for verb in (
        "create", "acknowledge", "resolve", "close", "reopen", "hold", "resume", "assign",
        "comment", "declare_major", "change_priority")),
    "problem.update", "silence.create", "silence.expire", "finance.close_period",
    "integration.create", "integration.revoke", "integration.rotate", "oncall.override",
    "workflow.approve", "workflow.reject", "workflow.cancel", "token.create", "token.revoke",
    "agent.configure", "agent.run", "deadletter.read", "deadletter.replay", "deadletter.discard",
    "servicenow.resync", "servicenow.inbound", "change.request", "change.approve",
    "change.implement", *(f"proposal.{action}" for action in get_args(ProposalAction))})
DOMAINS: frozenset[str] = frozenset(a.split(".", 1)[0] for a in ACTIONS)


def action_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not an action pattern (``*``, ``incident.*``, ``incident.resolve``),
    or None when it is one."""
    if pattern == "*":
        return None
    domain, dot, verb = pattern.partition(".")
    if not dot or not verb:
        return f"{pattern!r} is not an action (use domain.verb, domain.* or *)"
    if domain not in DOMAINS:
        return f"{pattern!r}: unknown domain {domain!r} (known: {', '.join(sorted(DOMAINS))})"
    if verb != "*" and pattern not in ACTIONS:
        known = sorted(a for a in ACTIONS if a.startswith(domain + "."))
        return f"unknown action {pattern!r} (known: {', '.join(known)})"
    return None


def matches(pattern: str, action: str) -> bool:
    if pattern in ("*", action):
        return True
    return pattern.endswith(".*") and action.startswith(pattern[:-1])
