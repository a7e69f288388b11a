"""Scenario scripts: what a scenario sends, does and expects, read from YAML and checked.

A script is a list of steps run in order. Each step waits ``after`` seconds of script
time (divided by ``--speed``) and then does one thing: ``send`` a payload to one of
ingest's HTTP endpoints, ``wait`` for ReasonOps to do something, or ``act`` as a
person through the CLI. ``expect`` names the key steps the timeline report must show.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reasonops_runtime.durations import parse_duration

Format = Literal["alertmanager", "grafana", "pagerduty", "change", "cloudevents",
                 "cloudevents-batch", "event"]
Command = Literal["ack", "resolve", "close", "assign", "comment", "major", "approve",
                  "reject"]
_NAME = r"^[a-z][a-z0-9-]{0,62}$"


def seconds(value: Any) -> Any:
    """``2``, ``2.5``, ``"500ms"``, ``"3s"``, ``"1m"`` -> seconds (``durations``); anything
    else is left to the field's own validation, which names it."""
    try:
        return parse_duration(value, zero=True)
    except ValueError:
        return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Send(Strict):
    """One request to ingest; ``${KEY}``, ``${RUN}``, ``${NOW}``, ``${I}`` are filled in."""

    format: Format
    body: dict[str, Any] | list[Any]
    count: int = Field(default=1, ge=1, le=5000,
                       description="cloudevents-batch: events made from body, ${I} = 1..count")
    batch: int = Field(default=100, ge=1, le=1000, description="Events per request")
    label: str = Field(min_length=1, max_length=200, description="What the report says")


class IncidentMatch(Strict):
    service: str | None = None
    text: str | None = Field(default=None, description="In the title (case-insensitive)")
    priority: int | None = Field(default=None, ge=1, le=5)


class Wait(Strict):
    """Poll until ReasonOps did something; on timeout the step is reported not observed."""

    incident: str = Field(default="primary", pattern=_NAME,
                          description="The name the scenario gives the incident")
    opened: IncidentMatch | None = Field(
        default=None, description="An incident opened since the start; binds the name")
    state: list[Literal["new", "acknowledged", "on_hold", "resolved", "closed"]] | None = None
    major: bool | None = None
    workflow_step: str | None = Field(default=None, min_length=1, max_length=64)
    step_states: list[Literal["waiting", "retrying", "completed", "skipped", "failed",
                              "cancelled"]] = Field(
        default=["waiting", "completed"], min_length=1,
        description="With workflow_step: the states that count")
    proposal: str | None = Field(default=None, min_length=1, max_length=64,
                                 description="An agent proposal of this action")
    ledger: Literal["penalty", "incident_cost"] | None = None
    timeout: float = Field(default=20.0, gt=0, le=600)
    label: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_condition(self) -> Wait:
        given = [n for n in ("opened", "state", "major", "workflow_step", "proposal", "ledger")
                 if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of opened, state, major, workflow_step, "
                             f"proposal, ledger (got {', '.join(given) or 'none'})")
        return self


class Act(Strict):
    """What a person does, through the same ``reasonops`` command they would type."""

    command: Command
    incident: str = Field(default="primary", pattern=_NAME)
    all: bool = Field(default=False, description="Every incident the scenario opened")
    actor: str = Field(default="user:operator", min_length=1, max_length=128)
    note: str | None = Field(default=None, max_length=1000)
    group: str | None = Field(default=None, min_length=1, max_length=128)
    step: str | None = Field(default=None, min_length=1, max_length=128)
    label: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _arguments(self) -> Act:
        if self.command == "assign" and not self.group:
            raise ValueError("assign needs group")
        if self.command == "comment" and not self.note:
            raise ValueError("comment needs note")
        if self.command in ("approve", "reject") and not self.step:
            raise ValueError(f"{self.command} needs step (the workflow step to decide)")
        return self


Delay = Annotated[float, Field(ge=0, le=3600)]


class Step(Strict):
    after: Delay = 0.0
    send: Send | None = None
    wait: Wait | None = None
    act: Act | None = None

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, data: Any) -> Any:
        if isinstance(data, dict) and "after" in data:
            data = {**data, "after": seconds(data["after"])}
        if isinstance(data, dict) and isinstance(data.get("wait"), dict) \
                and "timeout" in data["wait"]:
            data = {**data, "wait": {**data["wait"], "timeout": seconds(data["wait"]["timeout"])}}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        given = [n for n in ("send", "wait", "act") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"a step is one of send, wait, act (got {', '.join(given) or 'none'})")
        return self


class Expect(Strict):
    """A key step of the report: a trail entry whose type starts with ``type`` (without the
    ``itsm.`` prefix and version) and, if given, whose text matches ``text``."""

    step: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _regex(self) -> Expect:
        if self.text is not None:
            try:
                re.compile(self.text)
            except re.error as exc:
                raise ValueError(f"text is not a regular expression: {exc}") from None
        return self


class Script(Strict):
    name: str = Field(pattern=_NAME)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    services: list[str] = Field(min_length=1, description="Incidents on these are the scenario's")
    steps: list[Step] = Field(min_length=1)
    expect: list[Expect] = Field(default_factory=list)


class ScriptError(Exception):
    """A script that cannot run, with where and why."""


def parse_script(text: str, origin: str) -> Script:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ScriptError(f"{origin}:{where} not YAML: "
                          f"{getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise ScriptError(f"{origin}: a scenario is a mapping with name, title, services, "
                          "steps")
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ScriptError(f"{origin}: {where}: {first['msg']}{more}") from None


def load_script(path: Path) -> Script:
    try:
        return parse_script(path.read_text(), str(path))
    except FileNotFoundError:
        raise ScriptError(f"no such scenario file: {path}") from None


def builtin() -> dict[str, str]:
    """The scenarios that ship with ReasonOps: name -> YAML text."""
    folder = resources.files("reasonops_cli") / "scenarios"
    return {entry.name.removesuffix(".yaml"): entry.read_text()
            for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".yaml")}


def find(name_or_path: str) -> Script:
    """A built-in scenario by name, or a script file by path."""
    scripts = builtin()
    if name_or_path in scripts:
        script = parse_script(scripts[name_or_path], f"{name_or_path}.yaml")
        return script
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_script(path)
    raise ScriptError(f"unknown scenario {name_or_path!r}; built in: {', '.join(scripts)} "
                      "(or give a YAML file)")
