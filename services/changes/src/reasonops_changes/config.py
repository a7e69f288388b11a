"""The change file (``REASONOPS_CHANGES``): pre-approved templates for standard changes,
freeze windows, and how long after a change an incident on its services is linked to
it. Validated with errors naming file, line, field and reason::

    templates:
      tls-certificate-rotation:
        title: Rotate the TLS certificate
        services: [checkout, auth]      # where it may be used
        duration: 30m
        implementation_plan: Issue, deploy, reload the ingress
        backout_plan: Put the previous certificate back
    freezes:
      - name: year-end
        start: 2026-12-20T00:00:00Z
        end: 2027-01-04T00:00:00Z
        services: []                    # empty: every service
        reason: year-end trading
    link_window: 2h
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reasonops_runtime.durations import parse_duration
from reasonops_runtime.yaml_source import SourceError, dotted, line_of, read_mapping


class ChangeFileError(SourceError):
    """The change file is wrong: which file, which line and field, and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateSpec(_Strict):
    title: str = Field(min_length=1, max_length=256)
    services: list[str] = Field(min_length=1)
    duration: timedelta
    implementation_plan: str = Field(min_length=1)
    backout_plan: str = Field(min_length=1)

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return timedelta(seconds=parse_duration(value))


class FreezeSpec(_Strict):
    name: str = Field(min_length=1, max_length=64)
    start: datetime
    end: datetime
    services: list[str] = Field(default_factory=list)
    reason: str = ""

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time zone (Z or +01:00)")
        return value

    def covers(self, service: str) -> bool:
        return not self.services or service in self.services


class ChangeFileSpec(_Strict):
    templates: dict[str, TemplateSpec] = Field(default_factory=dict)
    freezes: list[FreezeSpec] = Field(default_factory=list)
    link_window: timedelta = timedelta(hours=2)

    @field_validator("link_window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> timedelta:
        return value if isinstance(value, timedelta) else timedelta(
            seconds=parse_duration(value))


@dataclass(frozen=True)
class ChangeFile:
    spec: ChangeFileSpec
    source: str


def parse(text: str, file: str) -> ChangeFile:
    root, data = read_mapping(text, file, ChangeFileError, "a mapping with templates, "
                              "freezes and link_window")
    try:
        spec = ChangeFileSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ChangeFileError(file, line_of(root, error["loc"]), dotted(error["loc"])
                              or "(file)", error["msg"]) from None
    for i, freeze in enumerate(spec.freezes):
        if freeze.end <= freeze.start:
            raise ChangeFileError(file, line_of(root, ["freezes", i, "end"]),
                                  f"freezes[{i}].end", "must be after start")
    return ChangeFile(spec, file)


def load(path: Path | None) -> ChangeFile:
    """The file's templates and freezes; none without a file."""
    if path is None:
        return parse("{}", "(no change file)")
    try:
        text = path.read_text()
    except OSError as exc:
        raise ChangeFileError(str(path), None, "(file)", f"cannot read: {exc.strerror}"
                              ) from None
    return parse(text, str(path))
