"""The role policy at a service's door: check each command, keep every refusal on record.

A refused command raises ``Forbidden`` carrying its ``AccessDenied`` envelope; the
kit's responders publish that envelope in a transaction of their own (see
``Service.respond``), so the record survives the rollback of the command's work. A
consumer that refuses an effect (say, an agent's assignment) emits the envelope in its
own batch transaction instead.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from reasonops_contracts import Envelope
from reasonops_contracts.policy import AccessDenied

from .policy import Forbidden, Policy, Verdict, Visibility, describe, target_label


class Enforcer:
    """One service's gate: ``require`` for commands, ``decide`` + ``denial`` for effects."""

    def __init__(self, policy: Policy, source: str) -> None:
        self.policy = policy
        self.source = source

    def decide(self, actor: str, action: str, *, team: str | None = None,
               service: str | None = None) -> Verdict:
        """The verdict for something run now, directly: an action allowed only with
        approval is refused here, since only a workflow can hold it for approval."""
        verdict = self.policy.check(actor, action, team=team, service=service)
        if verdict.allowed and verdict.requires_approval:
            return replace(verdict, allowed=False,
                           reason=f"{verdict.reason}; only a workflow can apply it")
        return verdict

    def require(self, actor: str, action: str, *, at: datetime, team: str | None = None,
                service: str | None = None, incident_id: str | None = None,
                target: str | None = None, correlation_id: str | None = None) -> Verdict:
        """The allowing verdict, or ``Forbidden`` naming principal, action and reason."""
        verdict = self.decide(actor, action, team=team, service=service)
        if verdict.allowed:
            return verdict
        denial = self.denial(verdict, at=at, team=team, service=service,
                             incident_id=incident_id, target=target,
                             correlation_id=correlation_id)
        raise Forbidden(describe(verdict, incident_id or target), "actor", denial=denial)

    def visibility(self, actor: str, *, at: datetime, reading: str) -> Visibility:
        """What ``actor`` may read; ``Forbidden`` (on record) when it may read nothing,
        say a principal the policy gives no role. ``reading`` names the query."""
        visible = self.policy.visibility(actor)
        if visible:
            return visible
        verdict = self.policy.check(actor, "read")
        verdict = replace(verdict, action="read", reason=verdict.reason.replace(
            "denied by default", "reads denied by default"))
        denial = self.denial(verdict, at=at, target=reading)
        raise Forbidden(describe(verdict, reading), "actor", denial=denial)

    def readable(self, actor: str, *, at: datetime, reading: str, team: str | None,
                 service: str | None, incident_id: str | None = None) -> None:
        """``Forbidden`` (on record) unless ``actor`` may read what ``team`` owns or
        ``service`` is."""
        visible = self.visibility(actor, at=at, reading=reading)
        if visible.covers(team, service):
            return
        verdict = Verdict(False, visible.principal, "read", (),
                          f"{target_label(team, service)} is outside the scope of its roles")
        denial = self.denial(verdict, at=at, team=team, service=service,
                             incident_id=incident_id, target=reading)
        raise Forbidden(describe(verdict, incident_id or reading), "actor", denial=denial)

    def denial(self, verdict: Verdict, *, at: datetime, team: str | None = None,
               service: str | None = None, incident_id: str | None = None,
               target: str | None = None, correlation_id: str | None = None,
               cause: Envelope | None = None) -> Envelope:
        """The ``AccessDenied`` record of ``verdict``, in the chain of the thing refused."""
        event = AccessDenied(principal=verdict.principal, action=verdict.action,
                             roles=list(verdict.roles), reason=verdict.reason,
                             incident_id=incident_id, target=target, team=team,
                             service=service, service_name=self.source, denied_at=at)
        subject = incident_id or target or verdict.principal
        if cause is not None:
            return cause.caused(event, source=self.source, subject=subject, time=at)
        return Envelope.wrap(event, source=self.source, subject=subject,
                             correlation_id=correlation_id, time=at)
