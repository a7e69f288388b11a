"""Role policy: which principal may run which command or apply which proposal, where.

Principals (``user:alice``, ``agent:triage``, ``service:orchestrator``) hold roles,
possibly scoped to teams and services; roles allow actions (``incident.resolve``,
``incident.*``, ``proposal.block_source``), each automatically or only after approval.
What no role allows is denied. The file format is read by ``policy_file``; see
docs/guides/identity-and-policy.md ("Roles and policy")."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from reasonops_contracts.forecasts import SlmAction

from .actions import matches
from .errors import DomainError

if TYPE_CHECKING:
    from reasonops_contracts import Envelope

Approval = Literal["auto", "required"]

PRINCIPAL_KINDS = ("user", "agent", "service")
LOCAL_OPERATOR = "user:admin"
"""The principal of the operator identity ``reasonops up`` creates (see ADR 0030)."""


def principal_of(actor: str) -> str:
    """The principal an actor names: ``kind:name`` as it is, a bare name as
    ``user:<name>``."""
    actor = actor.strip()
    return actor if ":" in actor else f"user:{actor}"


@dataclass(frozen=True)
class Scope:
    """Teams and services a role applies to; empty: everywhere."""

    teams: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.teams or self.services)

    def covers(self, team: str | None, service: str | None) -> bool:
        """Unscoped covers everything; a scope covers what a listed team owns or a listed
        service is (a target with neither is outside every scope)."""
        if not self:
            return True
        return (team is not None and team in self.teams) or \
            (service is not None and service in self.services)

    def label(self) -> str:
        return "+".join([*sorted(self.teams), *(f"service:{s}" for s in sorted(self.services))])


@dataclass(frozen=True)
class Rule:
    actions: tuple[str, ...]
    approval: Approval = "auto"

    def allows(self, action: str) -> bool:
        return any(matches(p, action) for p in self.actions)


@dataclass(frozen=True)
class Role:
    name: str
    rules: tuple[Rule, ...] = ()
    scope: Scope = Scope()
    description: str = ""


@dataclass(frozen=True)
class Grant:
    """A role given to a principal (or a group, or a wildcard), with an optional scope."""

    role: str
    scope: Scope = Scope()


@dataclass(frozen=True)
class Verdict:
    """The answer to one check; ``reason`` says why, for the error and the audit record."""

    allowed: bool
    principal: str
    action: str
    roles: tuple[str, ...] = ()
    reason: str = ""
    requires_approval: bool = False


@dataclass(frozen=True)
class Visibility:
    """What a principal may read: everything (it holds a role without a scope), or what
    any of its roles covers (each ``scopes`` entry: the role's and the grant's scopes,
    both of which must cover), or nothing (it holds no role)."""

    principal: str
    everything: bool = False
    scopes: tuple[tuple[Scope, ...], ...] = ()

    def __bool__(self) -> bool:
        return self.everything or bool(self.scopes)

    def covers(self, team: str | None, service: str | None) -> bool:
        return self.everything or any(all(s.covers(team, service) for s in held)
                                      for held in self.scopes)

    def services(self, owner: Callable[[str], str | None],
                 known: Iterable[str] = ()) -> frozenset[str] | None:
        """Of ``known`` services and those the scopes name, the ones covered when a
        service's team is its ``owner``; None when everything is visible."""
        if self.everything:
            return None
        named = {name for held in self.scopes for s in held for name in s.services}
        return frozenset(name for name in {*known, *named} if self.covers(owner(name), name))


class Forbidden(DomainError):
    """A command refused by the role policy: a ``forbidden`` error reply.

    ``denial`` is the ``AccessDenied`` envelope to keep on record: the kit publishes it
    in a transaction of its own, so it survives the refused command's rollback.
    """

    code = "forbidden"

    def __init__(self, message: str, field: str | None = None, *,
                 denial: Envelope | None = None) -> None:
        super().__init__(message, field)
        self.denial = denial


@dataclass(frozen=True)
class _Held:
    grant: Grant
    role: Role

    def label(self) -> str:
        scopes = [s.label() for s in (self.role.scope, self.grant.scope) if s]
        return self.role.name + (f"@{'/'.join(scopes)}" if scopes else "")

    def covers(self, team: str | None, service: str | None) -> bool:
        return self.role.scope.covers(team, service) and self.grant.scope.covers(team, service)


