"""Correlation rules: which alerts make one incident, when it opens and when it resolves.

The rule file is YAML (``REASONOPS_CORRELATION_RULES``), read at start and again
whenever its modification time changes. A file that does not validate is refused with
its path, line, field and reason, and the rules loaded before stay in force.
See docs/guides/incidents.md ("Correlation rules") for the format.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from reasonops_contracts import limits
from reasonops_runtime.durations import whole_seconds
from reasonops_runtime.yaml_source import SourceError, dotted, line_of, read_mapping

from ..matchers import Matcher, parse_matcher

log = logging.getLogger(__name__)

ResolveOn = Literal["first", "last", "all", "never"]
AssignmentSource = Literal["rule", "catalog", "triage"]
DEFAULT_PRECEDENCE: tuple[AssignmentSource, ...] = ("rule", "catalog", "triage")
DEFAULT_GROUP_BY = ("sender_group",)
"""Alerts the sender sent as one group (an Alertmanager or Grafana ``groupKey``) are one
incident; an alert the sender did not group is its own."""


class ConfigError(SourceError):
    """A rule file is wrong: which file, which line and field, and why."""


# -- what the file may say (validated at the edge) ------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Duration = Annotated[int, BeforeValidator(whole_seconds)]


def _matcher_text(value: str) -> str:
    parse_matcher(value)
    return value


MatcherText = Annotated[str, AfterValidator(_matcher_text)]


class FlappingSpec(_Strict):
    changes: int = Field(default=4, ge=1, description="More state changes than this = flapping")
    window: Duration = 600


class CreateOnSpec(_Strict):
    alerts: int | None = Field(default=None, ge=1)
    resources: int | None = Field(default=None, ge=1)


class RuleSpec(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    match: list[MatcherText] = Field(default_factory=list)
    match_any: list[MatcherText] = Field(default_factory=list)
    group_by: list[str] = Field(default_factory=lambda: ["fingerprint"], min_length=1)
    window: Duration = 300
    create_on: Literal["first"] | CreateOnSpec = "first"
    resolve_on: ResolveOn = "all"
    assign_to: str | None = Field(default=None, min_length=1, max_length=128)
    flapping: FlappingSpec | None = None

    @field_validator("create_on")
    @classmethod
    def _one_threshold(cls, value: object) -> object:
        if isinstance(value, CreateOnSpec) and (value.alerts is None) == (value.resources is None):
            raise ValueError("give exactly one of alerts: N or resources: N")
        return value


class DefaultSpec(_Strict):
    group_by: list[str] = Field(default_factory=lambda: list(DEFAULT_GROUP_BY), min_length=1)
    window: Duration = 300
    resolve_on: ResolveOn = "all"
    assign_to: str | None = None


class LevelSpec(_Strict):
    after: Duration
    to: str = Field(min_length=1, max_length=128)


class AssignmentSpec(_Strict):
    precedence: list[AssignmentSource] = Field(default_factory=lambda: list(DEFAULT_PRECEDENCE),
                                               min_length=1)

    @field_validator("precedence")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("each source may be named once")
        return values


class ProblemSpec(_Strict):
    recurrence: int = Field(default=3, ge=2, description="Incidents of one group that make a "
                                                          "problem")
    within: Duration = 7 * 86400


class RuleFileSpec(_Strict):
    rules: list[RuleSpec] = Field(default_factory=list)
    default: DefaultSpec = Field(default_factory=DefaultSpec)
    flapping: FlappingSpec = Field(default_factory=FlappingSpec)
    assignment: AssignmentSpec = Field(default_factory=AssignmentSpec)
    escalation: dict[str, list[LevelSpec]] = Field(default_factory=dict)
    problems: ProblemSpec = Field(default_factory=ProblemSpec)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[RuleSpec]) -> list[RuleSpec]:
        seen: set[str] = set()
        for i, rule in enumerate(rules):
            if rule.name in seen or rule.name == "default":
                raise ValueError(f"rules[{i}].name: {rule.name!r} is used twice or reserved")
            seen.add(rule.name)
        return rules

    @field_validator("escalation")
    @classmethod
    def _increasing(cls, policies: dict[str, list[LevelSpec]]) -> dict[str, list[LevelSpec]]:
        for team, levels in policies.items():
            if not levels:
                raise ValueError(f"{team}: give at least one level")
            times = [level.after for level in levels]
            if times != sorted(set(times)):
                raise ValueError(f"{team}: 'after' must increase from level to level")
        return policies


# -- what the domain works with ----------------------------------------------------------------

@dataclass(frozen=True)
class Flapping:
    changes: int
    window: int


@dataclass(frozen=True)
class Rule:
    name: str
    matchers: tuple[Matcher, ...] = ()
    any_of: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] = ("fingerprint",)
    window: int = 300
    create_on: Literal["first", "alerts", "resources"] = "first"
    threshold: int = 1
    resolve_on: ResolveOn = "all"
    assign_to: str | None = None
    flapping: Flapping = Flapping(4, 600)

    def matches(self, fields: dict[str, str]) -> bool:
        return all(m(fields) for m in self.matchers) and (
            not self.any_of or any(m(fields) for m in self.any_of))

    def group_key(self, fields: dict[str, str]) -> str:
        key = self.name + ":" + ",".join(f"{k}={fields.get(k, '')}" for k in self.group_by)
        return limits.key(key, limits.GROUP_KEY)  # a digest when longer than storage keeps

    @property
    def create_text(self) -> str:
        return "first" if self.create_on == "first" else f"{self.threshold} {self.create_on}"


@dataclass(frozen=True)
class Level:
    after: int
    to: str


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = (Rule("default", group_by=DEFAULT_GROUP_BY),)
    precedence: tuple[str, ...] = DEFAULT_PRECEDENCE
    escalation: dict[str, tuple[Level, ...]] = field(default_factory=dict)
    problem_recurrence: int = 3
    problem_within: int = 7 * 86400

    def rule_for(self, fields: dict[str, str]) -> Rule:
        for rule in self.rules:
            if rule.matches(fields):
                return rule
        return self.rules[-1]

    def by_name(self, name: str | None) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


def build(spec: RuleFileSpec) -> RuleSet:
    flap = Flapping(spec.flapping.changes, spec.flapping.window)
    rules = []
    for r in spec.rules:
        create = r.create_on
        kind, threshold = ("first", 1) if not isinstance(create, CreateOnSpec) else (
            ("alerts", create.alerts) if create.alerts else ("resources", create.resources or 1))
        rules.append(Rule(
            name=r.name, matchers=tuple(parse_matcher(m) for m in r.match),
            any_of=tuple(parse_matcher(m) for m in r.match_any), group_by=tuple(r.group_by),
            window=r.window, create_on=kind, threshold=threshold,  # type: ignore[arg-type]
            resolve_on=r.resolve_on, assign_to=r.assign_to,
            flapping=Flapping(r.flapping.changes, r.flapping.window) if r.flapping else flap))
    d = spec.default
    rules.append(Rule("default", group_by=tuple(d.group_by), window=d.window,
                      resolve_on=d.resolve_on, assign_to=d.assign_to, flapping=flap))
    return RuleSet(
        rules=tuple(rules), precedence=tuple(spec.assignment.precedence),
        escalation={team: tuple(Level(lv.after, lv.to) for lv in levels)
                    for team, levels in spec.escalation.items()},
        problem_recurrence=spec.problems.recurrence, problem_within=spec.problems.within)


def parse(text: str, file: str) -> RuleSet:
    """Validate a rule file's text; ``ConfigError`` names file, line, field and reason."""
    root, data = read_mapping(text, file, ConfigError, "a mapping with a 'rules' list")
    try:
        return build(RuleFileSpec.model_validate(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [p for p in error["loc"] if _is_path(p)]
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(file, line_of(root, loc), dotted(loc) or "(file)", message) from None


def _is_path(part: object) -> bool:
    # pydantic adds union branch names (e.g. "CreateOnSpec", "literal['first']") to loc
    return isinstance(part, int) or (isinstance(part, str) and "[" not in part
                                     and not part[:1].isupper())




class RuleFile:
    """The active rules, reloaded when the file's modification time changes."""

    def __init__(self, path: Path | None, now: Any = None) -> None:
        self.path = path
        self.error: str | None = None
        self.loaded_at: datetime | None = None
        self._mtime: float | None = None
        self._now = now
        self.rules = RuleSet()
        if path is not None:  # at start, a missing or bad file is fatal
            try:
                self._mtime = os.stat(path).st_mtime
                text = path.read_text()
            except OSError as exc:
                raise ConfigError(str(path), None, "(file)",
                                  f"cannot read: {exc.strerror}") from None
            self.rules = parse(text, str(path))
            self.loaded_at = now() if now else None

    def current(self) -> RuleSet:
        """The rules in force, after picking up a changed file (or refusing it)."""
        if self.path is None:
            return self.rules
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError as exc:
            self._refuse(f"{self.path}: cannot read: {exc.strerror}")
            return self.rules
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self.rules = parse(self.path.read_text(), str(self.path))
            except (ConfigError, OSError) as exc:
                self._refuse(str(exc))
            else:
                self.error = None
                self.loaded_at = self._now() if self._now else None
                log.info("correlation rules reloaded", extra={"path": str(self.path)})
        return self.rules

    def _refuse(self, message: str) -> None:
        if message != self.error:
            log.error("correlation rules refused; the previous rules stay active",
                      extra={"error": message})
        self.error = message
