"""Outgoing notifications: webhooks in generic JSON or Slack-compatible form, with retries.

Targets come from a YAML file (``REASONOPS_NOTIFICATIONS``), grouped by audience::

    groups:
      stakeholders:
        - name: status-page
          url: https://status.example.com/hooks/reasonops
          format: json                      # or slack (an incoming-webhook URL)
          headers: {Authorization: "Bearer ${STATUS_TOKEN}"}
          timeout_seconds: 5
          max_attempts: 4

``${NAME}`` in a URL or header value is read from the environment when sending, so
secrets stay out of the file; neither URLs nor headers are ever logged or recorded.
Connection errors, timeouts, 5xx and 429 are retried with exponential backoff (429 and 503
after ``Retry-After`` when the server says so); other 4xx are final. Every attempt's
outcome is in the ``Delivery``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reasonops_runtime.clock import Clock, SystemClock
from reasonops_runtime.http_headers import retry_after

log = logging.getLogger(__name__)

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Notification:
    key: str
    """Idempotency key, e.g. ``<workflow_id>:<step>:<n>``; sent as ``Idempotency-Key``."""
    title: str
    text: str
    severity: str = "info"  # info | warning | critical
    incident_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """What happened to one notification at one target: the record of delivery."""

    target: str
    group: str
    ok: bool
    attempts: int
    status: int | None
    """The last HTTP status; None when no answer came."""
    error: str
    """Why it failed in the end; empty when delivered."""
    at: datetime
    outcomes: tuple[str, ...] = ()
    """Each attempt's outcome, e.g. ``("HTTP 503", "ConnectError", "HTTP 200")``."""


class ConfigError(ValueError):
    """The notifications file is wrong: which file, which key, and why."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file, self.key, self.problem = file, key, problem


class Target(BaseModel):
    """One webhook of a group."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    url: str = Field(min_length=1)
    format: Literal["json", "slack"] = "json"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    max_attempts: int = Field(default=4, ge=1, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60, description="First retry's wait")
    max_backoff_seconds: float = Field(default=30.0, ge=0, le=600,
                                       description="Cap on any wait, Retry-After included")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not _ENV_REF.fullmatch(value) and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL or an ${ENV_VAR} reference")
        return value