class Policy:
    """Principals -> roles -> allowed actions, with an optional team/service scope."""

    def __init__(self, roles: Iterable[Role] = (),
                 principals: Mapping[str, tuple[Grant, ...]] | None = None,
                 groups: Mapping[str, frozenset[str]] | None = None, *,
                 source: str = "built-in") -> None:
        self.roles = {r.name: r for r in roles}
        self.principals = dict(principals or {})
        self.groups = dict(groups or {})
        self.source = source

    @classmethod
    def default(cls) -> Policy:
        """Without a file: every user may do everything, services run any command, agents
        only propose what their job needs."""
        return cls(
            roles=(Role("operator", (Rule(("*",)),), description="Everything, everywhere"),
                   Role("automation", (Rule(("*",)),), description="ReasonOps' own services"),
                   Role("triage-agent", (Rule(("incident.assign", "incident.change_priority")),),
                        description="Sets priority and assignment on its own"),
                   Role("capacity-agent", (Rule(("proposal.raise_urgency",)),),
                        description="Raises urgency on its own"),
                   Role("security-agent", (Rule(("proposal.block_source",
                                                 "proposal.force_password_reset"),
                                                "required"),),
                        description="Containment only after a person approves it"),
                   Role("slm-agent", (Rule(tuple(f"proposal.{a}" for a in get_args(SlmAction)),
                                           "required"),),
                        description="Acts before a breach only after a person approves it")),
            principals={"user:*": (Grant("operator"),),
                        "service:*": (Grant("automation"),),
                        "agent:triage": (Grant("triage-agent"),),
                        "agent:capacity": (Grant("capacity-agent"),),
                        "agent:security": (Grant("security-agent"),),
                        "agent:slm": (Grant("slm-agent"),)})

    def bindings(self) -> dict[str, tuple[str, ...]]:
        """Each principal, group or wildcard the policy names -> its ``role@scope`` labels."""
        return {key: tuple(_Held(g, self.roles[g.role]).label() for g in grants
                           if g.role in self.roles)
                for key, grants in self.principals.items()}

    def check(self, principal: str, action: str, *, team: str | None = None,
              service: str | None = None) -> Verdict:
        """May ``principal`` do ``action`` (``incident.resolve``, ``proposal.block_source``,
        ``workflow.approve``...) on something owned by ``team`` / ``service``?"""
        who = principal_of(principal)
        if who.split(":", 1)[0] not in PRINCIPAL_KINDS:
            return Verdict(False, who, action, (),
                           f"{who} is not a principal (user:, agent: or service:); group "
                           "membership comes from the policy file only")
        held = self._held(who)
        labels = tuple(dict.fromkeys(h.label() for h in held))
        if not held:
            return Verdict(False, who, action, (),
                           f"{who} has no roles in the {self.source} policy; denied by default")
        has = f"{who} has roles [{', '.join(labels)}]"
        allowing = [(h, r) for h in held for r in h.role.rules if r.allows(action)]
        if not allowing:
            return Verdict(False, who, action, labels, f"{has}; none of them allows {action}")
        in_scope = [(h, r) for h, r in allowing if h.covers(team, service)]
        if not in_scope:
            return Verdict(False, who, action, labels,
                           f"{has}; {action} on {target_label(team, service)} is outside "
                           "their scope")
        auto = [(h, r) for h, r in in_scope if r.approval == "auto"]
        chosen, _ = (auto or in_scope)[0]
        if auto:
            return Verdict(True, who, action, labels, f"allowed by {chosen.label()}")
        return Verdict(True, who, action, labels,
                       f"{chosen.label()} allows {action} only with approval",
                       requires_approval=True)

    def visibility(self, principal: str) -> Visibility:
        """What ``principal`` may read: the union of its roles' scopes, whatever the roles
        allow to be done (an observer of team payments reads the payments incidents)."""
        who = principal_of(principal)
        if who.split(":", 1)[0] not in PRINCIPAL_KINDS:
            return Visibility(who)
        scopes: list[tuple[Scope, ...]] = []
        for held in self._held(who):
            narrowed = tuple(s for s in (held.role.scope, held.grant.scope) if s)
            if not narrowed:
                return Visibility(who, everything=True)
            scopes.append(narrowed)
        return Visibility(who, scopes=tuple(dict.fromkeys(scopes)))

    def narrowed(self, principal: str, roles: Iterable[str]) -> Policy:
        """``principal`` holding only its grants of ``roles`` (a narrowed API token)."""
        keep, who = set(roles), principal_of(principal)
        return Policy(self.roles.values(), {who: tuple(
            h.grant for h in self._held(who) if h.role.name in keep)},
            source=f"{self.source} narrowed to {', '.join(sorted(keep))}")

    def roles_of(self, principal: str) -> tuple[str, ...]:
        """The roles ``principal`` holds (directly, by wildcard or group)."""
        return tuple(dict.fromkeys(h.role.name for h in self._held(principal_of(principal))))

    def _held(self, principal: str) -> list[_Held]:
        kind = principal.split(":", 1)[0]
        keys = [principal, "*"]
        if kind in PRINCIPAL_KINDS:
            keys.append(f"{kind}:*")
        keys += [f"group:{g}" for g, members in sorted(self.groups.items())
                 if principal in members]
        return [_Held(grant, self.roles[grant.role])
                for key in keys for grant in self.principals.get(key, ())
                if grant.role in self.roles]


def target_label(team: str | None, service: str | None) -> str:
    parts = ([f"team {team}"] if team else []) + ([f"service {service}"] if service else [])
    return ", ".join(parts) or "something owned by no team or service"


def describe(verdict: Verdict, target: str | None = None) -> str:
    """One line for the error reply: who, what, on what, and why not."""
    on = f" {target}" if target else ""
    return f"{verdict.principal} may not {verdict.action}{on}: {verdict.reason}"

