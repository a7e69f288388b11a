"""The policy file (``REASONOPS_POLICY``): YAML validated on load, errors naming file, line,
field and reason. The format::

    roles:
      responder:
        description: Work a team's incidents
        allow: [incident.acknowledge, incident.resolve, incident.comment]
      security-agent:
        allow:
          - actions: [proposal.block_source]
            approval: required          # auto (default) or required
    groups:
      payments-oncall: [user:alice, user:dan]
    principals:
      user:bob: [{role: responder, teams: [identity]}]
      group:payments-oncall: [{role: responder, teams: [payments]}]
      agent:security: [security-agent]
      user:*: [observer]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .actions import action_pattern_problem
from .policy import Grant, Policy, Role, Rule, Scope
from .yaml_source import SourceError, dotted, line_of, read_mapping

_NAME = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}"
_MEMBER = re.compile(rf"^(user|agent|service):{_NAME}$")
_KEY = re.compile(rf"^(\*|(user|agent|service):({_NAME}|\*)|group:{_NAME})$")


class PolicyError(SourceError):
    """A policy file is wrong: which file, which line and field, and why."""


def _action(value: str) -> str:
    problem = action_pattern_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value
    return AfterValidator(check)


def _wrap(key: str) -> Any:
    """A bare string stands for ``{key: string}`` (``[responder]``, ``[incident.*]``)."""
    return BeforeValidator(lambda v: {key: [v] if key == "actions" else v}
                           if isinstance(v, str) else v)


Name = Annotated[str, _matching(re.compile(f"^{_NAME}$"),
                                "a name (letters, digits, '.', '_', '@', '-')")]
Action = Annotated[str, AfterValidator(_action)]
Member = Annotated[str, _matching(_MEMBER, "a principal (user:<name>, agent:<name> or "
                                           "service:<name>; the local operator is "
                                           "user:admin)")]
Key = Annotated[str, _matching(_KEY, "a principal (user:<name>, agent:<name>, "
                                     "service:<name>, group:<name>, kind:* or *; the local "
                                     "operator is user:admin)")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScopeSpec(_Strict):
    teams: list[Name] = Field(default_factory=list)
    services: list[Name] = Field(default_factory=list)


class RuleSpec(_Strict):
    actions: list[Action] = Field(min_length=1)
    approval: Literal["auto", "required"] = "auto"


class RoleSpec(_Strict):
    description: str = ""
    allow: list[Annotated[RuleSpec, _wrap("actions")]] = Field(default_factory=list)
    scope: ScopeSpec = Field(default_factory=ScopeSpec)


class GrantSpec(_Strict):
    role: Name
    teams: list[Name] = Field(default_factory=list)
    services: list[Name] = Field(default_factory=list)


class PolicySpec(_Strict):
    roles: dict[Name, RoleSpec] = Field(default_factory=dict)
    groups: dict[Name, list[Member]] = Field(default_factory=dict)
    principals: dict[Key, list[Annotated[GrantSpec, _wrap("role")]]] = Field(
        default_factory=dict)


def configured(path: Path | None) -> Policy:
    """The file at ``path`` (a service's ``REASONOPS_POLICY``), else the built-in policy."""
    return Policy.default() if path is None else load_policy(path)


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file; ``PolicyError`` names file, line, field, reason."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise PolicyError(str(path), None, "(file)", f"cannot read: {exc}") from None
    return parse(text, str(path))


def parse(text: str, file: str) -> Policy:
    """Validate a policy file's text into a ``Policy``."""
    root, data = read_mapping(text, file, PolicyError, "a mapping with roles and principals")
    try:
        spec = PolicySpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [p for p in error["loc"] if _is_path(p)]
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}" if loc else message
        raise PolicyError(file, line_of(root, loc), dotted(loc) or "(file)", message) from None
    _check_references(spec, file, root)
    return _build(spec, file)


def _check_references(spec: PolicySpec, file: str, root: yaml.Node | None) -> None:
    for key, grants in spec.principals.items():
        if key.startswith("group:") and key[6:] not in spec.groups:
            defined = ", ".join(sorted(spec.groups)) or "none"
            raise PolicyError(file, line_of(root, ["principals", key]), f"principals.{key}",
                              f"group {key[6:]!r} is not defined under groups "
                              f"(defined: {defined})")
        for i, grant in enumerate(grants):
            if grant.role not in spec.roles:
                loc: list[Any] = ["principals", key, i]
                defined = ", ".join(sorted(spec.roles)) or "none"
                raise PolicyError(file, line_of(root, loc), dotted([*loc, "role"]),
                                  f"role {grant.role!r} is not defined under roles "
                                  f"(defined: {defined})")


def _build(spec: PolicySpec, file: str) -> Policy:
    roles = [Role(name, tuple(Rule(tuple(r.actions), r.approval) for r in role.allow),
                  Scope(frozenset(role.scope.teams), frozenset(role.scope.services)),
                  role.description)
             for name, role in spec.roles.items()]
    principals = {key: tuple(Grant(g.role, Scope(frozenset(g.teams), frozenset(g.services)))
                             for g in grants)
                  for key, grants in spec.principals.items()}
    groups = {name: frozenset(members) for name, members in spec.groups.items()}
    return Policy(roles, principals, groups, source=Path(file).name)


def _is_path(part: object) -> bool:
    # pydantic adds validator and key markers (e.g. "[key]", "function-after[...]") to loc
    return isinstance(part, int) or (isinstance(part, str) and "[" not in part)