class _File(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    groups: dict[str, list[Target]] = Field(default_factory=dict)

    @field_validator("groups", mode="before")
    @classmethod
    def _empty_group_is_a_list(cls, value: Any) -> Any:
        # ``containment:`` with nothing under it is a group with no targets yet.
        if isinstance(value, dict):
            return {k: [] if v is None else v for k, v in value.items()}
        return value


def parse_targets(document: Any, *, file: str) -> dict[str, tuple[Target, ...]]:
    """The groups of a loaded YAML document, or a ConfigError naming the bad key."""
    if document is None:
        return {}
    try:
        parsed = _File.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise ConfigError(file, key, first["msg"]) from None
    groups: dict[str, tuple[Target, ...]] = {}
    for group, targets in parsed.groups.items():
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", group):
            raise ConfigError(file, f"groups.{group}", "group names are lower-case "
                              "letters, digits, - and _")
        names = [t.name for t in targets]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ConfigError(file, f"groups.{group}", f"target names repeat: {dupes}")
        groups[group] = tuple(targets)
    return groups


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", "not found") from None
    except OSError as exc:
        raise ConfigError(str(path), "(file)", f"cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(str(path), "(document)", f"invalid YAML{where}") from None


def json_payload(notification: Notification, sent_at: datetime) -> dict[str, Any]:
    """The generic webhook body."""
    n = notification
    return {"key": n.key, "title": n.title, "text": n.text, "severity": n.severity,
            "incident_id": n.incident_id, "fields": dict(n.fields),
            "sent_at": sent_at.isoformat()}


_ICON = {"critical": ":red_circle:", "warning": ":large_orange_circle:"}


def slack_escape(text: str) -> str:
    """Text from an alert as Slack shows it and nothing more: ``&``, ``<`` and ``>`` are
    Slack's control characters, so ``<!channel>``, ``<@U123>`` and a disguised
    ``<https://evil|docs>`` link written by a sender arrive as plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification, sent_at: datetime) -> dict[str, Any]:
    """An incoming-webhook body: ``text`` for notifications and old clients, ``blocks``
    for the message (Slack caps a header at 150 characters, a section at 3000, 10 fields).
    Every mrkdwn text is escaped (see ``slack_escape``); the header is plain text."""
    n = notification
    icon = _ICON.get(n.severity, ":large_blue_circle:")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": n.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": slack_escape(n.text)[:3000] or " "}},
    ]
    if n.fields:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{slack_escape(k)}*\n{slack_escape(str(v))}"[:2000]}
            for k, v in list(n.fields.items())[:10]]})
    context = " · ".join(x for x in (n.severity, n.incident_id, sent_at.strftime(
        "%Y-%m-%d %H:%M UTC")) if x)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                    "text": slack_escape(context)}]})
    return {"text": f"{icon} {slack_escape(n.title)}: {slack_escape(n.text)}"[:3000],
            "blocks": blocks}



class MissingSecret(LookupError):
    """A target's URL or header cannot be built from the environment."""


def _expand(value: str, env: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1) not in env:
            raise MissingSecret(f"environment variable {match.group(1)} is not set")
        return env[match.group(1)]
    return _ENV_REF.sub(one, value)


class Notifier:
    """Sends a notification to every target of a named group (``stakeholders``...)."""

    def __init__(self, groups: Mapping[str, tuple[Target, ...]] | None = None, *,
                 client: httpx.AsyncClient | None = None, clock: Clock | None = None,
                 sleep: Sleep = asyncio.sleep, env: Mapping[str, str] | None = None) -> None:
        self._groups = dict(groups or {})
        self._untargeted: set[str] = set()
        self._client = client or httpx.AsyncClient(headers={"user-agent": "reasonops"})
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._env: Mapping[str, str] = os.environ if env is None else env
        # httpx logs every request's full URL at INFO, and a webhook URL is often the
        # secret itself (Slack's): keep its request lines out of the service's logs.
        for noisy in ("httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

    @classmethod
    def load(cls, path: Path | None, **kwargs: Any) -> Notifier:
        """The targets in ``path``; no groups (every send a logged no-op) without a file."""
        groups = {} if path is None else parse_targets(_read(path), file=str(path))
        return cls(groups, **kwargs)

    def groups(self) -> list[str]:
        return sorted(self._groups)

    def untargeted(self, group: str) -> None:
        """Say once a process that ``group`` has no targets: a configuration fact, which a
        storm's thousands of notifications to it would otherwise each repeat."""
        if group not in self._untargeted:
            self._untargeted.add(group)
            log.warning("notification group has no targets; its notifications are skipped",
                        extra={"group": group})

    async def send(self, group: str, notification: Notification) -> list[Delivery]:
        targets = self._groups.get(group, ())
        if not targets:
            log.info("notification not sent: group has no targets",
                     extra={"group": group, "key": notification.key})
            return []
        return list(await asyncio.gather(
            *(self._deliver(group, t, notification) for t in targets)))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _deliver(self, group: str, target: Target, notification: Notification
                       ) -> Delivery:
        sent_at = self._clock.now()
        render = slack_payload if target.format == "slack" else json_payload
        body = render(notification, sent_at)
        outcomes: list[str] = []
        try:
            url = _expand(target.url, self._env)
            headers = {k: _expand(v, self._env) for k, v in target.headers.items()}
            if not re.match(r"^https?://[^/\s]+", url):
                raise MissingSecret(f"url of target {target.name} is not an http(s) URL")
        except MissingSecret as exc:
            return self._record(group, target, None, str(exc), outcomes)
        headers["idempotency-key"] = notification.key
        status: int | None = None
        for attempt in range(1, target.max_attempts + 1):
            wait = min(target.backoff_seconds * 2 ** (attempt - 1), target.max_backoff_seconds)
            try:
                response = await self._client.post(url, json=body, headers=headers,
                                                   timeout=target.timeout_seconds)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:  # refused, reset, timeout
                status, outcome, retry = None, exc.__class__.__name__, True
            else:
                status, outcome = response.status_code, f"HTTP {response.status_code}"
                if response.is_success:
                    outcomes.append(outcome)
                    return self._record(group, target, status, "", outcomes)
                retry = status in _RETRY_STATUS
                asked = retry_after(response.headers.get("retry-after"), self._clock.now())
                wait = min(asked, target.max_backoff_seconds) if asked is not None else wait
            outcomes.append(outcome)
            if not retry or attempt == target.max_attempts:
                break
            await self._sleep(wait)
        return self._record(group, target, status, outcomes[-1], outcomes)

    def _record(self, group: str, target: Target, status: int | None, error: str,
                outcomes: list[str]) -> Delivery:
        delivery = Delivery(target=target.name, group=group, ok=not error,
                            attempts=len(outcomes), status=status, error=error,
                            at=self._clock.now(), outcomes=tuple(outcomes))
        level = logging.INFO if delivery.ok else logging.WARNING
        log.log(level, "notification delivered" if delivery.ok else "notification failed",
                extra={"group": group, "target": target.name, "attempts": delivery.attempts,
                       "status": status, "error": error})
        return delivery
