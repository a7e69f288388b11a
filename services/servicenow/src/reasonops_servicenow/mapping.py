"""The mapping file (``REASONOPS_SERVICENOW_MAPPING``): which incidents are kept in step
with ServiceNow, and how their fields become a ServiceNow incident's and come back.
Validated with errors naming file, line, field and reason::

    sync:                       # an incident gets a record when any entry matches
      - {priorities: [1, 2]}
      - {services: [payments-api]}
    fields:                     # ServiceNow field: where its value comes from
      short_description: {from: title, max_length: 160}
      description: {template: "{title}\\n\\nService: {service}\\nReasonOps {incident_id}"}
      impact: {from: impact}
      urgency: {from: urgency}
      state: {from: state, values: {new: "1", acknowledged: "2", on_hold: "3",
                                    resolved: "6", closed: "7"}}
      assignment_group: {from: assignment_group, values: {payments: Payments Support}}
      caller_id: {from: labels.caller}
      close_code: {value: Solution provided, when: [resolved, closed]}
      close_notes: {from: note, default: Resolved in ReasonOps, when: [resolved, closed]}
    inbound: [state, assignment_group, impact, urgency, work_notes]
    work_notes: true            # timeline entries go to ServiceNow as work notes

A value with no entry in its field's ``values`` and no ``default`` is a mapping error: the
record is written without that field and the error is reported with the field and the
incident. ``correlation_id`` and ``correlation_display`` are the sync's own (they find a
record again) and may not be mapped.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reasonops_contracts.incidents import IncidentView
from reasonops_runtime.yaml_source import SourceError, dotted, line_of, read_mapping

SOURCES = ("incident_id", "title", "state", "service", "resource", "severity", "impact",
           "urgency", "priority", "assignment_group", "note", "opened_at", "major")
"""What a field may come ``from`` (and a template may name), besides ``labels.<name>``."""
STATES = ("new", "acknowledged", "on_hold", "resolved", "closed")
Inbound = Literal["state", "assignment_group", "impact", "urgency", "work_notes"]
INBOUND: tuple[Inbound, ...] = ("state", "assignment_group", "impact", "urgency",
                                "work_notes")
OWN_FIELDS = ("correlation_id", "correlation_display", "sys_id", "number")
CORRELATION_DISPLAY = "ReasonOps"
NOTE_MARK = "[ReasonOps "
"""How a work note the sync wrote begins (``[ReasonOps INC0000001 #4-6]``): found in the
journal so it is neither written twice nor read back as a person's note."""


class MappingError(SourceError):
    """The mapping file is wrong: which file, which line and field, and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Selector(_Strict):
    """Matches an incident when every key given matches."""

    priorities: list[int] | None = Field(default=None, min_length=1)
    services: list[str] | None = Field(default=None, min_length=1)
    assignment_groups: list[str] | None = Field(default=None, min_length=1)
    major: bool | None = None

    def matches(self, view: IncidentView) -> bool:
        return ((self.priorities is None or view.priority in self.priorities)
                and (self.services is None or view.service in self.services)
                and (self.assignment_groups is None
                     or view.assignment_group in self.assignment_groups)
                and (self.major is None or view.major == self.major))

    def describe(self) -> str:
        parts = [f"P{'/P'.join(map(str, self.priorities))}" if self.priorities else "",
                 f"services {', '.join(self.services)}" if self.services else "",
                 f"groups {', '.join(self.assignment_groups)}"
                 if self.assignment_groups else "",
                 ("major" if self.major else "not major") if self.major is not None else ""]
        return " and ".join(p for p in parts if p) or "every incident"


class FieldSpec(_Strict):
    from_: str | None = Field(default=None, alias="from")
    template: str | None = None
    value: str | None = None
    values: dict[str, str] | None = None
    default: str | None = None
    when: list[Literal["new", "acknowledged", "on_hold", "resolved", "closed"]] | None = None
    max_length: int | None = Field(default=None, ge=1)

    @field_validator("values", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @field_validator("value", "default", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return value if value is None else str(value)


class MappingSpec(_Strict):
    sync: list[Selector] = Field(default_factory=lambda: [Selector(priorities=[1, 2])])
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    inbound: list[Inbound] = Field(default_factory=lambda: list(INBOUND))
    work_notes: bool = True


DEFAULT_FIELDS: dict[str, dict[str, Any]] = {
    "short_description": {"from": "title", "max_length": 160},
    "description": {"template": "{title}\n\nService: {service}\nResource: {resource}\n"
                                "Opened: {opened_at}\nReasonOps incident {incident_id}"},
    "impact": {"from": "impact"},
    "urgency": {"from": "urgency"},
    "state": {"from": "state", "values": {"new": "1", "acknowledged": "2", "on_hold": "3",
                                          "resolved": "6", "closed": "7"}},
    "assignment_group": {"from": "assignment_group"},
    "caller_id": {"from": "labels.caller"},
    "close_code": {"value": "Solution provided", "when": ["resolved", "closed"]},
    "close_notes": {"from": "note", "default": "Resolved in ReasonOps",
                    "when": ["resolved", "closed"]},
}


@dataclass(frozen=True)
class Problem:
    field: str
    problem: str


@dataclass(frozen=True)
class FieldMapping:
    spec: MappingSpec
    source: str

    @property
    def fields(self) -> dict[str, FieldSpec]:
        return self.spec.fields

    def chooses(self, view: IncidentView) -> bool:
        return any(s.matches(view) for s in self.spec.sync)

    def rules(self) -> list[str]:
        return [s.describe() for s in self.spec.sync]

    def inbound(self, name: str) -> bool:
        return name in self.spec.inbound

    def tracked(self) -> list[str]:
        """The fields whose ServiceNow value a link keeps: mapped out or read back."""
        return [*self.spec.fields, *(f for f in self.spec.inbound
                                     if f != "work_notes" and f not in self.spec.fields)]

    def outbound(self, view: IncidentView) -> tuple[dict[str, str], list[Problem]]:
        """The ServiceNow fields ``view`` makes, and the fields it could not make."""
        values = _values_of(view)
        out: dict[str, str] = {}
        problems: list[Problem] = []
        for name, spec in self.spec.fields.items():
            if spec.when is not None and view.state not in spec.when:
                continue
            if spec.value is not None:
                value: str | None = spec.value
            elif spec.template is not None:
                value = string.Formatter().vformat(spec.template, (), _Blank(values))
            else:
                value = values.get(spec.from_ or "")
            if value in (None, "") and spec.default is None:
                continue
            if value not in (None, "") and spec.values is not None:
                mapped = spec.values.get(str(value))
                if mapped is None and spec.default is None:
                    problems.append(Problem(name, (
                        f"no ServiceNow value for {spec.from_} {value!r} (the mapping has "
                        f"{', '.join(sorted(spec.values)) or 'none'}; add it, or a default)")))
                    continue
                value = mapped
            value = spec.default if value in (None, "") else value
            assert value is not None
            out[name] = value[:spec.max_length] if spec.max_length else value
        return out, problems

    def local_value(self, name: str, remote: str) -> str | None:
        """The ReasonOps value of ServiceNow field ``name``'s ``remote`` value (reverse of
        its ``values``; as it is, without), or None when nothing maps to it."""
        spec = self.spec.fields.get(name)
        if spec is None or spec.values is None:
            return remote
        found = [local for local, theirs in spec.values.items() if theirs == remote]
        return found[0] if found else None


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _values_of(view: IncidentView) -> dict[str, str]:
    data = view.model_dump(mode="json")
    values = {name: "" if data.get(name) is None else str(data[name]) for name in SOURCES}
    values["major"] = "true" if view.major else "false"
    for key, value in view.labels.items():
        values[f"labels.{key}"] = value
    return values


def parse(text: str, file: str) -> FieldMapping:
    root, data = read_mapping(text, file, MappingError, "a mapping with sync, fields and "
                              "inbound")
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise MappingError(file, line_of(root, error["loc"]), dotted(error["loc"]) or "(file)",
                           error["msg"]) from None
    if not spec.fields:
        spec = spec.model_copy(update={"fields": {
            k: FieldSpec.model_validate(v) for k, v in DEFAULT_FIELDS.items()}})
    for name, field in spec.fields.items():
        loc: list[Any] = ["fields", name]
        where = line_of(root, loc)
        if name in OWN_FIELDS:
            raise MappingError(file, where, f"fields.{name}", "set by the sync itself (it "
                               "finds a record again by it); it may not be mapped")
        given = [k for k in ("from_", "template", "value") if getattr(field, k) is not None]
        if len(given) != 1:
            raise MappingError(file, where, f"fields.{name}",
                               "give exactly one of from, template and value")
        if field.from_ is not None and not _known(field.from_):
            raise MappingError(file, line_of(root, [*loc, "from"]), f"fields.{name}.from",
                               f"unknown {field.from_!r}; one of {', '.join(SOURCES)}, "
                               "or labels.<name>")
        if field.template is not None:
            for _, named, _, _ in string.Formatter().parse(field.template):
                if named is not None and named not in SOURCES:
                    raise MappingError(file, line_of(root, [*loc, "template"]),
                                       f"fields.{name}.template",
                                       f"unknown {{{named}}}; one of {', '.join(SOURCES)}")
    for name in spec.inbound:
        if name != "work_notes" and name not in spec.fields:
            raise MappingError(file, line_of(root, ["inbound"]), "inbound",
                               f"{name} comes back from ServiceNow but is not in fields")
    return FieldMapping(spec, file)


def _known(source: str) -> bool:
    return source in SOURCES or (source.startswith("labels.") and len(source) > 7)


def load(path: Path | None) -> FieldMapping:
    """The file's mapping, or the built-in one (P1-P2, the default fields) without one."""
    if path is None:
        return parse("{}", "(built-in mapping)")
    try:
        text = path.read_text()
    except OSError as exc:
        raise MappingError(str(path), None, "(file)", f"cannot read: {exc.strerror}") from None
    return parse(text, str(path))
